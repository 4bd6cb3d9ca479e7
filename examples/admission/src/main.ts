import { startAdmission } from './server'

const port = Number(process.env.PORT ?? 3003)
const admission = await startAdmission({ port })
console.log(`admission: open ${admission.url} (RPC endpoint ${admission.rpcUrl})`)

const stop = () => {
  void admission.close().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
