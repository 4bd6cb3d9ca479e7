import { fileURLToPath } from 'node:url'
import { startChat } from './server'

const port = Number(process.env.PORT ?? 3000)
// Set: this process is one of several sharing that Redis (`pnpm start:cluster`). Unset: one process, nothing to install.
const redisUrl = process.env.REDIS_URL === '' ? undefined : process.env.REDIS_URL
const presenceTtlMs = process.env.PRESENCE_TTL_MS === undefined ? undefined : Number(process.env.PRESENCE_TTL_MS)
const dataDir = process.env.DATA_DIR ?? fileURLToPath(new URL('../.data', import.meta.url))
const chat = await startChat({ port, host: process.env.HOST, dataDir, redisUrl, presenceTtlMs })
const kept = redisUrl === undefined ? `messages kept in ${dataDir}` : `messages kept in Redis at ${redisUrl}`
console.log(`chat: open ${chat.url} in two windows (RPC endpoint ${chat.rpcUrl}; ${kept}; pid ${process.pid})`)
console.log('chat: stop me with Ctrl-C and start me again: the pages reconnect and catch up')

// A restart, as a deploy would do it: pages are told when to come back, and resume where they left off.
// A second Ctrl-C while this runs ends the process at once (the default action: the listeners are `once`).
const stop = () => {
  console.log('chat: restarting: pages will reconnect and catch up')
  void chat.close({ graceMs: 2_000, reconnectWindowMs: 1_000 }).then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
