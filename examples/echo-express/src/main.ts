import { startEchoExpress } from './server'

const port = Number(process.env.PORT ?? 3002)
const echo = await startEchoExpress({ port })
console.log(`echo-express: open ${echo.url} (RPC endpoint ${echo.rpcUrl})`)

const stop = () => {
  void echo.close().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
