import { fileURLToPath } from 'node:url'
import { startLiveChat } from './server'

const port = Number(process.env.PORT ?? 3004)
const dataDir = process.env.DATA_DIR ?? fileURLToPath(new URL('../.data', import.meta.url))
const chat = await startLiveChat({ port, host: process.env.HOST, dataDir })
console.log(`live-react: open ${chat.url} (RPC endpoint ${chat.rpcUrl}; messages kept in ${dataDir})`)
console.log('live-react: stop me with Ctrl-C (or kill -9) and start me again: the pages keep their data and catch up')

// A restart, as a deploy would do it: pages are told when to come back, and resume where they left off.
// A second Ctrl-C while this runs ends the process at once (the default action: the listeners are `once`).
const stop = () => {
  console.log('live-react: restarting: pages will reconnect and catch up')
  void chat.close({ graceMs: 2_000, reconnectWindowMs: 1_000 }).then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
