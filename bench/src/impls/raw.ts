/**
 * The baseline: raw `ws` and `JSON.stringify`, what a competent developer
 * writes by hand. One message per frame, no batching, no validation beyond
 * `JSON.parse`, no serializer for rich types.
 *
 * Wire format (text frames, JSON):
 * - client → server: `{ id, op, input }`, `op` one of `echo`, `echoText`,
 *   `stream`, `feed`, `publish`, `stop` (`stop` ends the feed subscription
 *   `input`);
 * - server → client: `{ id, result }` answers a call (for `feed`: the
 *   subscription has started), `{ id, event }` is a pushed event,
 *   `{ id, done: true }` ends a stream, `{ id, error }` fails a call.
 */
import type { AddressInfo } from 'node:net'
import WebSocket, { WebSocketServer } from 'ws'
import { pushEvent, type BenchConnection, type BenchServer, type ConnectOptions, type EchoInput, type EchoTextInput, type Impl, type PublishInput, type ServeOptions } from '../contract'
import { burstPacer, publishedEvent } from './publish-events'
import { failLater, openWebSocket } from './util'

/** Pause a stream above this many unsent bytes: unbounded buffering is what a competent hand-written server avoids. */
const HIGH_WATER_MARK = 1_048_576

interface Request {
  id: number
  op: string
  input?: unknown
}

/** Resolves on the next macrotask, so a burst of events goes out before the next one is made. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

async function serve(options: ServeOptions = {}): Promise<BenchServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: options.port ?? 0 })
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve)
    wss.once('error', reject)
  })
  /** Live `feed` subscribers: socket → its subscription ids. */
  const feed = new Map<WebSocket, Set<number>>()

  async function stream(socket: WebSocket, id: number, count: number): Promise<void> {
    for (let seq = 0; seq < count; seq++) {
      if (socket.readyState !== WebSocket.OPEN) return
      const text = JSON.stringify({ id, event: pushEvent(seq) })
      // Above the mark, wait until this frame (and so all before it) is handed to the kernel.
      if (socket.bufferedAmount > HIGH_WATER_MARK) await new Promise<void>((resolve) => socket.send(text, () => resolve()))
      else socket.send(text)
    }
    socket.send(JSON.stringify({ id, done: true }))
  }

  async function publish(input: PublishInput): Promise<void> {
    const paced = burstPacer(input)
    for (let seq = 0; seq < input.count; ) {
      const end = Math.min(input.count, seq + input.burst)
      for (; seq < end; seq++) {
        // Serialize the event once, and wrap it per subscription by hand.
        const event = JSON.stringify(publishedEvent(seq, input))
        for (const [socket, ids] of feed) for (const id of ids) socket.send(`{"id":${id},"event":${event}}`)
      }
      if (seq < input.count) await (paced?.(seq) ?? nextMacrotask())
    }
  }

  wss.on('connection', (socket) => {
    socket.on('close', () => feed.delete(socket))
    socket.on('message', (data) => {
      let request: Request
      try {
        request = JSON.parse(String(data)) as Request
      } catch {
        socket.close(1007, 'bad JSON')
        return
      }
      const { id, op, input } = request
      switch (op) {
        case 'echo':
          socket.send(JSON.stringify({ id, result: input as EchoInput }))
          return
        case 'echoText':
          socket.send(JSON.stringify({ id, result: input as EchoTextInput }))
          return
        case 'stream':
          void stream(socket, id, (input as { count: number }).count)
          return
        case 'feed': {
          const ids = feed.get(socket) ?? new Set<number>()
          feed.set(socket, ids.add(id))
          socket.send(JSON.stringify({ id, result: null }))
          return
        }
        case 'stop':
          feed.get(socket)?.delete(input as number)
          return
        case 'publish':
          void publish(input as PublishInput).then(() => socket.send(JSON.stringify({ id, result: { published: (input as PublishInput).count } })))
          return
        default:
          socket.send(JSON.stringify({ id, error: `unknown op ${op}` }))
      }
    })
  })

  const { port } = wss.address() as AddressInfo
  return {
    port,
    close() {
      // `wss.close()` waits for open sockets; end them first. A restart
      // closes each one properly (1012: service restart) and waits for the
      // closing handshakes, as a hand-written graceful shutdown does.
      for (const client of wss.clients) {
        if (options.restart === undefined) client.terminate()
        else client.close(1012, 'server restarting')
      }
      return new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())))
    },
  }
}

interface Response {
  id: number
  result?: unknown
  event?: unknown
  done?: true
  error?: string
}

async function connect(port: number, options: ConnectOptions = {}): Promise<BenchConnection> {
  const socket = await openWebSocket(new WebSocket(`ws://127.0.0.1:${port}`, options.localAddress === undefined ? {} : { localAddress: options.localAddress }))
  let nextId = 1
  const calls = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  const streams = new Map<number, { onEvent(event: unknown): void; done(): void }>()

  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Response
    if ('event' in message) {
      streams.get(message.id)?.onEvent(message.event)
    } else if (message.done === true) {
      streams.get(message.id)?.done()
    } else {
      const call = calls.get(message.id)
      if (call === undefined) return failLater(new Error(`raw: answer for unknown call ${message.id}`))
      calls.delete(message.id)
      if (message.error !== undefined) call.reject(new Error(`raw: ${message.error}`))
      else call.resolve(message.result)
    }
  })
  socket.on('close', () => {
    for (const call of calls.values()) call.reject(new Error('raw: connection closed'))
    calls.clear()
  })

  function call(op: string, input: unknown, id = nextId++): Promise<unknown> {
    return new Promise((resolve, reject) => {
      calls.set(id, { resolve, reject })
      socket.send(JSON.stringify({ id, op, input }))
    })
  }

  return {
    echo: (input) => call('echo', input),
    echoText: (input) => call('echoText', input),
    stream(count, onEvent) {
      const id = nextId++
      return new Promise<void>((resolve) => {
        streams.set(id, {
          onEvent,
          done: () => {
            streams.delete(id)
            resolve()
          },
        })
        socket.send(JSON.stringify({ id, op: 'stream', input: { count } }))
      })
    },
    async feed(onEvent) {
      const id = nextId++
      streams.set(id, { onEvent, done: () => streams.delete(id) })
      await call('feed', undefined, id)
      return {
        stop() {
          streams.delete(id)
          socket.send(JSON.stringify({ id: nextId++, op: 'stop', input: id }))
        },
      }
    },
    publish: (input) => call('publish', input),
    close() {
      if (socket.readyState === WebSocket.CLOSED) return Promise.resolve()
      return new Promise<void>((resolve) => {
        socket.once('close', () => resolve())
        socket.close(1000)
      })
    },
  }
}

/** Hand-written `ws` + JSON: the baseline every ratio is taken against. */
export const raw: Impl = { name: 'raw', serve, connect }
