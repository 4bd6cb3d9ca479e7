import { fileURLToPath } from 'node:url'
import { startChat } from './server'

const port = Number(process.env.PORT ?? 3000)
const dataDir = process.env.DATA_DIR ?? fileURLToPath(new URL('../.data', import.meta.url))
const chat = await startChat({ port, host: process.env.HOST, dataDir })
console.log(`chat: open ${chat.url} in two windows (RPC endpoint ${chat.rpcUrl}; messages kept in ${dataDir})`)
console.log('chat: stop me with Ctrl-C and start me again: the pages reconnect and catch up')

// A restart, as a deploy would do it: pages are told when to come back, and resume where they left off.
// A second Ctrl-C while this runs ends the process at once (the default action: the listeners are `once`).
const stop = () => {
  console.log('chat: restarting: pages will reconnect and catch up')
  void chat.close({ graceMs: 2_000, reconnectWindowMs: 1_000 }).then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
