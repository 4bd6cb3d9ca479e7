import { startTicker } from './server'

const port = Number(process.env.PORT ?? 3001)
const tickMs = Number(process.env.TICK_MS ?? 2_000)
const ticker = await startTicker({ port, tickMs })
console.log(`ticker: open ${ticker.url} (RPC endpoint ${ticker.rpcUrl}, a tick every ${tickMs} ms)`)
console.log('ticker: try "pnpm --filter @wirecall/example-ticker watch" too; stop me with Ctrl-C and start me again')

// A restart, as a deploy would do it: clients are told to come back, and resume where they left off.
// A second Ctrl-C while this runs ends the process at once (the default action: the listeners are `once`).
const stop = () => {
  console.log('ticker: restarting: clients will reconnect and catch up')
  void ticker.close({ graceMs: 2_000, reconnectWindowMs: 1_000 }).then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
