import { createRequire } from 'node:module'
import { connect } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { z } from 'zod'
import { CloseCode, initRpc, PROTOCOL, RpcError } from '@wirecall/core'
import type { RpcClient, RpcClientOptions } from '@wirecall/client'
import type { RpcServer, RpcServerOptions } from '@wirecall/server'
import {
  connectClient,
  rawPeer,
  readyPeer,
  rpcErrorOf,
  sleep,
  startServer,
  upgradeRequest,
  waitUntil,
  within,
  type RawPeer,
  type TestServer,
} from '../../helpers/harness'
import { startFaultProxy } from '../../helpers/fault-proxy'
import { failOnEscapedErrors } from '../../helpers/invariants'

/**
 * The server's limits, each hit for real over a socket: the offender gets
 * the documented close code or per-call error, nothing escapes the server
 * as an uncaught exception or unhandled rejection, and once the offender is
 * gone the server holds nothing for it and serves the next client.
 */

const KiB = 1_024
const MiB = 1_024 * KiB

// ---------------------------------------------------------------------------
// The API under test

/** Calls to `held` wait until the test opens the gate (or the call is aborted). */
let openGate: () => void = () => {}
let gate: Promise<void> = Promise.resolve()
function closeGate(): void {
  heldSignals.clear()
  gate = new Promise<void>((resolve) => (openGate = resolve))
  // A test that fails half-way must not leave resolvers waiting for the next one.
  onTestFinished(() => openGate())
}
/** The signal of each `held` call, by its input. */
const heldSignals = new Map<number, AbortSignal>()

/** Subscription runs by tag: `finished` is set in the generator's `finally`. */
const runs = new Map<string, { finished: boolean }>()
let tagCounter = 0
const newTag = (name: string) => `${name}-${++tagCounter}`

const rpc = initRpc.create()
const router = rpc.router({
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
  held: rpc.procedure.input(z.number()).query(async ({ input, signal }) => {
    heldSignals.set(input, signal)
    await new Promise<void>((resolve) => {
      void gate.then(resolve)
      signal.addEventListener('abort', () => resolve(), { once: true })
    })
    return input
  }),
  /** 0, 1, 2... every 20 ms until aborted. */
  ticks: rpc.procedure.input(z.object({ tag: z.string() })).subscription(async function* ({ input, signal }) {
    const run = { finished: false }
    runs.set(input.tag, run)
    try {
      for (let n = 0; !signal.aborted; n++) {
        yield n
        await sleep(20, signal)
      }
    } finally {
      run.finished = true
    }
  }),
})
type R = typeof router

// ---------------------------------------------------------------------------
// Fixtures

async function serve(options: Partial<RpcServerOptions<R>> = {}): Promise<TestServer> {
  failOnEscapedErrors()
  return startServer<R>({ router, keepAlive: false, ...options } as RpcServerOptions<R>)
}

/** Waits until the server holds nothing: no connection, call, subscription or unwinding generator. */
async function expectNothingHeld(server: RpcServer, what = 'the server to release everything'): Promise<void> {
  const idle = () => {
    const s = server.stats()
    return s.connections === 0 && s.inFlightCalls === 0 && s.subscriptions === 0 && s.unwinding === 0
  }
  await waitUntil(idle, `${what} (stats: ${JSON.stringify(server.stats())})`)
}

/**
 * The end of every test: the offenders leave, the server lets go of
 * everything they held, a fresh client's call succeeds, and once it has left
 * too the server holds nothing again.
 */
async function expectRecovered(
  t: TestServer,
  offenders: { ws: WebSocket }[] = [],
  clientOptions: Partial<RpcClientOptions> = {},
): Promise<void> {
  for (const peer of offenders) peer.ws.terminate()
  await expectNothingHeld(t.server, 'the server to release the offenders')
  const api = connectClient<R>(t.url, clientOptions)
  await expect(within(api.echo.query('still serving'), 'a fresh client call')).resolves.toBe('still serving')
  await api.$connection.close()
  await expectNothingHeld(t.server, 'the server to release the fresh client')
}

/** A raw `call` to `echo`, as the wire carries it. */
const echoCall = (id: number, input = `m${id}`) => ({ type: 'call', id, method: 'query', path: 'echo', input })

/** The frame of a call to `echo` padded (in its input) to exactly `bytes` bytes. */
function echoFrameOfSize(id: number, bytes: number): string {
  const empty = JSON.stringify(echoCall(id, ''))
  const frame = JSON.stringify(echoCall(id, 'x'.repeat(bytes - empty.length)))
  expect(Buffer.byteLength(frame)).toBe(bytes)
  return frame
}

/** Every answer (result or error) the peer received for `id`. */
const answersTo = (peer: RawPeer, id: number) => peer.messages.filter((m) => m.id === id && (m.type === 'result' || m.type === 'error'))

/** A raw `ws` socket with its close recorded; terminated after the test. */
function openSocket(url: string, options: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, PROTOCOL, options)
  ws.on('error', () => {})
  onTestFinished(() => ws.terminate())
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  )
  const messages: unknown[] = []
  ws.on('message', (data) => messages.push(JSON.parse(String(data))))
  return { ws, opened, closed, messages }
}

/**
 * A client frame (masked, with a zero mask) of `length` bytes, written by
 * hand so it can follow the upgrade request at once.
 */
function maskedTextFrame(length: number): Buffer {
  const head = Buffer.alloc(8)
  head[0] = 0x81 // FIN, text
  head[1] = 0x80 | 126 // masked, 16-bit length
  head.writeUInt16BE(length, 2)
  return Buffer.concat([head, Buffer.alloc(length, 0x20)])
}

/**
 * Sends an upgrade request over raw TCP and, without waiting for the 101,
 * `after` in the same write: a peer that does not wait for the server to
 * answer. Resolves with everything the server sent back once it closed the
 * socket (or after `ms`).
 */
async function pipelinedUpgrade(port: number, path: string, headers: Record<string, string>, after: Buffer, ms = 1_000): Promise<string> {
  const socket = connect(port, '127.0.0.1')
  onTestFinished(() => void socket.destroy())
  socket.on('error', () => {})
  let received = ''
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(Buffer.concat([upgradeRequest(path, headers), after]))
  await Promise.race([new Promise((resolve) => socket.once('close', resolve)), sleep(ms)])
  socket.destroy()
  return received
}

// ---------------------------------------------------------------------------

describe('ws', () => {
  it('is at least 8.21.0, the first version that bounds fragments and buffered chunks', () => {
    const version = (createRequire(import.meta.url)('ws/package.json') as { version: string }).version
    const [major, minor] = version.split('.').map(Number) as [number, number]
    expect(major > 8 || (major === 8 && minor >= 21), `ws ${version}`).toBe(true)
  })
})

describe('maxPayload', () => {
  it('closes with 1009 on a frame one byte over maxPayload, and answers one of exactly maxPayload', async () => {
    const t = await serve({ maxPayload: 4 * KiB })
    const fits = await readyPeer(t.url)
    fits.send(echoFrameOfSize(1, 4 * KiB))
    expect(await fits.next((m) => m.id === 1)).toMatchObject({ type: 'result', id: 1 })
    expect(fits.ws.readyState).toBe(WebSocket.OPEN)

    const over = await readyPeer(t.url)
    over.send(echoFrameOfSize(2, 4 * KiB + 1))
    const closed = await within(over.closed, 'the server to refuse the frame')
    expect(closed.code).toBe(1009)
    expect(answersTo(over, 2)).toEqual([])
    await expectRecovered(t, [fits, over])
  })

  it('holds after decompression: a small deflated frame that inflates past maxPayload closes with 1009 without being inflated', async () => {
    const t = await serve({ perMessageDeflate: true })
    const peer = openSocket(t.url, { perMessageDeflate: true })
    await within(peer.opened, 'the upgrade')
    expect(peer.ws.extensions).toContain('permessage-deflate')
    peer.ws.send(JSON.stringify({ type: 'init' }))
    await waitUntil(() => peer.messages.length > 0, 'the ack')

    // 10 MiB of spaces deflate to a few KiB; allocated before the baseline so only what the server does counts.
    const inflated = 10 * MiB
    const bomb = Buffer.alloc(inflated, 0x20)
    const tcp = (peer.ws as unknown as { _socket: { bytesWritten: number } })._socket
    const written = tcp.bytesWritten
    const memory = () => {
      const m = process.memoryUsage()
      return m.heapUsed + m.arrayBuffers
    }
    const baseline = memory()
    let peak = baseline
    const sampler = setInterval(() => (peak = Math.max(peak, memory())), 1)
    onTestFinished(() => clearInterval(sampler))

    peer.ws.send(bomb, { binary: false })
    const closed = await within(peer.closed, 'the server to refuse the inflated frame')
    clearInterval(sampler)
    peak = Math.max(peak, memory())

    expect(closed.code).toBe(1009)
    expect(tcp.bytesWritten - written, 'bytes on the wire').toBeLessThan(100 * KiB)
    expect(peak - baseline, 'memory growth while the server handled the frame').toBeLessThan(inflated / 2)
    await expectRecovered(t, [peer])
  })
})

describe('fragments', () => {
  /** Sends `frame` as `count` fragments, each at least one byte. */
  function sendFragmented(ws: WebSocket, frame: string, count: number): void {
    expect(frame.length).toBeGreaterThanOrEqual(count)
    const size = Math.floor(frame.length / count)
    for (let i = 0; i < count - 1; i++) ws.send(frame.slice(i * size, (i + 1) * size), { fin: false })
    ws.send(frame.slice((count - 1) * size), { fin: true })
  }

  it('answers a message sent as exactly 1_024 fragments', async () => {
    const t = await serve()
    const peer = await readyPeer(t.url)
    sendFragmented(peer.ws, JSON.stringify(echoCall(1, 'f'.repeat(2 * KiB))), 1_024)
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'result', id: 1 })
    await expectRecovered(t, [peer])
  })

  it('closes with 1008 (ws: too many message fragments) on a message sent as 1_025 fragments', async () => {
    const t = await serve()
    const peer = await readyPeer(t.url)
    sendFragmented(peer.ws, JSON.stringify(echoCall(1, 'f'.repeat(2 * KiB))), 1_025)
    const closed = await within(peer.closed, 'the server to refuse the fragmented message')
    expect(closed.code).toBe(1008)
    expect(answersTo(peer, 1)).toEqual([])
    await expectRecovered(t, [peer])
  })

  it('closes with 1008 on a message that never ends, long before maxPayload', async () => {
    const t = await serve()
    const peer = await readyPeer(t.url)
    for (let i = 0; i < 2_000; i++) peer.ws.send('x', { fin: false })
    expect((await within(peer.closed, 'the server to refuse the fragments')).code).toBe(1008)
    await expectRecovered(t, [peer])
  })
})

describe('maxInFlightCalls', () => {
  it('refuses the call over the limit with TOO_MANY_REQUESTS from a peer that ignores the announced limit; the connection lives', async () => {
    closeGate()
    const t = await serve({ maxInFlightCalls: 5 })
    const peer = await readyPeer(t.url)
    peer.send([1, 2, 3, 4, 5, 6].map((id) => ({ type: 'call', id, method: 'query', path: 'held', input: id })))
    expect(await peer.next((m) => m.type === 'error')).toMatchObject({ id: 6, code: 'TOO_MANY_REQUESTS' })
    expect(heldSignals.has(6)).toBe(false)
    expect(t.server.stats().inFlightCalls).toBe(5)
    openGate()
    await waitUntil(() => peer.messages.filter((m) => m.type === 'result').length === 5, 'the five answers')
    peer.send({ type: 'call', id: 7, method: 'query', path: 'held', input: 7 })
    expect(await peer.next((m) => m.id === 7)).toMatchObject({ type: 'result', data: 7 })
    peer.ws.close()
    await expectRecovered(t)
  })

  it('the official client holds the call over the announced limit until one finishes, then every call succeeds on the same connection', async () => {
    closeGate()
    const t = await serve({ maxInFlightCalls: 5 })
    const api = connectClient<R>(t.url)
    const closes: number[] = []
    api.$connection.on('close', ({ code }) => closes.push(code))
    await api.echo.query('connected')

    const calls = [1, 2, 3, 4, 5].map((n) => api.held.query(n))
    const sixth = api.held.query(6)
    await waitUntil(() => t.server.stats().inFlightCalls === 5, 'five calls to run')
    await sleep(30)
    // Held by the client, not refused by the server.
    expect(heldSignals.has(6)).toBe(false)
    expect(t.server.stats().inFlightCalls).toBe(5)

    openGate()
    await expect(within(Promise.all([...calls, sixth]), 'the six calls')).resolves.toEqual([1, 2, 3, 4, 5, 6])
    await waitUntil(() => t.server.stats().inFlightCalls === 0, 'the calls to leave the table')
    const again = [7, 8, 9, 10, 11].map((n) => api.held.query(n))
    await expect(within(Promise.all(again), 'calls after the others finished')).resolves.toEqual([7, 8, 9, 10, 11])
    expect(api.$connection.state).toBe('open')
    expect(closes).toEqual([])
    await api.$connection.close()
    await expectRecovered(t)
  })
})

describe('maxSubscriptions', () => {
  it('refuses the subscription over the limit with TOO_MANY_REQUESTS and accepts one again after an unsubscribe', async () => {
    const t = await serve({ maxSubscriptions: 3 })
    const api = connectClient<R>(t.url)
    const tags = [1, 2, 3].map(() => newTag('sub'))
    const started = new Set<string>()
    const subs = tags.map((tag) => api.ticks.subscribe({ tag }, { onStarted: () => started.add(tag), onData: () => {} }))
    await waitUntil(() => started.size === 3, 'three subscriptions to start')

    const fourth = newTag('fourth')
    const refused = new Promise<RpcError>((resolve) => api.ticks.subscribe({ tag: fourth }, { onError: resolve }))
    expect((await within(refused, 'the fourth subscription to be refused')).code).toBe('TOO_MANY_REQUESTS')
    expect(runs.has(fourth)).toBe(false)
    expect(t.server.stats().subscriptions).toBe(3)

    subs[0]!.unsubscribe()
    const fifth = newTag('fifth')
    const fifthStarted = new Promise<void>((resolve, reject) =>
      api.ticks.subscribe({ tag: fifth }, { onStarted: () => resolve(), onError: reject, onData: () => {} }),
    )
    await within(fifthStarted, 'a subscription after the unsubscribe')
    await waitUntil(() => runs.get(tags[0]!)?.finished === true, 'the unsubscribed generator to finish')
    expect(t.server.stats().subscriptions).toBe(3)
    expect(api.$connection.state).toBe('open')
    await api.$connection.close()
    await expectRecovered(t)
  })
})

describe('rateLimit', () => {
  const rateLimit = { messagesPerSecond: 50, burst: 20 }

  it('answers a burst up to the bucket and refuses the rest with per-call TOO_MANY_REQUESTS, then recovers with time, and closes a sustained flood with 1008', async () => {
    const t = await serve({ rateLimit })
    const peer = await readyPeer(t.url)
    // The init took one token: 19 left, plus at most one refilled since.
    peer.send(Array.from({ length: 30 }, (_, i) => echoCall(i + 1)))
    await waitUntil(() => peer.messages.filter((m) => m.type === 'result' || m.type === 'error').length === 30, 'an answer to each of the 30 calls')

    const answered = peer.messages.filter((m) => m.type === 'result').map((m) => m.id as number)
    const refused = peer.messages.filter((m) => m.type === 'error')
    expect(answered.length).toBeGreaterThanOrEqual(19)
    expect(answered.length).toBeLessThanOrEqual(20)
    // Tokens go in arrival order: the first calls pass, every later one is refused under its own id.
    expect([...answered].sort((a, b) => a - b)).toEqual(Array.from({ length: answered.length }, (_, i) => i + 1))
    expect(refused.map((m) => m.id)).toEqual(Array.from({ length: 30 - answered.length }, (_, i) => answered.length + i + 1))
    for (const error of refused) expect(error).toMatchObject({ type: 'error', code: 'TOO_MANY_REQUESTS' })
    expect(peer.ws.readyState).toBe(WebSocket.OPEN)

    await sleep(1_000)
    peer.messages.length = 0
    for (let id = 101; id <= 105; id++) peer.send(echoCall(id))
    await waitUntil(() => peer.messages.length === 5, 'the five calls after a pause')
    expect(peer.messages.map((m) => m.type)).toEqual(['result', 'result', 'result', 'result', 'result'])

    for (let id = 201; id <= 300; id++) peer.send(echoCall(id))
    const closed = await within(peer.closed, 'the server to close the flooding peer')
    expect(closed).toEqual({ code: CloseCode.PolicyViolation, reason: 'message rate limit exceeded' })
    expect(closed.code).toBe(1008)
    await expectRecovered(t, [peer])
  })

  it('lets no more than burst messages through at once after the connection was idle', async () => {
    const t = await serve({ rateLimit })
    const peer = await readyPeer(t.url)
    // Long enough for the bucket to be full again, and more.
    await sleep(600)
    peer.send(Array.from({ length: 30 }, (_, i) => echoCall(i + 1)))
    await waitUntil(() => peer.messages.filter((m) => m.type === 'result' || m.type === 'error').length === 30, 'an answer to each of the 30 calls')
    const answered = peer.messages.filter((m) => m.type === 'result')
    expect(answered.length).toBe(rateLimit.burst)
    await expectRecovered(t, [peer])
  })

  it('still carries out an unsubscribe over the limit: the generator finishes', async () => {
    const t = await serve({ rateLimit })
    const peer = await readyPeer(t.url)
    const tag = newTag('flooded')
    peer.send({ type: 'subscribe', id: 1, path: 'ticks', input: { tag } })
    await peer.next((m) => m.type === 'started' && m.id === 1)

    // One frame, so no token comes back in between: 30 pings empty the bucket, then a call proves it is empty.
    peer.send([...Array.from({ length: 30 }, () => ({ type: 'ping' })), echoCall(50), { type: 'unsubscribe', id: 1 }, echoCall(51)])
    expect(await peer.next((m) => m.id === 50)).toMatchObject({ type: 'error', code: 'TOO_MANY_REQUESTS' })
    expect(await peer.next((m) => m.id === 51)).toMatchObject({ type: 'error', code: 'TOO_MANY_REQUESTS' })
    // Pings over the limit go unanswered.
    expect(peer.messages.filter((m) => m.type === 'pong').length).toBeLessThanOrEqual(rateLimit.burst)
    await waitUntil(() => runs.get(tag)?.finished === true, 'the unsubscribed generator to run its finally')
    expect(t.server.stats().subscriptions).toBe(0)
    const dataCount = peer.messages.filter((m) => m.type === 'data').length
    await sleep(60)
    expect(peer.messages.filter((m) => m.type === 'data').length).toBe(dataCount)
    expect(peer.ws.readyState).toBe(WebSocket.OPEN)
    await expectRecovered(t, [peer])
  })

  it('still carries out a cancel over the limit: the call is aborted', async () => {
    closeGate()
    const t = await serve({ rateLimit })
    const peer = await readyPeer(t.url)
    const input = 1_000 + ++tagCounter
    peer.send({ type: 'call', id: 2, method: 'query', path: 'held', input })
    await waitUntil(() => heldSignals.has(input), 'the held call to start')

    peer.send([...Array.from({ length: 30 }, () => ({ type: 'ping' })), echoCall(50), { type: 'cancel', id: 2 }, echoCall(51)])
    expect(await peer.next((m) => m.id === 50)).toMatchObject({ type: 'error', code: 'TOO_MANY_REQUESTS' })
    expect(await peer.next((m) => m.id === 51)).toMatchObject({ type: 'error', code: 'TOO_MANY_REQUESTS' })
    await waitUntil(() => heldSignals.get(input)!.aborted, 'the cancelled call to be aborted')
    expect(t.server.stats().inFlightCalls).toBe(0)
    expect(answersTo(peer, 2)).toEqual([])
    await expectRecovered(t, [peer])
  })
})

// allowedOrigins and requireOrigin: tests/integration/connection/origins.test.ts

describe('maxConnections', () => {
  it('closes the connection over the cap with 1013 right after the upgrade, and accepts one again once another has left', async () => {
    const t = await serve({ maxConnections: 3 })
    const peers = [await readyPeer(t.url), await readyPeer(t.url), await readyPeer(t.url)]
    const fourth = await rawPeer(t.url)
    const closed = await within(fourth.closed, 'the server to close the fourth connection', 1_000)
    expect(closed.code).toBe(CloseCode.TryAgainLater)
    expect(closed.code).toBe(1013)
    expect(closed.reason).toMatch(/too many connections/)
    expect(fourth.messages).toEqual([])
    expect(t.server.stats().connections).toBe(3)

    peers[0]!.ws.close()
    await waitUntil(() => t.server.stats().connections === 2, 'the server to release the closed connection')
    const next = await readyPeer(t.url)
    next.send(echoCall(1))
    expect(await next.next((m) => m.id === 1)).toMatchObject({ type: 'result' })
    await expectRecovered(t, [...peers, fourth, next])
  })

  it('survives a refused connection whose peer sends an oversized frame before reading the close', async () => {
    const t = await serve({ maxConnections: 1, maxPayload: 1 * KiB })
    const first = await readyPeer(t.url)
    // The frame sits behind the upgrade request, so the server reads it on the socket it has just refused.
    const received = await pipelinedUpgrade(t.port, '/rpc', {}, maskedTextFrame(4 * KiB))
    expect(received).toMatch(/^HTTP\/1\.1 101/)
    expect(received).toContain('too many connections')
    await expectRecovered(t, [first])
  })

  it('releases the slot of a connection whatever closed it: init timeout, protocol error, an abrupt drop', async () => {
    const t = await serve({ maxConnections: 2, initTimeoutMs: 100 })
    for (let round = 0; round < 3; round++) {
      const silent = await rawPeer(t.url)
      expect((await within(silent.closed, 'the init timeout')).code).toBe(4408)
      await expectNothingHeld(t.server)
      const rude = await rawPeer(t.url)
      rude.send('not json')
      expect((await within(rude.closed, 'the protocol error')).code).toBe(4400)
      await expectNothingHeld(t.server)
      const dropped = await readyPeer(t.url)
      dropped.ws.terminate()
      await expectNothingHeld(t.server)
      // Full again, and one over: refused without taking a slot.
      const first = await readyPeer(t.url)
      const second = await readyPeer(t.url)
      const over = await rawPeer(t.url)
      expect((await within(over.closed, 'the cap')).code).toBe(1013)
      first.ws.terminate()
      second.ws.terminate()
      await expectNothingHeld(t.server)
    }
    // Two at once still fit: no slot leaked in the rounds above.
    const a = await readyPeer(t.url)
    const b = await readyPeer(t.url)
    a.send(echoCall(1))
    b.send(echoCall(1))
    await a.next((m) => m.id === 1)
    await b.next((m) => m.id === 1)
    await expectRecovered(t, [a, b])
  })

  it('maxConnectionsPerIp: the third connection from 127.0.0.1 is closed with 1013, and one is accepted again after another left', async () => {
    const t = await serve({ maxConnectionsPerIp: 2 })
    const peers = [await readyPeer(t.url), await readyPeer(t.url)]
    const third = await rawPeer(t.url)
    const closed = await within(third.closed, 'the server to close the third connection', 1_000)
    expect(closed.code).toBe(1013)
    expect(closed.reason).toMatch(/too many connections from one address/)
    expect(t.server.stats().connections).toBe(2)

    peers[1]!.ws.terminate()
    await waitUntil(() => t.server.stats().connections === 1, 'the server to release the dropped connection')
    const next = await readyPeer(t.url)
    next.send(echoCall(1))
    expect(await next.next((m) => m.id === 1)).toMatchObject({ type: 'result' })
    await expectRecovered(t, [...peers, third, next])
  })
})

describe('initTimeoutMs', () => {
  it('closes a peer that never sends init with 4408 after about initTimeoutMs', async () => {
    const t = await serve({ initTimeoutMs: 200 })
    const startedAt = Date.now()
    const peer = await rawPeer(t.url)
    const closed = await within(peer.closed, 'the init timeout', 2_000)
    const elapsed = Date.now() - startedAt
    expect(closed.code).toBe(CloseCode.InitTimeout)
    expect(closed.code).toBe(4408)
    expect(elapsed).toBeGreaterThanOrEqual(180)
    expect(elapsed).toBeLessThan(1_700)
    await expectRecovered(t, [peer])
  })
})

describe('maxConnectionParamsBytes', () => {
  const maxConnectionParamsBytes = 1 * KiB

  /** An init frame padded (in a params field) to exactly `bytes` bytes. */
  function initFrameOfSize(bytes: number): string {
    const empty = JSON.stringify({ type: 'init', params: { pad: '' } })
    const frame = JSON.stringify({ type: 'init', params: { pad: 'p'.repeat(bytes - empty.length) } })
    expect(Buffer.byteLength(frame)).toBe(bytes)
    return frame
  }

  /** A server with the limit whose createContext records the `token` of the params each connection was accepted with. */
  async function serveRecordingTokens(): Promise<{ t: TestServer; tokens: unknown[] }> {
    const tokens: unknown[] = []
    const t = await serve({
      maxConnectionParamsBytes,
      createContext: ({ connectionParams }) => {
        tokens.push((connectionParams as { token?: unknown } | undefined)?.token)
        return {}
      },
    })
    return { t, tokens }
  }

  /** Asks to replace the params with ones over the limit (token 'big'); the server must refuse with PAYLOAD_TOO_LARGE. */
  async function expectOversizedUpdateRefused(api: RpcClient<R>): Promise<void> {
    const error = await within(rpcErrorOf(api.$connection.updateParams({ token: 'big', blob: 'b'.repeat(2 * KiB) })), 'updateParams')
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
  }

  it('closes with 4413 on an init over the limit, and accepts one of exactly the limit', async () => {
    const contexts: unknown[] = []
    const t = await serve({
      maxConnectionParamsBytes,
      createContext: ({ connectionParams }) => {
        contexts.push(connectionParams)
        return {}
      },
    })
    const fits = await rawPeer(t.url)
    fits.send(initFrameOfSize(maxConnectionParamsBytes))
    await fits.next((m) => m.type === 'ack')

    const over = await rawPeer(t.url)
    over.send({ type: 'init', params: { blob: 'b'.repeat(2 * KiB) } })
    const closed = await within(over.closed, 'the server to refuse the params')
    expect(closed.code).toBe(CloseCode.ParamsTooLarge)
    expect(closed.code).toBe(4413)
    expect(over.messages).toEqual([])
    expect(contexts).toHaveLength(1)
    await expectRecovered(t, [fits, over])
  })

  it('counts bytes, not characters: multi-byte params over the limit are refused', async () => {
    const t = await serve({ maxConnectionParamsBytes })
    const peer = await rawPeer(t.url)
    // 400 characters, 1_200 bytes in UTF-8.
    peer.send({ type: 'init', params: { name: '€'.repeat(400) } })
    expect((await within(peer.closed, 'the server to refuse the params')).code).toBe(4413)
    await expectRecovered(t, [peer])
  })

  it('ends the typed client with PAYLOAD_TOO_LARGE, for good: no reconnect', async () => {
    const t = await serve({ maxConnectionParamsBytes })
    const api = connectClient<R>(t.url, {
      connectionParams: { blob: 'b'.repeat(2 * KiB) },
      reconnect: { minDelayMs: 10, maxDelayMs: 20 },
    })
    const states: string[] = []
    api.$connection.on('state', (state) => states.push(state))
    const error = await within(rpcErrorOf(api.echo.query('x')), 'the call to fail')
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    await waitUntil(() => api.$connection.state === 'closed', 'the client to close')
    expect(api.$connection.error?.code).toBe('PAYLOAD_TOO_LARGE')
    const statesAtClose = states.length
    await sleep(200)
    expect(states.slice(statesAtClose)).toEqual([])
    expect(t.server.stats().connections).toBe(0)
    await expectRecovered(t)
  })

  it('refuses a reinit over the limit with PAYLOAD_TOO_LARGE and keeps the connection and its context', async () => {
    const { t, tokens } = await serveRecordingTokens()
    const api = connectClient<R>(t.url, { connectionParams: { token: 'small' } })
    await api.echo.query('connected')
    const closes: number[] = []
    api.$connection.on('close', ({ code }) => closes.push(code))

    await expectOversizedUpdateRefused(api)
    await expect(api.echo.query('after')).resolves.toBe('after')
    expect(api.$connection.state).toBe('open')
    expect(closes).toEqual([])
    expect(tokens).toEqual(['small'])
    await api.$connection.close()
    await expectRecovered(t)
  })

  it('does not send refused oversized params again on the next connect', async () => {
    const { t, tokens } = await serveRecordingTokens()
    const proxy = await startFaultProxy(t.port)
    const api = connectClient<R>(proxy.url('/rpc'), { connectionParams: { token: 'small' }, reconnect: { minDelayMs: 10, maxDelayMs: 30 } })
    await api.echo.query('connected')
    await expectOversizedUpdateRefused(api)

    let reopened = false
    api.$connection.on('state', (state) => {
      if (state === 'open') reopened = true
    })
    proxy.cut()
    await waitUntil(() => reopened || api.$connection.state === 'closed', 'the reconnect')
    expect(api.$connection.error).toBeUndefined()
    await expect(within(api.echo.query('after the reconnect'), 'a call after the reconnect')).resolves.toBe('after the reconnect')
    expect(tokens).toEqual(['small', 'small'])
    await api.$connection.close()
    await proxy.close()
    await expectRecovered(t)
  })
})

describe('createContext and hostile connection params', () => {
  it('closes with 4401 when createContext throws', async () => {
    const t = await serve({
      createContext: ({ connectionParams }) => {
        if ((connectionParams as { token?: string } | undefined)?.token === 'unlucky') throw new Error('the session store is down')
        return {}
      },
    })
    const peer = await rawPeer(t.url)
    peer.send({ type: 'init', params: { token: 'unlucky' } })
    expect(await within(peer.closed, 'the server to refuse the connection')).toEqual({ code: 4401, reason: 'Connection refused' })
    await expectRecovered(t, [peer])
  })

  const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`
  const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

  /** Raw init frames, and whether a createContext that accepts anything must see them accepted. */
  const cases: [name: string, frame: string, expected: 'ack' | 4401 | 1009 | 'either'][] = [
    ['params null', '{"type":"init","params":null}', 'ack'],
    ['params []', '{"type":"init","params":[]}', 'ack'],
    ['params a string', '{"type":"init","params":"str"}', 'ack'],
    ['params 42', '{"type":"init","params":42}', 'ack'],
    ['params true', '{"type":"init","params":true}', 'ack'],
    ['params with an own __proto__ key', '{"type":"init","params":{"__proto__":{"x":1,"polluted":true}}}', 'ack'],
    ['params with constructor.prototype', '{"type":"init","params":{"constructor":{"prototype":{"polluted":true}}}}', 'ack'],
    ['arrays nested past maxDepth', `{"type":"init","params":${deep(100)}}`, 4401],
    ['objects nested past maxDepth', `{"type":"init","params":${deepObject(100)}}`, 4401],
    // Past the frame bound (maxDepth + 64): refused before it is parsed.
    ['arrays nested 5_000 deep', `{"type":"init","params":${deep(5_000)}}`, 1009],
    ['meta a string', '{"type":"init","params":{"a":1},"meta":"garbage"}', 'either'],
    ['meta a number', '{"type":"init","params":{"a":1},"meta":42}', 'either'],
    ['meta with values of the wrong type', '{"type":"init","params":{"a":1},"meta":{"values":"x"}}', 'either'],
    ['meta with an unknown annotation', '{"type":"init","params":{"a":1},"meta":{"values":{"a":["no-such-type"]},"v":1}}', 'either'],
    ['meta annotating a __proto__ path', '{"type":"init","params":{"a":{}},"meta":{"values":{"a.__proto__":["Date"]},"v":1}}', 'either'],
    ['meta annotating __proto__ itself', '{"type":"init","params":{"__proto__":{}},"meta":{"values":{"__proto__":["set"]},"v":1}}', 'either'],
    [
      'meta with referential equalities into __proto__',
      '{"type":"init","params":{"a":{"polluted":true},"b":{}},"meta":{"referentialEqualities":{"a":["__proto__","b.__proto__","constructor.prototype"]},"v":1}}',
      'either',
    ],
    [
      'meta with a class annotation for an unregistered class',
      '{"type":"init","params":{"a":{}},"meta":{"values":{"a":[["class","Object"]]},"v":1}}',
      'either',
    ],
    ['meta nested past maxDepth', `{"type":"init","params":{"a":1},"meta":${deep(100)}}`, 'either'],
  ]

  it.each(cases)('%s: never crashes the server nor pollutes Object.prototype', async (_name, frame, expected) => {
    const received: unknown[] = []
    const t = await serve({
      // Room for the 5_000-deep case: this test is about the payload bounds, not the size bound.
      maxConnectionParamsBytes: 64 * KiB,
      createContext: ({ connectionParams }) => {
        received.push(connectionParams)
        return {}
      },
    })
    const peer = await rawPeer(t.url)
    peer.send(frame)
    const outcome = await within(
      Promise.race([peer.closed.then((c) => c.code), peer.next((m) => m.type === 'ack').then(() => 'ack' as const)]),
      'the server to accept or refuse the init',
    )
    if (expected !== 'either') expect(outcome).toBe(expected)
    else expect([4401, 'ack']).toContain(outcome)

    expect(Object.prototype).not.toHaveProperty('x')
    expect(Object.prototype).not.toHaveProperty('polluted')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    if (outcome === 'ack') {
      expect(received).toHaveLength(1)
      const params = received[0]
      if (expected === 'ack') {
        // createContext gets exactly what was sent, nothing more.
        const sent = (JSON.parse(frame) as { params: unknown }).params
        expect(JSON.stringify(params)).toBe(JSON.stringify(sent))
      }
      if (typeof params === 'object' && params !== null && !Array.isArray(params)) {
        // An own `__proto__` key stays data: it must not become the object's prototype.
        expect(Object.getPrototypeOf(params)).toBe(Object.prototype)
        expect((params as Record<string, unknown>).polluted).toBeUndefined()
      }
      // The connection works.
      peer.send(echoCall(1))
      expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'result' })
    } else {
      expect(peer.messages).toEqual([])
      if (expected === 4401) expect(received).toEqual([])
    }
    await expectRecovered(t, [peer])
  })
})
