import { describe, expect, it, onTestFinished } from 'vitest'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import { MAX_RESTART_DELAY_MS, createChannel, initRpc, type RpcError } from '@wirecall/core'
import { createRpcServer, type RpcServer } from '@wirecall/server'
import { connectClient, readyPeer, sleep, startHttpServer, startServer, tryUpgrade, waitUntil, within } from '../../helpers/harness'

/**
 * Deploy restarts: `server.close({ graceMs, reconnectWindowMs })` announces
 * the restart, lets calls in flight finish, closes with 1012, and spreads the
 * clients' reconnects over the window; a new server takes the same port (or
 * the same http server). A crash (sockets cut with no close frame) in
 * between must lose nothing either: subscriptions to a channel that outlives
 * the servers resume with no gap and no duplicate.
 */

const rpc = initRpc.create()
const HOST = '127.0.0.1'
const PATH = '/rpc'

/** A promise with its resolver, for "the resolver has started" hand-shakes. */
function deferred<T = void>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/**
 * Listens on `port`; the port the previous server just released may still
 * be busy for a moment, so EADDRINUSE is retried briefly.
 */
async function listenOn(server: RpcServer, port: number): Promise<void> {
  onTestFinished(() => server.close())
  const deadline = Date.now() + 2_000
  for (;;) {
    try {
      await server.listen({ port, host: HOST, path: PATH })
      return
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || Date.now() > deadline) throw error
      await sleep(10)
    }
  }
}

/** Same as {@link listenOn} for a plain http server. */
async function listenHttpOn(httpServer: HttpServer, port: number): Promise<void> {
  const deadline = Date.now() + 2_000
  for (;;) {
    try {
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject)
        httpServer.listen(port, HOST, () => {
          httpServer.off('error', reject)
          resolve()
        })
      })
      return
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || Date.now() > deadline) throw error
      await sleep(10)
    }
  }
}

/** Where the elements of a received sequence break `first, first+1, ..., last`; empty when contiguous. */
function sequenceProblems(received: number[], last: number): string[] {
  const problems: string[] = []
  if (received.length === 0) return ['nothing received']
  for (let i = 1; i < received.length && problems.length < 3; i++) {
    const prev = received[i - 1]!
    const cur = received[i]!
    if (cur === prev) problems.push(`duplicate ${cur}`)
    else if (cur < prev) problems.push(`${cur} after ${prev}`)
    else if (cur > prev + 1) problems.push(`gap ${prev + 1}..${cur - 1}`)
  }
  if (received.at(-1) !== last) problems.push(`ends at ${received.at(-1)}, not ${last}`)
  return problems
}

/**
 * A server with a raw peer whose call has started and runs for 5 s unless
 * its signal aborts, far longer than the tests wait: the close finds it running.
 */
async function serveStuckCall() {
  const started = deferred()
  let aborted = false
  const router = rpc.router({
    stuck: rpc.procedure.query(async ({ signal }) => {
      started.resolve()
      await sleep(5_000, signal)
      aborted = signal.aborted
      return 'late'
    }),
  })
  const { server, url } = await startServer({ router }, PATH)
  const peer = await readyPeer(url)
  peer.send({ type: 'call', id: 1, method: 'query', path: 'stuck' })
  await within(started.promise, 'the call to start')
  return { server, peer, wasAborted: () => aborted }
}

describe('server restart', () => {
  it('50 subscriptions on several clients survive a graceful restart and then a crash of the server on the same port, each receiving exactly the contiguous published sequence', async () => {
    const channel = createChannel<number>({ history: 1_000_000 })
    let live = 0
    const router = rpc.router({
      feed: rpc.procedure.subscription(async function* ({ lastEventId, signal }) {
        live++
        try {
          yield* channel.subscribe({ lastEventId, signal })
        } finally {
          live--
        }
      }),
    })

    let published = 0
    const publisher = setInterval(() => channel.publish(++published), 1)
    onTestFinished(() => clearInterval(publisher))

    const serverA = createRpcServer({ router })
    onTestFinished(() => serverA.close())
    const { port, url } = await serverA.listen({ port: 0, host: HOST, path: PATH })

    const subs: { received: number[] }[] = []
    const clients = Array.from({ length: 5 }, () => {
      const api = connectClient<typeof router>(url, { reconnect: { minDelayMs: 20, maxDelayMs: 200 } })
      const client = { api, resubscribes: 0, resyncs: 0, errors: [] as RpcError[] }
      api.$connection.on('resubscribe', () => client.resubscribes++)
      for (let i = 0; i < 10; i++) {
        const sub = { received: [] as number[] }
        subs.push(sub)
        api.feed.subscribe(undefined, {
          onData: (n) => sub.received.push(n),
          onResync: () => client.resyncs++,
          onError: (error) => client.errors.push(error),
        })
      }
      return client
    })
    const everyGotPast = (mark: number) => subs.every((s) => (s.received.at(-1) ?? -1) > mark)

    await waitUntil(() => everyGotPast(0), 'all 50 subscriptions to receive events', 5_000)

    // Graceful restart: A announces, closes with 1012; B takes the port once A is gone.
    await within(serverA.close({ graceMs: 500, reconnectWindowMs: 200 }), 'server A to close', 3_000)
    const serverB = createRpcServer({ router })
    onTestFinished(() => serverB.close())
    const httpB = createHttpServer()
    const socketsB = new Set<Socket>()
    httpB.on('connection', (socket) => socketsB.add(socket))
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of socketsB) socket.destroy()
          httpB.close(() => resolve())
        }),
    )
    serverB.attach(httpB, { path: PATH })
    await listenHttpOn(httpB, port)
    const startedB = published
    await waitUntil(() => everyGotPast(startedB), 'every subscription to receive events from server B', 5_000)

    // Crash: B's sockets vanish without a close frame, and B is never asked to close first.
    for (const socket of socketsB) socket.destroy()
    await new Promise<void>((resolve) => httpB.close(() => resolve()))
    await within(serverB.close(), 'server B to release what it held', 3_000)

    const serverC = createRpcServer({ router })
    await listenOn(serverC, port)
    const startedC = published
    await waitUntil(() => everyGotPast(startedC), 'every subscription to receive events from server C', 5_000)

    clearInterval(publisher)
    const last = published
    await waitUntil(() => subs.every((s) => s.received.at(-1) === last), 'every subscription to catch up to the last event', 5_000)

    const problems = subs.flatMap((s, i) => sequenceProblems(s.received, last).map((p) => `subscription ${i}: ${p}`))
    expect(problems).toEqual([])
    for (const s of subs) expect(s.received).toEqual(Array.from({ length: last - s.received[0]! + 1 }, (_, k) => s.received[0]! + k))
    expect(clients.map((c) => c.resyncs)).toEqual([0, 0, 0, 0, 0])
    expect(clients.map((c) => c.errors)).toEqual([[], [], [], [], []])
    // Two reconnections, ten subscriptions each.
    expect(clients.map((c) => c.resubscribes)).toEqual([20, 20, 20, 20, 20])

    // Nothing of A's or B's generators is left: only C's fifty, and none once C closes.
    await waitUntil(() => live === 50, 'only server C generators to be live', 2_000)
    await Promise.all(clients.map((c) => c.api.$connection.close()))
    await within(serverC.close(), 'server C to close', 3_000)
    expect(live).toBe(0)
    expect(channel.subscriberCount).toBe(0)
  })

  it("restart notices spread 200 clients' reconnects over the window, and none is lost", async () => {
    const WINDOW_MS = 1_000
    const CLIENTS = 200
    const router = rpc.router({ ping: rpc.procedure.query(() => 'pong') })
    const { server: serverA, port, url } = await startServer({ router }, PATH)

    const clients = Array.from({ length: CLIENTS }, () => {
      const api = connectClient<typeof router>(url, { reconnect: { minDelayMs: 20, maxDelayMs: 200 } })
      const client = { api, delayMs: undefined as number | undefined, reopenedAt: undefined as number | undefined }
      api.$connection.on('restart', ({ delayMs }) => (client.delayMs = delayMs))
      api.$connection.on('state', (state) => {
        if (state === 'open' && client.delayMs !== undefined) client.reopenedAt ??= performance.now()
      })
      return client
    })
    await waitUntil(() => clients.every((c) => c.api.$connection.state === 'open'), 'all clients to connect', 5_000)

    const closeStarted = performance.now()
    const closing = serverA.close({ graceMs: 200, reconnectWindowMs: WINDOW_MS })
    // A stopped listening when close() began: the next process can take the port while A drains.
    await listenOn(createRpcServer({ router }), port)
    await within(closing, 'server A to close', 3_000)
    await waitUntil(() => clients.every((c) => c.reopenedAt !== undefined), 'every client to be open again', WINDOW_MS + 3_000)

    const delays = clients.map((c) => c.delayMs)
    expect(delays.filter((d) => d === undefined)).toHaveLength(0)
    const announced = delays as number[]
    expect(announced.filter((d) => !(d >= 0 && d < WINDOW_MS))).toEqual([])
    const buckets = Array.from({ length: 10 }, (_, b) => announced.filter((d) => d >= b * 100 && d < (b + 1) * 100).length)
    for (const count of buckets) {
      expect(count, `buckets ${buckets.join(',')}`).toBeGreaterThanOrEqual(CLIENTS * 0.05)
      expect(count, `buckets ${buckets.join(',')}`).toBeLessThanOrEqual(CLIENTS * 0.15)
    }
    expect(Math.min(...announced)).toBeLessThan(100)
    expect(Math.max(...announced)).toBeGreaterThan(900)

    const reopened = clients.map((c) => c.reopenedAt! - closeStarted)
    expect(Math.max(...reopened)).toBeLessThan(WINDOW_MS + 2_000)
    // Spread, not a stampede at the start of the window.
    expect(reopened.filter((t) => t > 500).length).toBeGreaterThanOrEqual(CLIENTS * 0.3)

    const answers = await within(Promise.all(clients.map((c) => c.api.ping.query())), 'a call from every client', 3_000)
    expect(answers.every((a) => a === 'pong')).toBe(true)
  })

  it('close({ graceMs }) lets calls in flight finish, then closes with 1012', async () => {
    const started = deferred()
    const router = rpc.router({
      slow: rpc.procedure.query(async () => {
        started.resolve()
        await sleep(300)
        return 'done'
      }),
    })
    const { server, url } = await startServer({ router }, PATH)
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'slow' })
    await within(started.promise, 'the call to start')

    const closing = server.close({ graceMs: 1_000, reconnectWindowMs: 100 })
    const closed = await within(peer.closed, 'the close', 3_000)

    const kinds = peer.messages.filter((m) => m.type !== 'ack').map((m) => m.type)
    expect(kinds).toEqual(['restart', 'result'])
    const restart = peer.messages.find((m) => m.type === 'restart')!
    expect(restart.delayMs).toBeGreaterThanOrEqual(0)
    expect(restart.delayMs).toBeLessThan(100)
    expect(peer.messages.find((m) => m.type === 'result')).toEqual({ type: 'result', id: 1, data: 'done' })
    expect(closed.code).toBe(1012)
    await within(closing, 'server.close()', 3_000)
  })

  it('close({ graceMs }) aborts a call still running when graceMs runs out and closes with 1012 then, not when the call would end', async () => {
    const { server, peer, wasAborted } = await serveStuckCall()

    const closeStarted = performance.now()
    const closing = server.close({ graceMs: 100, reconnectWindowMs: 100 })
    const closed = await within(peer.closed, 'the close', 3_000)
    const elapsed = performance.now() - closeStarted

    expect(closed.code).toBe(1012)
    expect(elapsed).toBeGreaterThanOrEqual(90)
    expect(elapsed).toBeLessThan(1_500)
    await waitUntil(wasAborted, 'the resolver to see its signal abort', 1_000)
    expect(peer.messages.some((m) => m.type === 'result')).toBe(false)
    await within(closing, 'server.close()', 3_000)
  })

  it('during a restart an attached server refuses new upgrades with 503', async () => {
    const http = await startHttpServer()
    const release = deferred()
    const started = deferred()
    const router = rpc.router({
      hold: rpc.procedure.query(async () => {
        started.resolve()
        await release.promise
        return 'released'
      }),
    })
    const server = createRpcServer({ router })
    server.attach(http.server, { path: PATH })
    onTestFinished(() => {
      release.resolve()
      return server.close()
    })
    const url = http.wsUrl(PATH)
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'hold' })
    await within(started.promise, 'the call to start')

    // The call in flight keeps the server draining.
    const closing = server.close({ graceMs: 3_000, reconnectWindowMs: 100 })
    await peer.next((m) => m.type === 'restart')
    const outcome = await tryUpgrade(url, 'wirecall.v1')
    expect(outcome).toMatchObject({ opened: false, status: 503 })

    release.resolve()
    expect((await within(peer.closed, 'the close', 3_000)).code).toBe(1012)
    await within(closing, 'server.close()', 3_000)
  })

  it('during a restart a server that owns its listener refuses new TCP connections, so the next process can take the port', async () => {
    const release = deferred()
    const started = deferred()
    const router = rpc.router({
      hold: rpc.procedure.query(async () => {
        started.resolve()
        await release.promise
        return 'released'
      }),
    })
    const { server, url } = await startServer({ router }, PATH)
    onTestFinished(() => release.resolve())
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'hold' })
    await within(started.promise, 'the call to start')

    const closing = server.close({ graceMs: 3_000, reconnectWindowMs: 100 })
    const refused = await tryUpgrade(url, 'wirecall.v1').then(
      () => undefined,
      (error: unknown) => error as { code?: string },
    )
    expect(refused?.code).toBe('ECONNREFUSED')

    release.resolve()
    expect((await within(peer.closed, 'the close', 3_000)).code).toBe(1012)
    await within(closing, 'server.close()', 3_000)
  })

  it('a client told to restart reconnects after its announced delay, not on its backoff schedule', async () => {
    const WINDOW_MS = 300
    const routerOf = (name: string) => rpc.router({ who: rpc.procedure.query(() => name) })
    const { server: serverA, port, url } = await startServer({ router: routerOf('A') }, PATH)
    // Backoff alone would wait up to a minute.
    const api = connectClient<ReturnType<typeof routerOf>>(url, { reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } })
    expect(await api.who.query()).toBe('A')

    let announced: number | undefined
    let scheduled: { attempt: number; delayMs: number } | undefined
    let closedAt: number | undefined
    let closeCode: number | undefined
    let reopenedAt: number | undefined
    api.$connection.on('restart', ({ delayMs }) => (announced = delayMs))
    api.$connection.on('reconnect', (attempt) => (scheduled ??= attempt))
    api.$connection.on('close', ({ code }) => {
      closedAt ??= performance.now()
      closeCode ??= code
    })
    api.$connection.on('state', (state) => {
      if (state === 'open' && closedAt !== undefined) reopenedAt ??= performance.now()
    })

    const closing = serverA.close({ graceMs: 1_000, reconnectWindowMs: WINDOW_MS })
    // A freed the port when close() began; B binds it within a tick or two, long before
    // the client has even seen its close frame, so the client's one attempt finds B.
    await listenOn(createRpcServer({ router: routerOf('B') }), port)
    await within(closing, 'server A to close', 3_000)
    await waitUntil(() => reopenedAt !== undefined, 'the client to be open again', WINDOW_MS + 2_000)

    expect(closeCode).toBe(1012)
    expect(announced).toBeGreaterThanOrEqual(0)
    expect(announced).toBeLessThan(WINDOW_MS)
    expect(scheduled).toEqual({ attempt: 1, delayMs: announced })
    const waited = reopenedAt! - closedAt!
    expect(waited).toBeGreaterThanOrEqual(announced! - 2)
    expect(waited).toBeLessThan(announced! + 1_500)
    expect(await api.who.query()).toBe('B')
  })

  it('cuts a reconnect window longer than the protocol allows to one hour, so clients do not refuse the notice', async () => {
    const router = rpc.router({ ping: rpc.procedure.query(() => 'pong') })
    const { server, url } = await startServer({ router }, PATH)
    const peer = await readyPeer(url)
    await within(server.close({ graceMs: 0, reconnectWindowMs: 10 * 3_600_000 }), 'server.close()', 3_000)
    const restart = peer.messages.find((m) => m.type === 'restart')!
    expect(restart.delayMs).toBeLessThan(MAX_RESTART_DELAY_MS)
    expect(restart.delayMs).toBeGreaterThanOrEqual(0)
    expect((await within(peer.closed, 'the close')).code).toBe(1012)
  })

  it('close() without options still closes with 1001 at once', async () => {
    const { server, peer, wasAborted } = await serveStuckCall()

    const closeStarted = performance.now()
    const closing = server.close()
    const closed = await within(peer.closed, 'the close', 3_000)
    const elapsed = performance.now() - closeStarted

    expect(closed.code).toBe(1001)
    expect(elapsed).toBeLessThan(1_000)
    expect(peer.messages.some((m) => m.type === 'restart')).toBe(false)
    expect(peer.messages.some((m) => m.type === 'result')).toBe(false)
    await waitUntil(wasAborted, 'the call to be aborted', 1_000)
    await within(closing, 'server.close()', 3_000)
  })
})
