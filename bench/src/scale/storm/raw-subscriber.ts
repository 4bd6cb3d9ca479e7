/**
 * The storm's raw ws subscriber: the minimal reconnect a competent developer
 * writes by hand. On a close, retry after a random 0–1,000 ms (so that the
 * clients of one server do not all come back in the same millisecond); on
 * a failed attempt, back off exponentially (1 s, 2 s, 4 s... at most 30 s,
 * plus the same jitter); on open, send the feed subscription again. The
 * wire format is impls/raw.ts's.
 */
import WebSocket from 'ws'
import { checkPublished, type OpenSubscriber } from './subscriber'

const JITTER_MS = 1_000
const MAX_BACKOFF_MS = 30_000

interface Message {
  id: number
  result?: unknown
  event?: unknown
  error?: string
}

export const openRawSubscriber: OpenSubscriber = (port, localAddress, hooks) => {
  let socket: WebSocket | undefined
  let closing = false
  let failures = 0
  let retry: NodeJS.Timeout | undefined
  let nextId = 1
  /** The id of the feed subscription on the current socket. */
  let feedId = 0
  const calls = new Map<number, (message: Message) => void>()

  function connect(): void {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`, { localAddress })
    socket = ws
    let opened = false
    ws.on('open', () => {
      opened = true
      failures = 0
      feedId = nextId++
      ws.send(JSON.stringify({ id: feedId, op: 'feed' }))
    })
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Message
      if (message.id === feedId && 'event' in message) return hooks.event(message.event)
      if (message.id === feedId && 'result' in message) return hooks.started()
      const call = calls.get(message.id)
      if (call === undefined) return hooks.failed(new Error(`storm/raw: unexpected message ${String(data)}`))
      calls.delete(message.id)
      call(message)
    })
    // A refused or dropped connection: 'close' follows, and decides.
    ws.on('error', () => {})
    ws.on('close', (code) => {
      if (closing) return
      hooks.dropped(opened ? `close ${code}` : 'attempt failed')
      if (!opened) failures++
      const backoff = failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** (failures - 1))
      const delayMs = backoff + Math.random() * JITTER_MS
      hooks.retry(delayMs)
      retry = setTimeout(connect, delayMs)
    })
  }
  connect()

  return {
    publish(count) {
      const id = nextId++
      return new Promise<void>((resolve, reject) => {
        calls.set(id, (message) => {
          if (message.error !== undefined) return reject(new Error(`storm/raw: publish failed: ${message.error}`))
          try {
            checkPublished('raw', message.result, count)
            resolve()
          } catch (error) {
            reject(error as Error)
          }
        })
        if (socket?.readyState !== WebSocket.OPEN) return reject(new Error('storm/raw: publish while not connected'))
        socket.send(JSON.stringify({ id, op: 'publish', input: { count, burst: count } }))
      })
    },
    close() {
      closing = true
      clearTimeout(retry)
      const ws = socket
      if (ws === undefined || ws.readyState === WebSocket.CLOSED) return Promise.resolve()
      return new Promise<void>((resolve) => {
        ws.once('close', () => resolve())
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate()
        else ws.close(1000)
      })
    },
  }
}
