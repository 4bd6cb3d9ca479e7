import { createRpcClient } from '@wirecall/client'
import WebSocket from 'ws'
import type { AppRouter } from './router'

// Node 20 has no global WebSocket: pass the one from `ws`. (Node 22+ and browsers need nothing.)
const api = createRpcClient<AppRouter>({
  url: process.env.RPC_URL ?? 'ws://localhost:3001/rpc',
  WebSocket,
  reconnect: { minDelayMs: 200, maxDelayMs: 2_000 },
})

const time = (date: Date) => date.toISOString().slice(11, 23)
let reconnects = 0
let last: number | undefined

console.log(`[${api.$connection.state}]`)
api.$connection.on('state', (state) => console.log(`[${state}]`))
api.$connection.on('reconnect', ({ attempt, delayMs }) => {
  reconnects++
  console.log(`  reconnect #${reconnects} (attempt ${attempt}) in ${Math.round(delayMs)} ms`)
})
api.$connection.on('restart', ({ delayMs }) => console.log(`  the server is restarting; back in ${delayMs} ms`))

const sub = api.ticks.subscribe(undefined, {
  onStarted: () => console.log(`  subscribed, after tick ${sub.lastEventId ?? '?'}`),
  onData: (tick) => {
    const late = Date.now() - tick.at.getTime()
    const gap = last !== undefined && tick.n !== last + 1 ? `  GAP after ${last}!` : ''
    last = tick.n
    console.log(`tick ${tick.n} at ${time(tick.at)}${late > 500 ? ` (replayed, ${(late / 1_000).toFixed(1)} s late)` : ''}${gap}`)
  },
  onResync: () => {
    last = undefined // ticks were skipped on purpose: do not count it as a gap
    console.log('  resync: missed too many ticks to replay; going on from now')
  },
  onError: (error) => console.log(`  subscription ended: ${error.code}: ${error.message}`),
  onComplete: () => console.log('  subscription completed by the server'),
})

// While the subscription is live the client keeps this process running, reconnects included;
// unsubscribing and closing let it exit.
const stop = () => {
  sub.unsubscribe()
  void api.$connection.close().then(() => process.exit(0))
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
