import { describe, expect, it, onTestFinished } from 'vitest'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import { z } from 'zod'
import { createChannel, initRpc, PROTOCOL, tracked, type Channel, type TraceContext } from '@wirecall/core'
import type { ClientCallEvent, ClientCallOutcome, ClientInstrumentation, ClientSubscriptionEvent } from '@wirecall/client'
import { startFaultProxy } from '../../helpers/fault-proxy'
import { connectClient, gate, rpcErrorOf, sleep, startServer, untilAborted, waitUntil, within } from '../../helpers/harness'

/**
 * The client's instrumentation hooks over real sockets: what each hook is
 * told and when, the trace context a hook gives a call or a subscription
 * arriving in its message (read by a raw `ws` server speaking the protocol),
 * one `onCall` per call however often it is re-sent, and hooks that throw
 * leaving the client working.
 */

const TRACE_A: TraceContext = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=a' }
const TRACE_B: TraceContext = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }

/** An instrumentation that writes down everything it is told. */
function recorder(name = 'rec') {
  const log: string[] = []
  const calls: { event: ClientCallEvent; outcome: ClientCallOutcome }[] = []
  const subscriptions: ClientSubscriptionEvent[] = []
  const events: Parameters<NonNullable<ClientInstrumentation['onEvent']>>[0][] = []
  const states: string[] = []
  const reconnects: Parameters<NonNullable<ClientInstrumentation['onReconnect']>>[0][] = []
  const pongs: number[] = []
  const instrumentation: ClientInstrumentation = {
    onCall: async (event, next) => {
      log.push(`${name}:start ${event.method} ${event.path}`)
      const outcome = await next()
      log.push(`${name}:end ${outcome.status}`)
      calls.push({ event, outcome })
      return outcome
    },
    onSubscription: (event) => {
      subscriptions.push(event)
      log.push(`${name}:${event.phase}`)
    },
    onEvent: (event) => {
      events.push(event)
      log.push(`${name}:event ${event.eventId}`)
    },
    onStateChange: ({ from, to }) => void states.push(`${from}>${to}`),
    onReconnect: (event) => void reconnects.push(event),
    onPong: ({ rttMs }) => void pongs.push(rttMs),
  }
  return { instrumentation, log, calls, subscriptions, events, states, reconnects, pongs }
}

/** A message the raw server received. */
type Received = { type: string; id: number; path?: string; input?: unknown; trace?: unknown; lastEventId?: string }

/**
 * A server of the test's own on `ws`, speaking just enough of the protocol:
 * acks `init`, answers `call` and `reinit` with their input, starts every
 * subscription and sends it one event carrying the publisher's trace
 * context. It records every message, so a test reads the `trace` fields.
 */
async function rawServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false) })
  const sockets = new Set<WsSocket>()
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.terminate()
        wss.close(() => resolve())
      }),
  )
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const received: Received[] = []
  wss.on('connection', (ws) => {
    sockets.add(ws)
    ws.on('close', () => sockets.delete(ws))
    ws.on('message', (raw) => {
      const parsed = JSON.parse(String(raw)) as Received | Received[]
      for (const message of Array.isArray(parsed) ? parsed : [parsed]) {
        received.push(message)
        const send = (value: object) => ws.send(JSON.stringify(value))
        if (message.type === 'init') send({ type: 'ack' })
        else if (message.type === 'call') send({ type: 'result', id: message.id, data: message.input })
        else if (message.type === 'reinit') send({ type: 'result', id: message.id })
        else if (message.type === 'subscribe') {
          const started = { type: 'started', id: message.id }
          const data = { type: 'data', id: message.id, data: 'hello', eventId: '7', trace: TRACE_B }
          // Asked to resume, a stream without a position starts and goes on in one frame.
          if (message.lastEventId === undefined) {
            send(started)
            send(data)
          } else send([started, data])
        }
      }
    })
  })
  const { port } = wss.address() as { port: number }
  return { url: `ws://127.0.0.1:${port}`, received }
}

const rpc = initRpc.create()

function makeRouter(channel: Channel<number>, hold: { release: Promise<void>; runs: number }) {
  return rpc.router({
    echo: rpc.procedure.input(z.string()).query(({ input }) => input),
    fail: rpc.procedure.mutation(() => {
      throw new Error('boom')
    }),
    slow: rpc.procedure.query(async ({ signal }) => {
      await untilAborted(signal)
      return 'never'
    }),
    held: rpc.procedure.query(async () => {
      hold.runs++
      await hold.release
      return 'done'
    }),
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
    three: rpc.procedure.subscription(async function* () {
      for (let n = 1; n <= 3; n++) yield tracked(String(n), n)
    }),
  })
}

/** A wirecall server with a channel, a fault proxy in front of it, and a way to move the client to a fresh server (a restart). */
async function setup(instrumentation: readonly ClientInstrumentation[], options: Parameters<typeof connectClient>[1] = {}) {
  const channel = createChannel<number>({ history: 100 })
  const release = gate()
  const hold = { release: release.opened, runs: 0 }
  const a = await startServer({ router: makeRouter(channel, hold) })
  const proxy = await startFaultProxy(a.port)
  const api = connectClient<ReturnType<typeof makeRouter>>(proxy.url('/rpc'), {
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
    instrumentation,
    ...options,
  })
  const restart = async () => {
    const b = await startServer({ router: makeRouter(createChannel<number>({ history: 100 }), hold) })
    proxy.setTarget(b.port)
    proxy.cut()
  }
  return { api, channel, proxy, hold, release, restart }
}

describe('client instrumentation: onCall', () => {
  it('wraps each query and mutation; the outcome says ok, error or cancelled (aborted, timed out)', async () => {
    const rec = recorder()
    const { api } = await setup([rec.instrumentation])
    expect(await api.echo.query('hi')).toBe('hi')
    expect((await rpcErrorOf(api.fail.mutate())).code).toBe('INTERNAL')
    const controller = new AbortController()
    const aborted = api.slow.query(undefined, { signal: controller.signal })
    controller.abort()
    expect((await rpcErrorOf(aborted)).code).toBe('CANCELLED')
    expect((await rpcErrorOf(api.slow.query(undefined, { timeoutMs: 30 }))).code).toBe('TIMEOUT')
    await waitUntil(() => rec.calls.length === 4, 'four outcomes')
    expect(rec.calls.map(({ event }) => event)).toEqual([
      { method: 'query', path: 'echo', input: 'hi', url: expect.any(String) },
      { method: 'mutation', path: 'fail', input: undefined, url: expect.any(String) },
      { method: 'query', path: 'slow', input: undefined, url: expect.any(String) },
      { method: 'query', path: 'slow', input: undefined, url: expect.any(String) },
    ])
    expect(rec.calls.map(({ outcome }) => outcome.status)).toEqual(['ok', 'error', 'cancelled', 'cancelled'])
    const [, failed, cancelled, timedOut] = rec.calls.map(({ outcome }) => outcome)
    expect(failed).toMatchObject({ status: 'error', error: { code: 'INTERNAL' } })
    expect(cancelled).toMatchObject({ error: { code: 'CANCELLED' } })
    expect(timedOut).toMatchObject({ error: { code: 'TIMEOUT' } })
  })

  it('composes: the first instrumentation is outermost, and the first trace context passed to next() is the one sent', async () => {
    const server = await rawServer()
    const log: string[] = []
    const outer: ClientInstrumentation = {
      onCall: async (_call, next) => {
        log.push('outer:start')
        const outcome = await next(TRACE_A)
        log.push('outer:end')
        return outcome
      },
    }
    const inner: ClientInstrumentation = {
      onCall: async (_call, next) => {
        log.push('inner:start')
        const outcome = await next(TRACE_B)
        log.push('inner:end')
        return outcome
      },
    }
    const api = connectClient<ReturnType<typeof makeRouter>>(server.url, { instrumentation: [outer, {}, inner] })
    expect(await api.echo.query('traced')).toBe('traced')
    await waitUntil(() => log.length === 4, 'both wrappers to end')
    expect(log).toEqual(['outer:start', 'inner:start', 'inner:end', 'outer:end'])
    const call = server.received.find((m) => m.type === 'call')!
    expect(call).toMatchObject({ path: 'echo', input: 'traced', trace: TRACE_A })
  })

  it('the trace context reaches a wirecall server: its onCall sees it on the call', async () => {
    const seen: { path: string | undefined; trace: TraceContext | undefined }[] = []
    const { url } = await startServer({
      router: makeRouter(createChannel<number>(), { release: Promise.resolve(), runs: 0 }),
      instrumentation: [
        {
          onCall: (call, next) => {
            seen.push({ path: call.path, trace: call.trace })
            return next()
          },
        },
      ],
    })
    const api = connectClient<ReturnType<typeof makeRouter>>(url, { instrumentation: [{ onCall: (_call, next) => next(TRACE_A) }] })
    expect(await api.echo.query('across')).toBe('across')
    expect(seen).toEqual([{ path: 'echo', trace: TRACE_A }])
  })

  it('a call with no trace context given has no trace field; updateParams is wrapped as a reinit and carries its trace', async () => {
    const server = await rawServer()
    const calls: ClientCallEvent[] = []
    let traced = false
    const api = connectClient<ReturnType<typeof makeRouter>>(server.url, {
      instrumentation: [
        {
          onCall: (call, next) => {
            calls.push(call)
            return next(traced ? TRACE_B : undefined)
          },
        },
      ],
    })
    await api.echo.query('plain')
    traced = true
    await api.$connection.updateParams({ token: 't2' })
    expect(calls).toEqual([
      { method: 'query', path: 'echo', input: 'plain', url: expect.any(String) },
      { method: 'reinit', path: undefined, input: { token: 't2' }, url: expect.any(String) },
    ])
    const call = server.received.find((m) => m.type === 'call')!
    expect('trace' in call).toBe(false)
    expect(server.received.find((m) => m.type === 'reinit')).toMatchObject({ trace: TRACE_B })
  })

  it('one wrap per call, though the query is sent again after a dropped connection', async () => {
    const rec = recorder()
    const { api, proxy, hold, release } = await setup([rec.instrumentation])
    const answer = api.held.query()
    await waitUntil(() => hold.runs === 1, 'the first run')
    proxy.cut()
    await waitUntil(() => hold.runs === 2, 'the query, re-sent after the reconnect', 5_000)
    release.open()
    expect(await within(answer, 'the answer')).toBe('done')
    await sleep(20)
    expect(rec.log.filter((line) => line.includes('held'))).toEqual(['rec:start query held'])
    expect(rec.calls).toHaveLength(1)
    expect(rec.calls[0]!.outcome).toEqual({ status: 'ok' })
  })
})

describe('client instrumentation: subscriptions and events', () => {
  it('send (first, then a resubscribe with its lastEventId), started with resumed, resync, end', async () => {
    const rec = recorder()
    const { api, channel, proxy, restart } = await setup([rec.instrumentation])
    const phases = () => rec.subscriptions.map((e) => e.phase)
    const sub = api.feed.subscribe(undefined, { onData: () => {} })
    await waitUntil(() => phases().includes('started'), 'the first start')
    channel.publish(1)
    await waitUntil(() => rec.events.length === 1, 'event 1')
    proxy.cut()
    await waitUntil(() => phases().filter((p) => p === 'started').length === 2, 'the resumed start', 5_000)
    await restart()
    await waitUntil(() => phases().includes('resync'), 'the resync after the restart', 5_000)
    sub.unsubscribe()
    const id = rec.subscriptions[0]!.id
    const path = 'feed'
    const firstSend = rec.subscriptions[0]!
    expect(firstSend).toEqual({ phase: 'send', id, path, resubscribe: false, lastEventId: undefined, url: expect.any(String) })
    expect(rec.subscriptions.slice(1)).toEqual([
      { phase: 'started', id, path, resumed: false },
      { phase: 'send', id, path, resubscribe: true, lastEventId: expect.any(String), url: expect.any(String) },
      { phase: 'started', id, path, resumed: true },
      { phase: 'send', id, path, resubscribe: true, lastEventId: expect.any(String), url: expect.any(String) },
      { phase: 'started', id, path, resumed: false },
      { phase: 'resync', id, path },
      { phase: 'end', id, path, reason: 'unsubscribed', error: undefined },
    ])
    expect(rec.events[0]).toEqual({ id, path, eventId: expect.any(String), trace: undefined })
  })

  it('end with complete when the server ends it, with error when the client is closed under it', async () => {
    const rec = recorder()
    const { api } = await setup([rec.instrumentation])
    api.three.subscribe(undefined, { onData: () => {} })
    await waitUntil(() => rec.subscriptions.some((e) => e.phase === 'end'), 'the end')
    expect(rec.events.map((e) => e.eventId)).toEqual(['1', '2', '3'])
    expect(rec.subscriptions.at(-1)).toMatchObject({ phase: 'end', path: 'three', reason: 'complete', error: undefined })

    api.feed.subscribe(undefined, { onData: () => {} })
    await waitUntil(() => rec.subscriptions.filter((e) => e.phase === 'started').length === 2, 'feed to start')
    await api.$connection.close()
    expect(rec.subscriptions.at(-1)).toMatchObject({ phase: 'end', path: 'feed', reason: 'error', error: { code: 'CANCELLED' } })
  })

  it('a trace context returned at send goes in the subscribe message; onEvent gets the trace context of the event', async () => {
    const server = await rawServer()
    const rec = recorder()
    const api = connectClient<ReturnType<typeof makeRouter>>(server.url, {
      instrumentation: [rec.instrumentation, { onSubscription: (event) => (event.phase === 'send' ? TRACE_A : undefined) }],
    })
    const data: unknown[] = []
    api.feed.subscribe(undefined, { onData: (value) => void data.push(value) })
    await waitUntil(() => data.length === 1, 'the event')
    expect(server.received.find((m) => m.type === 'subscribe')).toMatchObject({ path: 'feed', trace: TRACE_A })
    expect(rec.events).toEqual([{ id: rec.subscriptions[0]!.id, path: 'feed', eventId: '7', trace: TRACE_B }])
  })

  it('a start that waits for what follows it (resumed, no position) is told before the event that decided it', async () => {
    const server = await rawServer()
    const rec = recorder()
    const api = connectClient<ReturnType<typeof makeRouter>>(server.url, { instrumentation: [rec.instrumentation] })
    const starts: boolean[] = []
    api.feed.subscribe(undefined, { lastEventId: '6', onStarted: ({ resumed }) => void starts.push(resumed), onData: () => {} })
    await waitUntil(() => rec.events.length === 1, 'the event')
    expect(starts).toEqual([true])
    expect(rec.log).toEqual(['rec:send', 'rec:started', 'rec:event 7'])
    expect(rec.subscriptions[0]).toMatchObject({ phase: 'send', resubscribe: false, lastEventId: '6' })
    expect(rec.subscriptions[1]).toMatchObject({ phase: 'started', resumed: true })
  })
})

describe('client instrumentation: the connection', () => {
  it('onStateChange from and to; onReconnect with 1006 after a cut, its attempt and delay', async () => {
    const rec = recorder()
    const { api, proxy } = await setup([rec.instrumentation])
    await api.echo.query('up')
    proxy.cut()
    await waitUntil(() => rec.states.at(-1) === 'reconnecting>open', 'the reconnect', 5_000)
    await api.$connection.close()
    expect(rec.states).toEqual(['idle>connecting', 'connecting>open', 'open>reconnecting', 'reconnecting>open', 'open>closed'])
    expect(rec.reconnects).toHaveLength(1)
    const [reconnect] = rec.reconnects
    expect(reconnect).toMatchObject({ code: 1006, attempt: 1, error: { code: 'CONNECTION_LOST' } })
    expect(reconnect!.delayMs).toBeGreaterThanOrEqual(0)
    expect(reconnect!.delayMs).toBeLessThanOrEqual(50)
  })

  it('onPong with the round-trip time of a keep-alive ping', async () => {
    const rec = recorder()
    await setup([rec.instrumentation], { keepAlive: { intervalMs: 20, timeoutMs: 1_000 } })
    await waitUntil(() => rec.pongs.length >= 2, 'two pongs')
    for (const rttMs of rec.pongs) {
      expect(rttMs).toBeGreaterThanOrEqual(0)
      expect(rttMs).toBeLessThan(1_000)
    }
  })
})

describe('client instrumentation: hooks that misbehave', () => {
  it('hooks that throw, reject or never call next() leave calls, subscriptions and the connection working', async () => {
    const boom = () => {
      throw new Error('hook failed')
    }
    const throwing: ClientInstrumentation = {
      onCall: boom,
      onSubscription: boom,
      onEvent: boom,
      onStateChange: boom,
      onReconnect: boom,
      onPong: boom,
    }
    const rejecting: ClientInstrumentation = { onCall: async () => Promise.reject(new Error('hook rejected')) }
    const skipping: ClientInstrumentation = { onCall: async () => ({ status: 'ok' }) }
    const rec = recorder()
    const { api, channel, proxy } = await setup([throwing, rejecting, skipping, rec.instrumentation], { keepAlive: { intervalMs: 20, timeoutMs: 1_000 } })
    expect(await api.echo.query('still')).toBe('still')
    const data: number[] = []
    api.feed.subscribe(undefined, { onData: (n) => void data.push(n) })
    await waitUntil(() => rec.subscriptions.some((e) => e.phase === 'started'), 'the start')
    channel.publish(1)
    await waitUntil(() => data.length === 1, 'event 1')
    proxy.cut()
    await waitUntil(() => rec.states.at(-1) === 'reconnecting>open', 'the reconnect', 5_000)
    channel.publish(2)
    await waitUntil(() => data.length === 2, 'event 2')
    expect(await api.echo.query('after')).toBe('after')
    await waitUntil(() => rec.pongs.length > 0, 'a pong')
    // The hooks after the failing ones were still told everything.
    expect(rec.calls.map(({ outcome }) => outcome.status)).toEqual(['ok', 'ok'])
    expect(rec.events).toHaveLength(2)
    expect(rec.reconnects).toHaveLength(1)
  })

  it('an empty instrumentation array is no instrumentation', async () => {
    const { api } = await setup([])
    expect(await api.echo.query('plain')).toBe('plain')
  })
})
