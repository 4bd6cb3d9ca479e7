import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { initRpc, RpcError } from '@wirecall/core'
import type { ConnectionState, RpcClient } from '@wirecall/client'
import { DEFAULT_ACK, connectClient, gate, rawPeer, rpcErrorOf, sleep, startServer, untilAborted, waitUntil, within } from '../../helpers/harness'
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy'

/**
 * Network faults below WebSocket, played through the TCP fault proxy: links
 * that go silent (half-open) and links that drop. What each side's
 * keep-alive detects and how fast, and what a drop does to the calls in the
 * air, idempotent mutations above all: they must run exactly once however
 * the answer gets lost.
 */

const rpc = initRpc.create()

/** What the server saw of one test's calls. */
function createProbe() {
  return {
    /** Runs of the slow query; only the first hangs (until aborted), so the re-sent one answers. */
    queryRuns: 0,
    /** Runs of the plain mutation. */
    mutationRuns: 0,
    /** Runs of the idempotent mutation, and whether its signal was aborted when it finished. */
    idempotentRuns: 0,
    idempotentAborted: undefined as boolean | undefined,
    idempotentFinished: false,
    /** The hanging query of the half-open tests: whether it started, and its signal. */
    hangSignal: undefined as AbortSignal | undefined,
    /** The feed's generator: whether it started and whether its `finally` ran, with the signal aborted. */
    feedStarted: false,
    feedFinallyAborted: undefined as boolean | undefined,
  }
}
type Probe = ReturnType<typeof createProbe>

/**
 * `release` holds the idempotent mutation until the test says so; `beforeAnswer`
 * runs right before it answers (the test stalls the link there, so the answer is lost).
 */
function makeRouter(probe: Probe, hooks: { release?: Promise<void>; beforeAnswer?: () => void; fail?: boolean } = {}) {
  return rpc.router({
    ping: rpc.procedure.query(() => 'pong'),
    slowQuery: rpc.procedure.query(async ({ signal }) => {
      const run = ++probe.queryRuns
      if (run === 1) await Promise.race([untilAborted(signal), sleep(5_000)])
      return `run ${run}`
    }),
    slowMutation: rpc.procedure.mutation(async ({ signal }) => {
      probe.mutationRuns++
      await Promise.race([untilAborted(signal), sleep(5_000)])
      return 'done'
    }),
    /** A payment: must happen once. Not bound to its signal on purpose: a drop must not abort it. */
    pay: rpc.procedure.mutation(async ({ signal }) => {
      const run = ++probe.idempotentRuns
      if (hooks.release !== undefined) await Promise.race([hooks.release, sleep(5_000)])
      probe.idempotentAborted = signal.aborted
      hooks.beforeAnswer?.()
      probe.idempotentFinished = true
      if (hooks.fail === true) throw new RpcError('CONFLICT', 'seat already taken')
      return { paid: true, run }
    }),
    hang: rpc.procedure.query(async ({ signal }) => {
      probe.hangSignal = signal
      await Promise.race([untilAborted(signal), sleep(5_000)])
      return 'released'
    }),
    feed: rpc.procedure.subscription(async function* ({ signal }) {
      probe.feedStarted = true
      try {
        yield 1
        await Promise.race([untilAborted(signal), sleep(5_000)])
      } finally {
        probe.feedFinallyAborted = signal.aborted
      }
    }),
  })
}
type R = ReturnType<typeof makeRouter>

/** The client's state changes with their times, from now on. */
function recordStates(api: RpcClient<R>) {
  const states: { state: ConnectionState; at: number }[] = []
  const closes: number[] = []
  api.$connection.on('state', (state) => states.push({ state, at: Date.now() }))
  api.$connection.on('close', ({ code }) => closes.push(code))
  return {
    states,
    closes,
    /** First time the client entered `state` at or after `since`. */
    firstAt(state: ConnectionState, since: number): number | undefined {
      return states.find((s) => s.state === state && s.at >= since)?.at
    },
  }
}

/** A server behind a fault proxy, and a client that reconnects quickly through it. */
async function linkedPair(
  probe: Probe,
  options: {
    hooks?: Parameters<typeof makeRouter>[1]
    serverKeepAlive?: { intervalMs: number; timeoutMs: number } | false
    clientKeepAlive?: { intervalMs: number; timeoutMs: number } | false
  } = {},
): Promise<{ api: RpcClient<R>; proxy: FaultProxy; server: Awaited<ReturnType<typeof startServer>>['server'] }> {
  const { server, port } = await startServer({ router: makeRouter(probe, options.hooks), keepAlive: options.serverKeepAlive ?? false })
  const proxy = await startFaultProxy(port)
  const api = connectClient<R>(proxy.url('/rpc'), {
    reconnect: { minDelayMs: RECONNECT_MIN_MS, maxDelayMs: RECONNECT_MAX_MS },
    keepAlive: options.clientKeepAlive ?? false,
  })
  await within(api.ping.query(), 'the first call')
  return { api, proxy, server }
}

/**
 * An idempotent `pay` that has run on the server, and whose answer the drop
 * lost: the link stalls just before the answer is written, so it sits in a
 * buffer the cut then throws away. Returns right after the cut.
 */
async function payThenLoseTheAnswer(options: { fail?: boolean } = {}) {
  const probe = createProbe()
  let proxy: FaultProxy | undefined
  const pair = await linkedPair(probe, { hooks: { ...options, beforeAnswer: () => proxy?.stall() } })
  proxy = pair.proxy
  const log = recordStates(pair.api)
  const payment = pair.api.pay.mutate(undefined, { idempotent: true })
  await waitUntil(() => probe.idempotentFinished, 'the mutation to finish on the server')
  await sleep(20)

  proxy.cut()
  return { probe, log, payment }
}

const RECONNECT_MIN_MS = 20
const RECONNECT_MAX_MS = 50
/** Keep-alive under test: a half-open link must be detected within INTERVAL_MS + TIMEOUT_MS. */
const INTERVAL_MS = 100
const TIMEOUT_MS = 100
/**
 * Upper bound asserted for a detection due within INTERVAL_MS + TIMEOUT_MS:
 * twice that, because timers run late on a loaded machine. Without
 * keep-alive a half-open link goes unnoticed for minutes, so this still
 * tells working detection from none.
 */
const DETECTION_BOUND_MS = 2 * (INTERVAL_MS + TIMEOUT_MS)
/** A reconnect is due within RECONNECT_MAX_MS; the rest is the handshake on a loaded machine. */
const RECONNECT_BOUND_MS = RECONNECT_MAX_MS + 300

describe('half-open link', () => {
  it("is detected by the client's keep-alive within intervalMs + timeoutMs, and the client reconnects within one reconnect delay", async () => {
    const probe = createProbe()
    const { api, proxy } = await linkedPair(probe, { clientKeepAlive: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS } })
    const log = recordStates(api)

    const stalledAt = Date.now()
    proxy.stall()
    await waitUntil(() => log.firstAt('reconnecting', stalledAt) !== undefined, 'the client to leave open', 3_000)
    const leftOpenAt = log.firstAt('reconnecting', stalledAt)!
    expect(log.states[0]?.state, 'the first state after the stall').toBe('reconnecting')
    expect(leftOpenAt - stalledAt).toBeLessThanOrEqual(DETECTION_BOUND_MS)
    // The client gave up on the socket itself: nothing came from the network.
    expect(log.closes).toEqual([1006])

    // New connections pass the proxy: the next attempt succeeds.
    await waitUntil(() => log.firstAt('open', leftOpenAt) !== undefined, 'the client to be open again', 3_000)
    expect(log.firstAt('open', leftOpenAt)! - leftOpenAt).toBeLessThanOrEqual(RECONNECT_BOUND_MS)
    await expect(within(api.ping.query(), 'a call after the reconnect')).resolves.toBe('pong')
  })

  it("is detected by the server's keep-alive, which terminates the connection and aborts its calls and subscriptions", async () => {
    const probe = createProbe()
    const { api, proxy, server } = await linkedPair(probe, { serverKeepAlive: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS } })
    const events: number[] = []
    api.feed.subscribe(undefined, { onData: (n) => events.push(n), onError: () => {} })
    // The client never learns of the stall (its keep-alive is off): the call stays pending until the client closes.
    void api.hang.query().catch(() => {})
    await waitUntil(() => events.length === 1 && probe.hangSignal !== undefined, 'the subscription and the call to be running')
    expect(server.connectionCount).toBe(1)

    const stalledAt = Date.now()
    proxy.stall()
    await waitUntil(() => server.connectionCount === 0, 'the server to drop the silent connection', 3_000)
    expect(Date.now() - stalledAt).toBeLessThanOrEqual(DETECTION_BOUND_MS)
    await waitUntil(() => probe.feedFinallyAborted !== undefined, "the generator's finally to run")
    expect(probe.feedFinallyAborted).toBe(true)
    expect(probe.hangSignal!.aborted).toBe(true)
  })

  it('is detected by the server with ping frames: a raw peer that does not answer pings is terminated within intervalMs + timeoutMs', async () => {
    const { url } = await startServer({ router: makeRouter(createProbe()), keepAlive: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS } })
    const ws = new WebSocket(url, 'wirecall.v1', { autoPong: false })
    onTestFinished(() => ws.terminate())
    ws.on('error', () => {})
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
    const messages: string[] = []
    ws.on('message', (data) => messages.push(String(data)))
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    ws.send(JSON.stringify({ type: 'init' }))
    await waitUntil(() => messages.length === 1, 'the ack')
    const ackedAt = Date.now()

    // Terminated, not closed: a peer that does not answer pings would not answer a close frame either.
    await expect(within(closed, 'the server to terminate the peer', 3_000)).resolves.toBe(1006)
    expect(Date.now() - ackedAt).toBeLessThanOrEqual(DETECTION_BOUND_MS)
    expect(messages.map((m) => JSON.parse(m) as unknown)).toEqual([DEFAULT_ACK])
  })

  it('keeps a silent peer that answers ping frames connected, and its pings are control frames, not messages', async () => {
    const { server, url } = await startServer({ router: makeRouter(createProbe()), keepAlive: { intervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS } })
    const peer = await rawPeer(url)
    let pings = 0
    peer.ws.on('ping', () => pings++)
    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')

    // Several intervals of silence from the peer, each bridged by a ping and ws's automatic pong.
    await sleep(6 * INTERVAL_MS)
    expect(pings).toBeGreaterThanOrEqual(2)
    expect(server.connectionCount).toBe(1)
    expect(peer.ws.readyState).toBe(WebSocket.OPEN)
    expect(peer.messages).toEqual([DEFAULT_ACK])
  })
})

describe('client keep-alive round trip', () => {
  it("reports a pong with a small round-trip time, and sets $connection.rttMs, once the line has been quiet for intervalMs", async () => {
    const { url } = await startServer({ router: makeRouter(createProbe()), keepAlive: false })
    const intervalMs = 50
    const api = connectClient<R>(url, { keepAlive: { intervalMs, timeoutMs: 2_000 } })
    const pongs: { rttMs: number; at: number }[] = []
    api.$connection.on('pong', ({ rttMs }) => pongs.push({ rttMs, at: Date.now() }))
    let openAt = 0
    api.$connection.on('state', (state) => {
      if (state === 'open') openAt = Date.now()
    })
    await waitUntil(() => openAt > 0, 'the client to open')
    expect(api.$connection.rttMs).toBeUndefined()

    await waitUntil(() => pongs.length >= 1, 'a pong', 3_000)
    const [first] = pongs
    expect(first!.rttMs).toBeGreaterThanOrEqual(0)
    // Below the timeout, or the connection would have been declared dead; on loopback far below it.
    expect(first!.rttMs).toBeLessThan(1_000)
    // No ping before the line was quiet for a whole interval (the heartbeat starts just before 'open').
    expect(first!.at - openAt).toBeGreaterThanOrEqual(intervalMs - 5)
    expect(api.$connection.rttMs).toBe(pongs[pongs.length - 1]!.rttMs)
  })
})

describe('network drop (the link is cut, the server stays up)', () => {
  it('re-sends a query in flight after the reconnect, and it resolves (the server ran it twice)', async () => {
    const probe = createProbe()
    const { api, proxy } = await linkedPair(probe)
    const log = recordStates(api)
    const query = api.slowQuery.query()
    await waitUntil(() => probe.queryRuns === 1, 'the query to run')

    proxy.cut()
    await expect(within(query, 'the re-sent query', 3_000)).resolves.toBe('run 2')
    expect(probe.queryRuns).toBe(2)
    expect(log.closes).toEqual([1006])
  })

  it('rejects a plain mutation in flight with CONNECTION_LOST, saying it may or may not have run', async () => {
    const probe = createProbe()
    const { api, proxy } = await linkedPair(probe)
    const mutation = api.slowMutation.mutate()
    await waitUntil(() => probe.mutationRuns === 1, 'the mutation to run')

    proxy.cut()
    const error = await within(rpcErrorOf(mutation), 'the mutation to settle')
    expect(error.code).toBe('CONNECTION_LOST')
    expect(error.message).toMatch(/may or may not have run/)
    expect(probe.mutationRuns).toBe(1)
  })

  it('resolves an idempotent mutation in flight after the reconnect with its single execution: the retry joins the run still going', async () => {
    const probe = createProbe()
    const release = gate()
    const { api, proxy } = await linkedPair(probe, { hooks: { release: release.opened } })
    const log = recordStates(api)
    const payment = api.pay.mutate(undefined, { idempotent: true })
    await waitUntil(() => probe.idempotentRuns === 1, 'the mutation to run')

    const cutAt = Date.now()
    proxy.cut()
    await waitUntil(() => log.firstAt('open', cutAt) !== undefined, 'the reconnect', 3_000)
    // Give the re-sent call time to reach the server before the run finishes, so it joins rather than replays.
    await sleep(50)
    expect(probe.idempotentFinished).toBe(false)
    release.open()

    await expect(within(payment, 'the idempotent mutation', 3_000)).resolves.toEqual({ paid: true, run: 1 })
    expect(probe.idempotentRuns).toBe(1)
    // The drop did not abort the run: the retry was waiting for it.
    expect(probe.idempotentAborted).toBe(false)
    expect(log.closes).toEqual([1006])
  })

  it('answers the retry of an idempotent mutation whose answer was lost in the drop from the stored outcome, without running it again', async () => {
    const { probe, log, payment } = await payThenLoseTheAnswer()
    await expect(within(payment, 'the idempotent mutation', 3_000)).resolves.toEqual({ paid: true, run: 1 })
    expect(probe.idempotentRuns).toBe(1)
    expect(log.closes).toEqual([1006])
  })

  it('replays the error of an idempotent mutation that failed, when its answer was lost, without running it again', async () => {
    const { probe, log, payment } = await payThenLoseTheAnswer({ fail: true })
    const error = await within(rpcErrorOf(payment), 'the idempotent mutation', 3_000)
    expect(error.code).toBe('CONFLICT')
    expect(error.message).toBe('seat already taken')
    expect(probe.idempotentRuns).toBe(1)
    expect(log.closes).toEqual([1006])
  })
})
