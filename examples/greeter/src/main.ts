import { startGreeter } from './server'

const port = Number(process.env.PORT ?? 3000)
const greeter = await startGreeter({ port })
console.log(`greeter: open ${greeter.url} (RPC endpoint ${greeter.rpcUrl}); try "pnpm --filter @wirecall/example-greeter call" too`)

const stop = () => {
  void greeter.close().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
