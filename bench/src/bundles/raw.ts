/**
 * Bundle entry: the small app every library's entry does (a client to
 * ws://host/rpc, one query, one mutation, one subscription, the connection
 * state), written by hand over the browser's WebSocket: JSON, an id per call
 * and a Map of pending calls. No reconnect, no queue, no types from the
 * server: the baseline the other bundles are compared with.
 */

type Pending = { resolve: (result: unknown) => void; reject: (error: Error) => void; onEvent?: (event: unknown) => void }

const ws = new WebSocket(`ws://${location.host}/rpc`)
const pending = new Map<number, Pending>()
let nextId = 0
const out = document.createElement('pre')
document.body.append(out)
const show = (value: unknown) => (out.textContent += `${String(value)}\n`)

function send(op: string, input: unknown, onEvent?: (event: unknown) => void): Promise<unknown> {
  const id = nextId++
  return new Promise((resolve, reject) => {
    pending.set(id, onEvent === undefined ? { resolve, reject } : { resolve, reject, onEvent })
    const write = () => ws.send(JSON.stringify({ id, op, input }))
    if (ws.readyState === WebSocket.OPEN) write()
    else ws.addEventListener('open', write, { once: true })
  })
}

ws.onmessage = (message) => {
  const data = JSON.parse(String(message.data)) as { id: number; result?: unknown; event?: unknown; error?: string }
  const call = pending.get(data.id)
  if (call === undefined) return
  if ('event' in data) return call.onEvent?.(data.event)
  pending.delete(data.id)
  if (data.error !== undefined) call.reject(new Error(data.error))
  else call.resolve(data.result)
}
ws.onopen = () => (document.title = 'open')
ws.onclose = () => (document.title = 'closed')

void send('echo', { id: 1, name: 'user-1', active: false, score: 0.5, tags: ['a', 'b', 'c'] }).then((result) => show((result as { name: string }).name))
void send('publish', { count: 10, burst: 5 }).then((result) => show((result as { published: number }).published))
void send('feed', undefined, (event) => show((event as { seq: number }).seq)).catch((error: Error) => show(error.message))
