import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { z } from 'zod'
import { defaultSerializer, fromEmitter, initRpc, MAX_BATCH_CHARS, MAX_BATCH_MESSAGES, type Serializer } from '@wirecall/core'
import { createRpcServer, type CreateContextOptions, type RpcServerOptions } from '@wirecall/server'
import { DEFAULT_ACK, connectClient, readyPeer, rpcErrorOf, sleep, startServer, untilAborted, waitUntil, within, type RawPeer } from '../../helpers/harness'

/**
 * Batching on real sockets: both sides join the messages written in one
 * turn of the event loop into one frame (a JSON array), flushed at the end
 * of the turn, or at once at 1,000 messages or 65,536 characters; a lone
 * message still leaves as a plain object; a message too long for a batch
 * leaves alone, in its place in the order. The client keeps its batches
 * under the `maxPayload` the server announces in `ack`. Flow control,
 * `reinit` and a close right after an unsubscribe still work with batches.
 */

interface Ctx {
  name: string | undefined
}
const rpc = initRpc.context<Ctx>().create()

const emitter = new EventEmitter()
emitter.setMaxListeners(0)

/** What the server saw of generators and resolvers, by the tag of their input. */
interface Seen {
  yields: number
  /** `signal.reason` when it stopped. */
  reason: unknown
  lastYieldAt: number
  finished: boolean
  finishedAt: number
}
const seen = new Map<string, Seen>()
function enter(tag: string): Seen {
  const entry: Seen = { yields: 0, lastYieldAt: 0, reason: undefined, finished: false, finishedAt: 0 }
  seen.set(tag, entry)
  return entry
}
function leave(entry: Seen, signal: AbortSignal): void {
  entry.reason = signal.reason
  entry.finished = true
  entry.finishedAt = Date.now()
}
let tagCounter = 0
const newTag = (name: string) => `${name}-${++tagCounter}`
const Tagged = z.object({ tag: z.string() })

const KiB = 1_024
/** A 1 KiB event (ASCII: characters are bytes). */
const KIB_EVENT = 'k'.repeat(KiB)

const router = rpc.router({
  double: rpc.procedure.input(z.number()).query(({ input }) => input * 2),
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
  whoami: rpc.procedure.query(({ ctx }) => ctx.name ?? 'nobody'),
  /** `tag` followed by `size` x's. */
  text: rpc.procedure.input(z.object({ tag: z.string(), size: z.number().int().min(0) })).query(({ input }) => input.tag + 'x'.repeat(input.size)),
  /** Emits each string to `feed` synchronously, then answers. */
  publish: rpc.procedure.input(z.array(z.string())).mutation(({ input }) => {
    for (const event of input) emitter.emit('event', event)
    return `published:${input.join('+')}`
  }),
  feed: rpc.procedure.subscription(({ signal }) => fromEmitter<string>(emitter, 'event', { signal })),
  /** 0 .. n-1, synchronously: as fast as the server pulls. */
  count: rpc.procedure.input(z.number().int().min(0)).subscription(async function* ({ input }) {
    for (let i = 0; i < input; i++) yield i
  }),
  /** `count` strings of exactly `size` characters, `i:` then filler, synchronously. */
  blobs: rpc.procedure.input(z.object({ count: z.number().int(), size: z.number().int() })).subscription(async function* ({ input }) {
    for (let i = 0; i < input.count; i++) {
      const head = `${i}:`
      yield head + 'b'.repeat(input.size - head.length)
    }
  }),
  /** 1 KiB events, synchronously, until stopped; counts what it yielded. */
  flood: rpc.procedure.input(Tagged).subscription(async function* ({ input, signal }) {
    const entry = enter(input.tag)
    try {
      while (!signal.aborted) {
        entry.yields++
        entry.lastYieldAt = Date.now()
        yield KIB_EVENT
      }
    } finally {
      leave(entry, signal)
    }
  }),
  /** A number every 10 ms until stopped; records why it stopped. */
  ticks: rpc.procedure.input(Tagged).subscription(async function* ({ input, signal }) {
    const entry = enter(input.tag)
    try {
      for (let n = 0; !signal.aborted; n++) {
        entry.yields++
        yield n
        await sleep(10, signal)
      }
    } finally {
      leave(entry, signal)
    }
  }),
  /** Holds until aborted; records why. */
  hold: rpc.procedure.input(Tagged).query(async ({ input, signal }) => {
    const entry = enter(input.tag)
    await untilAborted(signal)
    leave(entry, signal)
    return 'aborted'
  }),
})
type R = typeof router

/** The context carries the `name` connection param, so a test can see which params are in use. */
function createContext({ connectionParams }: CreateContextOptions): Ctx {
  const name = (connectionParams as { name?: unknown } | undefined)?.name
  return { name: typeof name === 'string' ? name : undefined }
}

/**
 * The default serializer, recording every value it encodes. On the server
 * a value is serialized immediately before its message is written, so the
 * log is the order in which messages were written.
 */
function loggingSerializer(log: unknown[]): Serializer {
  return {
    metaFormat: 'superjson',
    serialize(value) {
      log.push(value)
      return defaultSerializer.serialize(value)
    },
    deserialize: (payload) => defaultSerializer.deserialize(payload),
  }
}

/** Every frame `ws` receives from now on, as text. */
function recordFrames(ws: WebSocket): string[] {
  const frames: string[] = []
  ws.on('message', (data) => frames.push(String(data)))
  return frames
}

/** The messages of one frame: a batch's elements, or the frame's one message. */
function messagesOf(frame: string): Record<string, unknown>[] {
  const parsed = JSON.parse(frame) as unknown
  return (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[]
}

/** Frames whose messages include one matching `predicate`. */
function framesWith(frames: string[], predicate: (m: Record<string, unknown>) => boolean): string[] {
  return frames.filter((frame) => messagesOf(frame).some(predicate))
}

const call = (id: number, path: string, input?: unknown, method: 'query' | 'mutation' = 'query') =>
  input === undefined ? { type: 'call', id, method, path } : { type: 'call', id, method, path, input }

/** The messages `peer` received for `id`. */
const answersTo = (peer: RawPeer, id: number) => peer.messages.filter((m) => m.id === id)

/**
 * Most payload bytes the kernel can hold for one loopback connection: the
 * receiver's and the sender's socket buffers at their largest (Linux
 * autotuning maxima). 64 MiB where /proc does not say.
 */
function kernelBufferBound(): number {
  try {
    const max = (file: string) => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2])
    const bound = max('/proc/sys/net/ipv4/tcp_rmem') + max('/proc/sys/net/ipv4/tcp_wmem')
    return Number.isFinite(bound) && bound > 0 ? bound : 64 * 1_024 * 1_024
  } catch {
    return 64 * 1_024 * 1_024
  }
}

// ---------------------------------------------------------------------------
// A WebSocket proxy that counts frames

/** Frames that crossed a {@link frameProxy}, in each direction. */
interface FrameProxy {
  /** `ws://127.0.0.1:port/rpc`: connect clients here. */
  url: string
  /** Client → server frames, as text. */
  up: string[]
  /** Server → client frames, as text. */
  down: string[]
}

/**
 * A WebSocket-level proxy in front of `target`: every frame is passed on
 * unchanged, one for one, and recorded; a close on one side closes the
 * other with the same code where the code may be sent. Closed after the test.
 */
async function frameProxy(target: string): Promise<FrameProxy> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has('wirecall.v1') ? 'wirecall.v1' : false),
  })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const sockets = new Set<WebSocket>()
  const up: string[] = []
  const down: string[] = []
  const closeWith = (ws: WebSocket, code: number, reason: Buffer) => {
    try {
      ws.close(code, reason)
    } catch {
      ws.terminate() // 1005, 1006: codes no endpoint may send
    }
  }
  wss.on('connection', (client) => {
    const server = new WebSocket(target, 'wirecall.v1')
    sockets.add(client).add(server)
    const pending: string[] = []
    client.on('error', () => {})
    server.on('error', () => {})
    client.on('message', (data) => {
      const frame = String(data)
      up.push(frame)
      if (server.readyState === WebSocket.OPEN) server.send(frame)
      else pending.push(frame)
    })
    server.on('open', () => {
      for (const frame of pending.splice(0)) server.send(frame)
    })
    server.on('message', (data) => {
      const frame = String(data)
      down.push(frame)
      if (client.readyState === WebSocket.OPEN) client.send(frame)
    })
    client.on('close', (code, reason) => closeWith(server, code, reason))
    server.on('close', (code, reason) => closeWith(client, code, reason))
  })
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate()
        wss.close(() => resolve())
      }),
  )
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/rpc`, up, down }
}

// ---------------------------------------------------------------------------

describe('many messages in one turn travel in few frames', () => {
  it('200 concurrent queries from one client all resolve, and cross the wire in a few frames each way', async () => {
    const { url } = await startServer({ router, createContext })
    const proxy = await frameProxy(url)
    const api = connectClient<R>(proxy.url)
    expect(await api.double.query(-1)).toBe(-2) // connected and acknowledged
    const upBefore = proxy.up.length
    const downBefore = proxy.down.length

    const inputs = Array.from({ length: 200 }, (_, i) => i)
    const results = await within(Promise.all(inputs.map((i) => api.double.query(i))), 'the 200 answers')
    expect(results).toEqual(inputs.map((i) => i * 2))

    const up = proxy.up.slice(upBefore)
    const down = proxy.down.slice(downBefore)
    const calls = up.flatMap(messagesOf).filter((m) => m.type === 'call')
    const answers = down.flatMap(messagesOf).filter((m) => m.type === 'result')
    expect(calls).toHaveLength(200)
    expect(answers).toHaveLength(200)
    // Written in one task, the 200 calls fit in one batch; leave room for a split, not for one frame per call.
    expect(framesWith(up, (m) => m.type === 'call').length, 'client → server frames').toBeLessThanOrEqual(4)
    expect(framesWith(down, (m) => m.type === 'result').length, 'server → client frames').toBeLessThanOrEqual(4)
    console.info(`200 queries: ${up.length} frame(s) up, ${down.length} frame(s) down`)
  })

  it('200 calls in one array frame are answered in a few frames, each exactly once with its own id', async () => {
    const { url } = await startServer({ router, createContext })
    const peer = await readyPeer(url)
    const frames = recordFrames(peer.ws)
    const ids = Array.from({ length: 200 }, (_, i) => i + 1)
    peer.send(ids.map((id) => call(id, 'double', id)))
    await waitUntil(() => ids.every((id) => answersTo(peer, id).length > 0), 'the 200 answers')
    await sleep(50) // a duplicate, if any, would come right behind

    for (const id of ids) expect(answersTo(peer, id)).toEqual([{ type: 'result', id, data: id * 2 }])
    expect(frames.length, 'answer frames').toBeLessThanOrEqual(4)
    expect(frames.flatMap(messagesOf)).toHaveLength(200)
  })

  it("what a client holds back for the end of the task counts in $connection.bufferedAmount", async () => {
    const { url } = await startServer({ router, createContext })
    const api = connectClient<R>(url)
    expect(await api.echo.query('warm')).toBe('warm')
    await waitUntil(() => api.$connection.bufferedAmount === 0, 'the socket to drain')
    const answer = api.echo.query('z'.repeat(5_000))
    // Not yet written to the socket (that happens once this task ends), yet counted.
    expect(api.$connection.bufferedAmount).toBeGreaterThan(5_000)
    expect(await answer).toBe('z'.repeat(5_000))
    await waitUntil(() => api.$connection.bufferedAmount === 0, 'the socket to drain')
  })

  it('the answer to a lone call is a plain object frame, not a one-element array', async () => {
    const { url } = await startServer({ router, createContext })
    const peer = await readyPeer(url)
    expect(peer.messages[0]).toMatchObject({ type: 'ack' })
    const frames = recordFrames(peer.ws)
    peer.send(call(1, 'echo', 'alone'))
    await peer.next((m) => m.id === 1)
    expect(frames).toHaveLength(1)
    expect(JSON.parse(frames[0]!)).toEqual({ type: 'result', id: 1, data: 'alone' })
  })
})

describe('order and bounds of batches', () => {
  it("a subscription's events and call results written in the same turn arrive in the order they were written, in one frame", async () => {
    const written: unknown[] = []
    const { url } = await startServer({ router, createContext, serializer: loggingSerializer(written) })
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'feed' })
    await peer.next((m) => m.type === 'started' && m.id === 1)
    const frames = recordFrames(peer.ws)
    written.length = 0

    // One frame: the server handles it, and writes every answer and event, in one turn.
    peer.send([
      call(2, 'publish', ['a1', 'a2'], 'mutation'),
      call(3, 'echo', 'q1'),
      call(4, 'publish', ['b1'], 'mutation'),
      call(5, 'echo', 'q2'),
      call(6, 'publish', ['c1', 'c2', 'c3'], 'mutation'),
    ])
    await waitUntil(() => frames.flatMap(messagesOf).length >= 11, 'five answers and six events')
    await sleep(50)

    const received = frames.flatMap(messagesOf)
    expect(received.map((m) => m.data)).toEqual(written)
    expect(received.filter((m) => m.type === 'data').map((m) => m.data)).toEqual(['a1', 'a2', 'b1', 'c1', 'c2', 'c3'])
    expect(received.filter((m) => m.type === 'result').map((m) => m.id)).toEqual([2, 3, 4, 5, 6])
    expect(frames, 'frames for one turn of writes').toHaveLength(1)
  })

  it('5,000 events yielded synchronously arrive complete and in order, in batches of at most 1,000 messages', async () => {
    const { url } = await startServer({ router, createContext })
    const peer = await readyPeer(url)
    const frames = recordFrames(peer.ws)
    peer.send({ type: 'subscribe', id: 1, path: 'count', input: 5_000 })
    await peer.next((m) => m.type === 'complete' && m.id === 1)

    const received = frames.flatMap(messagesOf)
    expect(received[0]).toEqual({ type: 'started', id: 1 })
    expect(received.at(-1)).toEqual({ type: 'complete', id: 1 })
    const data = received.slice(1, -1)
    expect(data).toHaveLength(5_000)
    expect(data.every((m, i) => m.type === 'data' && m.id === 1 && m.data === i)).toBe(true)

    const sizes = frames.map((frame) => messagesOf(frame).length)
    expect(Math.max(...sizes), `messages per frame: ${sizes.join(', ')}`).toBeLessThanOrEqual(MAX_BATCH_MESSAGES)
    expect(MAX_BATCH_MESSAGES).toBe(1_000)
    // 5,002 messages need at least 6 frames; one frame per message would be 5,002.
    expect(frames.length).toBeGreaterThanOrEqual(6)
    expect(frames.length).toBeLessThanOrEqual(20)
    expect(Math.max(...frames.map((f) => f.length))).toBeLessThanOrEqual(MAX_BATCH_CHARS + 1)
  })

  it('a batch holds at most 65,536 characters: 1,000 events of 500 characters leave in full frames under the bound', async () => {
    const { url } = await startServer({ router, createContext })
    const peer = await readyPeer(url)
    const frames = recordFrames(peer.ws)
    peer.send({ type: 'subscribe', id: 1, path: 'blobs', input: { count: 1_000, size: 500 } })
    await peer.next((m) => m.type === 'complete' && m.id === 1)

    const data = frames.flatMap(messagesOf).filter((m) => m.type === 'data')
    expect(data.map((m) => Number.parseInt(m.data as string, 10))).toEqual(Array.from({ length: 1_000 }, (_, i) => i))
    const lengths = frames.map((f) => f.length)
    expect(MAX_BATCH_CHARS).toBe(65_536)
    // A batch holds at most MAX_BATCH_CHARS counting a separator per message; its brackets add one more.
    expect(Math.max(...lengths), `frame lengths: ${lengths.join(', ')}`).toBeLessThanOrEqual(MAX_BATCH_CHARS + 1)
    // ~530 kB in frames that are full (within one message of the bound) except the last of the turn.
    const full = lengths.slice(0, -1)
    expect(full.length).toBeGreaterThanOrEqual(7)
    for (const length of full) expect(length).toBeGreaterThan(MAX_BATCH_CHARS - 600)
  })

  it('a message longer than the bound (a 100 KB result) leaves alone, after the messages written before it and before those written after', async () => {
    const written: unknown[] = []
    const { url } = await startServer({ router, createContext, serializer: loggingSerializer(written) })
    const peer = await readyPeer(url)
    const frames = recordFrames(peer.ws)
    written.length = 0
    const bigSize = 100_000
    peer.send([
      call(1, 'text', { tag: 's1', size: 10 }),
      call(2, 'text', { tag: 's2', size: 10 }),
      call(3, 'text', { tag: 'big', size: bigSize }),
      call(4, 'text', { tag: 's4', size: 10 }),
      call(5, 'text', { tag: 's5', size: 10 }),
    ])
    await waitUntil(() => frames.flatMap(messagesOf).length >= 5, 'the five answers')
    await sleep(50)

    // What the server wrote before and after the big result, in its order (the log is the write order).
    const tags = written.map((value) => (value as string).slice(0, (value as string).indexOf('x')))
    const at = tags.indexOf('big')
    const before = tags.slice(0, at)
    const after = tags.slice(at + 1)
    expect([...before, ...after].sort()).toEqual(['s1', 's2', 's4', 's5'])

    const tagOf = (m: Record<string, unknown>) => (m.data as string).slice(0, (m.data as string).indexOf('x'))
    const shape = frames.map((frame) => ({ array: frame.startsWith('['), tags: messagesOf(frame).map(tagOf) }))
    const expected = [
      ...(before.length > 0 ? [{ array: before.length > 1, tags: before }] : []),
      { array: false, tags: ['big'] },
      ...(after.length > 0 ? [{ array: after.length > 1, tags: after }] : []),
    ]
    expect(shape).toEqual(expected)
    const bigFrame = frames.find((frame) => frame.length > MAX_BATCH_CHARS)!
    expect(JSON.parse(bigFrame)).toEqual({ type: 'result', id: 3, data: 'big' + 'x'.repeat(bigSize) })
  })
})

describe("batches stay under the server's maxPayload", () => {
  /** About 500 bytes of UTF-8 in 170 UTF-16 units: '€' is one unit and three bytes, the worst case per unit. */
  const euroInput = (i: number) => `${i}:${'€'.repeat(165)}`

  it('the ack announces maxPayload, and 300 concurrent calls of ~500 bytes all succeed in batches that each fit in 8,192 bytes', async () => {
    const { url } = await startServer({ router, createContext, maxPayload: 8_192 })
    const peer = await readyPeer(url)
    expect(peer.messages[0]).toEqual({ ...DEFAULT_ACK, maxPayload: 8_192 })

    const proxy = await frameProxy(url)
    const api = connectClient<R>(proxy.url)
    const closes: number[] = []
    api.$connection.on('close', ({ code }) => closes.push(code))
    // Half of them written before the ack (queued, then sent once the bound is known), half after.
    const early = Array.from({ length: 150 }, (_, i) => api.echo.query(euroInput(i)))
    await waitUntil(() => api.$connection.state === 'open', 'the connection to open')
    const late = Array.from({ length: 150 }, (_, i) => api.echo.query(euroInput(150 + i)))
    // Longer than a batch may be (8,192 / 3 units) but within maxPayload: it travels alone and is accepted.
    const alone = api.echo.query('a'.repeat(6_000))

    const results = await within(Promise.all([...early, ...late]), 'the 300 answers', 10_000)
    expect(results).toEqual(Array.from({ length: 300 }, (_, i) => euroInput(i)))
    expect(await alone).toBe('a'.repeat(6_000))
    expect(closes, 'close codes seen by the client').toEqual([])
    expect(api.$connection.state).toBe('open')

    const callFrames = framesWith(proxy.up, (m) => m.type === 'call')
    const bytes = callFrames.map((frame) => Buffer.byteLength(frame))
    expect(Math.max(...bytes)).toBeLessThanOrEqual(8_192)
    // After the ack a batch holds at most floor(8,192 / 3) = 2,730 UTF-16 units (plus its closing bracket).
    const batches = callFrames.filter((frame) => frame.startsWith('['))
    expect(Math.max(...batches.map((frame) => frame.length))).toBeLessThanOrEqual(2_731)
    // ~220 characters a call: batches of about a dozen, not one frame per call.
    expect(batches.length).toBeGreaterThanOrEqual(20)
    expect(callFrames.length).toBeLessThanOrEqual(60)
  })

  it('a call larger than the maxPayload the server announced is refused by the client, wherever it is in its task: no 1009, no reconnect, the others succeed', async () => {
    const { url } = await startServer({ router, createContext, maxPayload: 8_192 })
    const api = connectClient<R>(url, { reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
    const closes: number[] = []
    api.$connection.on('close', ({ code }) => closes.push(code))
    expect(await api.echo.query('warm')).toBe('warm')

    const before = Array.from({ length: 20 }, (_, i) => api.echo.query(`before-${i}`))
    const big = api.echo.query('x'.repeat(9_000))
    const after = Array.from({ length: 20 }, (_, i) => api.echo.query(`after-${i}`))
    const error = await within(rpcErrorOf(big), 'the oversized call to fail')
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(error.data).toEqual({ maxPayload: 8_192 })
    expect(await within(Promise.all([...before, ...after]), 'the other calls')).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `before-${i}`),
      ...Array.from({ length: 20 }, (_, i) => `after-${i}`),
    ])
    expect(closes).toEqual([])
    expect(api.$connection.state).toBe('open')
  })
})

describe('the client sizes its batches from the ack', () => {
  /**
   * A stand-in server: answers `init` with `ack` (the given text), and every
   * call with its input; records the frames it receives. Closed after the test.
   */
  async function fakeServer(ack: string) {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('wirecall.v1') ? 'wirecall.v1' : false) })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    const frames: string[] = []
    const sockets = new Set<WebSocket>()
    wss.on('connection', (ws) => {
      sockets.add(ws)
      ws.on('error', () => {})
      ws.on('message', (data) => {
        const frame = String(data)
        frames.push(frame)
        const answers = messagesOf(frame).flatMap((m) =>
          m.type === 'init' ? [ack] : m.type === 'call' ? [JSON.stringify({ type: 'result', id: m.id, data: m.input })] : [],
        )
        for (const answer of answers) ws.send(answer)
      })
    })
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          for (const ws of sockets) ws.terminate()
          wss.close(() => resolve())
        }),
    )
    return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/rpc`, frames }
  }

  /** One call to open the connection, then 300 calls of ~250 characters in one task. */
  async function sendBurst(url: string): Promise<void> {
    const api = connectClient<R>(url, { keepAlive: false })
    await api.echo.query('warm')
    const inputs = Array.from({ length: 300 }, (_, i) => `${i}:${'y'.repeat(180)}`)
    expect(await within(Promise.all(inputs.map((input) => api.echo.query(input))), 'the 300 answers')).toEqual(inputs)
  }

  it.each([
    ['maxPayload 3,000: at most 1,000 characters', '{"type":"ack","maxPayload":3000}', 1_000],
    ['no maxPayload (an older server): at most 16,384 characters', '{"type":"ack"}', 16_384],
    ['maxPayload 1 MiB: at most 65,536 characters', '{"type":"ack","maxPayload":1048576}', 65_536],
  ])('%s a batch', async (_name, ack, maxChars) => {
    const server = await fakeServer(ack)
    await sendBurst(server.url)
    const batches = server.frames.filter((frame) => frame.startsWith('['))
    const calls = server.frames.flatMap(messagesOf).filter((m) => m.type === 'call')
    expect(calls).toHaveLength(301)
    const lengths = batches.map((frame) => frame.length)
    expect(Math.max(...lengths)).toBeLessThanOrEqual(maxChars + 1)
    // Full batches: the next message would not have fitted (the last one of the burst may be short).
    const longest = Math.max(...calls.map((m) => JSON.stringify(m).length))
    expect(lengths.filter((length) => length + longest + 1 > maxChars).length).toBeGreaterThanOrEqual(batches.length - 1)
  })

  it('an ack with an invalid maxPayload (0) is a protocol error: the client closes with 4400 and stops', async () => {
    const server = await fakeServer('{"type":"ack","maxPayload":0}')
    const api = connectClient<R>(server.url, { keepAlive: false })
    const error = await within(rpcErrorOf(api.echo.query('never')), 'the call to fail')
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.data).toMatchObject({ closeCode: 4400 })
    expect(api.$connection.state).toBe('closed')
  })
})

describe('flow control with batches', () => {
  /**
   * A wirecall server fed by a `ws` server of the test's own (through
   * `handleConnection`), so the test can read the server side's
   * `bufferedAmount`: what the server itself holds for a peer.
   */
  async function handedOverServer(options: Omit<RpcServerOptions<R>, 'router'>) {
    const rpcServer = createRpcServer({ router, ...options })
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has('wirecall.v1') ? 'wirecall.v1' : false) })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    const sockets: WebSocket[] = []
    wss.on('connection', (ws, req) => {
      sockets.push(ws)
      rpcServer.handleConnection(ws, req)
    })
    onTestFinished(async () => {
      await rpcServer.close()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
      if (rpcServer.connectionCount !== 0) throw new Error(`server leaked ${rpcServer.connectionCount} connections`)
    })
    return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/rpc`, sockets }
  }

  it('a reader that stops reading: the generator stops being pulled, the server holds at most the high-water mark and two batches, and the connection closes with 1013 after slowConsumerTimeoutMs', async () => {
    const slowConsumerTimeoutMs = 1_500
    const highWaterMark = 64 * KiB
    const backpressure = { highWaterMark, lowWaterMark: 16 * KiB, maxBufferedAmount: 1_024 * KiB, slowConsumerTimeoutMs }
    const { url, sockets } = await handedOverServer({ createContext, backpressure, keepAlive: false })
    const peer = await readyPeer(url)
    const serverSide = sockets[0]!
    // The peer stops reading from its TCP socket: the kernel's buffers fill, then the server's.
    const tcp = (peer.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket
    tcp.pause()
    const tag = newTag('flood')
    peer.send({ type: 'subscribe', id: 1, path: 'flood', input: { tag } })
    await waitUntil(() => seen.has(tag), 'the generator to start')
    const entry = seen.get(tag)!

    // Paused: no yield for 200 ms (the generator, unpaused, yields thousands of events a millisecond).
    let last = -1
    let still = Date.now()
    await waitUntil(
      () => {
        if (entry.yields !== last) [last, still] = [entry.yields, Date.now()]
        return entry.yields > 0 && Date.now() - still >= 200
      },
      'the generator to be paused',
      5_000,
    )
    const yieldsWhenPaused = entry.yields
    const heldByServer = serverSide.bufferedAmount
    await sleep(800)
    expect(entry.yields, 'yields while the reader does not read').toBe(yieldsWhenPaused)
    await waitUntil(() => entry.finished, 'the server to cut the reader off', slowConsumerTimeoutMs + 4_000)
    expect(entry.yields).toBe(yieldsWhenPaused)
    expect(entry.reason).toMatchObject({ code: 'CONNECTION_LOST' })
    // The timer starts when a write takes the buffer over the high-water mark, right after the last yield.
    const cutOffAfterMs = entry.finishedAt - entry.lastYieldAt
    expect(cutOffAfterMs).toBeGreaterThanOrEqual(slowConsumerTimeoutMs - 20)
    expect(cutOffAfterMs).toBeLessThan(slowConsumerTimeoutMs + 3_000)
    console.info(
      `flood: ${yieldsWhenPaused} events of 1 KiB yielded before the pause, ${heldByServer} bytes of them held by the server; cut off ${cutOffAfterMs} ms after the last yield`,
    )
    // Over the high-water mark by at most the batch that crossed it and the rest of that turn, flushed at its end.
    expect(heldByServer).toBeGreaterThan(highWaterMark)
    expect(heldByServer).toBeLessThanOrEqual(highWaterMark + 2 * (MAX_BATCH_CHARS + 1) + 2 * KiB)
    // The rest sits in the kernel's socket buffers, which are bounded too (tcp_rmem and tcp_wmem maxima on Linux).
    expect((yieldsWhenPaused * KiB - heldByServer) / KiB).toBeLessThanOrEqual(kernelBufferBound() / KiB)

    tcp.resume()
    const closed = await within(peer.closed, 'the close frame behind the buffered events')
    expect(closed.code).toBe(1013)
    expect(closed.reason).toMatch(/slow consumer/)
    // Every event pulled was written before the close, and arrives once, in full.
    const data = peer.messages.filter((m) => m.type === 'data')
    expect(data).toHaveLength(yieldsWhenPaused)
    expect(data.every((m) => m.id === 1 && m.data === KIB_EVENT)).toBe(true)
  })
})

describe('reinit in a batch', () => {
  const maxConnectionParamsBytes = 1_024
  /** Params whose `JSON.stringify([params, null])` is exactly `bytes` bytes long. */
  function paramsOfSize(bytes: number, name = 'new'): { name: string; pad: string } {
    const base = Buffer.byteLength(JSON.stringify([{ name, pad: '' }, null]))
    return { name, pad: 'p'.repeat(bytes - base) }
  }

  it('is measured on its params alone: at the limit with 40 KB of calls in the same frame it is accepted; one byte over, only it fails with PAYLOAD_TOO_LARGE', async () => {
    const { url } = await startServer({ router, createContext, maxConnectionParamsBytes })
    const peer = await readyPeer(url, { name: 'old' })
    const fits = paramsOfSize(maxConnectionParamsBytes)
    expect(Buffer.byteLength(JSON.stringify([fits, null]))).toBe(maxConnectionParamsBytes)
    const payload = 'c'.repeat(20_000)

    peer.send([{ type: 'reinit', id: 1, params: fits }, call(2, 'echo', payload), call(3, 'echo', payload)])
    expect(await peer.next((m) => m.id === 1)).toEqual({ type: 'result', id: 1 })
    expect(await peer.next((m) => m.id === 2)).toMatchObject({ type: 'result', data: payload })
    expect(await peer.next((m) => m.id === 3)).toMatchObject({ type: 'result', data: payload })
    peer.send(call(4, 'whoami'))
    expect(await peer.next((m) => m.id === 4)).toMatchObject({ type: 'result', data: 'new' })

    const over = paramsOfSize(maxConnectionParamsBytes + 1, 'over')
    expect(Buffer.byteLength(JSON.stringify([over, null]))).toBe(maxConnectionParamsBytes + 1)
    peer.send([call(5, 'echo', payload), { type: 'reinit', id: 6, params: over }, call(7, 'echo', payload)])
    expect(await peer.next((m) => m.id === 6)).toMatchObject({ type: 'error', code: 'PAYLOAD_TOO_LARGE' })
    expect(await peer.next((m) => m.id === 5)).toMatchObject({ type: 'result', data: payload })
    expect(await peer.next((m) => m.id === 7)).toMatchObject({ type: 'result', data: payload })
    peer.send(call(8, 'whoami'))
    expect(await peer.next((m) => m.id === 8)).toMatchObject({ type: 'result', data: 'new' })
    for (const id of [1, 2, 3, 5, 6, 7]) expect(answersTo(peer, id)).toHaveLength(1)
    expect(peer.ws.readyState).toBe(WebSocket.OPEN)
  })

  it('a client that writes updateParams() and calls in the same task sends them in one frame, and all succeed', async () => {
    const { url } = await startServer({ router, createContext, maxConnectionParamsBytes })
    const proxy = await frameProxy(url)
    const api = connectClient<R>(proxy.url, { connectionParams: { name: 'old' } })
    expect(await api.whoami.query()).toBe('old')
    const payload = 'c'.repeat(20_000)
    const [, a, b] = await within(
      Promise.all([api.$connection.updateParams(paramsOfSize(maxConnectionParamsBytes - 10)), api.echo.query(payload), api.echo.query(payload)]),
      'the reinit and the calls',
    )
    expect([a, b]).toEqual([payload, payload])
    expect(await api.whoami.query()).toBe('new')
    const frame = framesWith(proxy.up, (m) => m.type === 'reinit')
    expect(frame).toHaveLength(1)
    expect(messagesOf(frame[0]!).map((m) => m.type)).toEqual(['reinit', 'call', 'call'])
  })
})

describe('close() right after an unsubscribe or a cancel', () => {
  it('delivers the unsubscribe and the cancel before the close: the server stops them as CANCELLED, not as CONNECTION_LOST', async () => {
    const { server, url } = await startServer({ router, createContext })
    const api = connectClient<R>(url)
    const subTag = newTag('unsubscribed')
    const callTag = newTag('cancelled')
    let events = 0
    const sub = api.ticks.subscribe({ tag: subTag }, { onData: () => events++ })
    const controller = new AbortController()
    const held = api.hold.query({ tag: callTag }, { signal: controller.signal })
    await waitUntil(() => events > 0 && seen.has(callTag), 'the subscription and the call to be running')

    // Same task: the unsubscribe and the cancel are held in the batch when close() is called.
    sub.unsubscribe()
    controller.abort()
    const heldError = rpcErrorOf(held)
    await api.$connection.close()
    expect((await heldError).code).toBe('CANCELLED')

    await waitUntil(() => seen.get(subTag)!.finished && seen.get(callTag)!.finished, 'the server to stop both')
    expect(seen.get(subTag)!.reason).toMatchObject({ code: 'CANCELLED', message: 'The client unsubscribed' })
    expect(seen.get(callTag)!.reason).toMatchObject({ code: 'CANCELLED', message: 'The caller cancelled' })
    await waitUntil(() => server.connectionCount === 0, 'the server to release the connection')
  })

  it('(the contrast) a close alone ends them as CONNECTION_LOST', async () => {
    const { url } = await startServer({ router, createContext })
    const api = connectClient<R>(url)
    const subTag = newTag('dropped-sub')
    const callTag = newTag('dropped-call')
    let events = 0
    api.ticks.subscribe({ tag: subTag }, { onData: () => events++ })
    const heldError = rpcErrorOf(api.hold.query({ tag: callTag }))
    await waitUntil(() => events > 0 && seen.has(callTag), 'the subscription and the call to be running')
    await api.$connection.close()
    expect((await heldError).code).toBe('CANCELLED')
    await waitUntil(() => seen.get(subTag)!.finished && seen.get(callTag)!.finished, 'the server to stop both')
    expect(seen.get(subTag)!.reason).toMatchObject({ code: 'CONNECTION_LOST' })
    expect(seen.get(callTag)!.reason).toMatchObject({ code: 'CONNECTION_LOST' })
  })
})
