import { createRpcClient } from '@wirecall/client'
import type { AppRouter } from './router'

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const MAX_ROWS = 50

const api = createRpcClient<AppRouter>({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc`,
  reconnect: { minDelayMs: 200, maxDelayMs: 2_000 },
})

// The connection state, as it changes.
const state = $<HTMLSpanElement>('state')
const showState = (s: string) => {
  state.textContent = s
  state.dataset.state = s
}
showState(api.$connection.state)
api.$connection.on('state', showState)

// How many reconnect attempts the client has scheduled, and why.
const reconnects = $<HTMLElement>('reconnects')
const note = $<HTMLElement>('note')
let reconnectCount = 0
api.$connection.on('reconnect', ({ attempt, delayMs }) => {
  reconnects.textContent = String(++reconnectCount)
  note.textContent = `reconnecting (attempt ${attempt}) in ${Math.round(delayMs)} ms`
})
api.$connection.on('restart', ({ delayMs }) => {
  note.textContent = `the server is restarting; coming back in ${delayMs} ms`
})

// Every tick, newest first. Ticks that arrive well after their time were replayed: missed while disconnected.
const list = $<HTMLOListElement>('ticks')
const gaps = $<HTMLElement>('gaps')
let gapCount = 0
let last: number | undefined

function addRow(text: string, className?: string): void {
  const row = document.createElement('li')
  row.textContent = text
  if (className !== undefined) row.className = className
  list.prepend(row)
  while (list.children.length > MAX_ROWS) list.lastElementChild!.remove()
}

api.ticks.subscribe(undefined, {
  onStarted: () => {
    note.textContent = 'live'
  },
  onData: (tick) => {
    if (last !== undefined && tick.n !== last + 1) gaps.textContent = String(++gapCount) // never happens: that is the point
    last = tick.n
    const lateMs = Date.now() - tick.at.getTime()
    const replayed = lateMs > 500
    addRow(`#${tick.n}  ${tick.at.toLocaleTimeString()}${replayed ? `  (caught up, ${(lateMs / 1_000).toFixed(1)} s late)` : ''}`, replayed ? 'replayed' : undefined)
    if (!replayed) note.textContent = 'live'
  },
  onResync: () => {
    last = undefined // skipped on purpose, not a gap
    addRow('… missed more ticks than the server replays; going on from now', 'resync')
  },
  onError: (error) => {
    note.textContent = `stopped: ${error.code}: ${error.message}`
  },
  onComplete: () => {
    note.textContent = 'ended by the server'
  },
})
