import { AsyncLocalStorage } from 'node:async_hooks'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { z } from 'zod'
import { initRpc, isRpcError, type RpcError } from '@wirecall/core'
import type { ErrorHandlerOptions, ServerInstrumentation } from '@wirecall/server'
import { connectClient, gate, rawPeer, rpcErrorOf, startServer, untilAborted, waitUntil, within, type RawPeer } from '../../helpers/harness'
import { TRACEPARENT, recordingInstrumentation } from './recording-instrumentation'

/**
 * The server's instrumentation hooks, over real sockets, with a recording
 * instrumentation instead of OpenTelemetry: connections, calls (wrapped,
 * with their outcome), reinit, refusals, and trace context in `call`
 * messages and in the upgrade's headers. Subscriptions, channels and
 * backpressure are in subscription-hooks.test.ts.
 */

const requestStore = new AsyncLocalStorage<string>()
const rpc = initRpc.create()

function callRouter(release = gate()) {
  return rpc.router({
    greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) => `hello ${input.name}`),
    store: rpc.procedure.query(() => requestStore.getStore() ?? 'none'),
    fail: rpc.procedure.query(() => {
      throw new Error('boom')
    }),
    slow: rpc.procedure.query(async ({ signal }) => {
      await untilAborted(signal)
      return 'never'
    }),
    /** Ignores its signal: finishes only when the test opens the gate. */
    stubborn: rpc.procedure.query(async () => {
      await release.opened
      return 'late'
    }),
    add: rpc.procedure.input(z.number()).mutation(({ input }) => input + 1),
  })
}

/** A raw peer past the handshake. */
async function readyPeer(url: string): Promise<RawPeer> {
  const peer = await rawPeer(url)
  peer.send({ type: 'init' })
  await peer.next((m) => m.type === 'ack')
  return peer
}

describe('connections', () => {
  it('onConnection gets the connection, the request and the upgrade trace context; onClose its code, reason and duration, once', async () => {
    const rec = recordingInstrumentation()
    const { url } = await startServer({ router: callRouter(), instrumentation: [rec.instrumentation] })
    const ws = new WebSocket(url, 'wirecall.v1', { headers: { traceparent: TRACEPARENT, tracestate: 'a=b' } })
    onTestFinished(() => ws.terminate())
    await new Promise((resolve) => ws.once('open', resolve))
    await waitUntil(() => rec.of('connection').length === 1, 'onConnection')
    const [{ event: opened }] = rec.of('connection') as [ReturnType<typeof rec.of<'connection'>>[number]]
    expect(opened.connection.id).toBe(1)
    expect(opened.connection.remoteAddress).toMatch(/127\.0\.0\.1/)
    expect(opened.req.headers.traceparent).toBe(TRACEPARENT)
    expect(opened.trace).toEqual({ traceparent: TRACEPARENT, tracestate: 'a=b' })

    ws.close(1000, 'bye')
    await waitUntil(() => rec.of('close').length === 1, 'onClose')
    const closed = rec.of('close')[0]!.event
    expect(closed.connection).toBe(opened.connection)
    expect(closed).toMatchObject({ code: 1000, reason: 'bye' })
    expect(closed.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('a close the server decides is reported with its own code and reason (init timeout: 4408); an upgrade without traceparent has no trace', async () => {
    const rec = recordingInstrumentation()
    const { url } = await startServer({ router: callRouter(), instrumentation: [rec.instrumentation], initTimeoutMs: 100 })
    const peer = await rawPeer(url)
    expect((await within(peer.closed)).code).toBe(4408)
    await waitUntil(() => rec.of('close').length === 1, 'onClose')
    expect(rec.of('connection')[0]!.event.trace).toBeUndefined()
    expect(rec.of('close')[0]!.event).toMatchObject({ code: 4408, reason: 'no init message in time' })
    expect(rec.log.map((entry) => entry.hook)).toEqual(['connection', 'close'])
  })

  it('onConnection and onClose balance after every client leaves, whoever closed', async () => {
    const rec = recordingInstrumentation()
    const router = callRouter()
    const { server, url } = await startServer({ router, instrumentation: [rec.instrumentation] })
    const clients = Array.from({ length: 5 }, () => connectClient<typeof router>(url))
    await Promise.all(clients.map((api, i) => api.greet.query({ name: `c${i}` })))
    const peer = await readyPeer(url)
    await Promise.all(clients.map((api) => api.$connection.close()))
    peer.ws.terminate()
    await waitUntil(() => server.stats().connections === 0 && rec.of('close').length === 6, 'every connection to close')
    expect(rec.of('connection')).toHaveLength(6)
    const ids = rec.of('connection').map((entry) => entry.event.connection.id)
    expect(new Set(ids).size).toBe(6)
    expect(rec.of('close').map((entry) => entry.event.connection.id).sort()).toEqual([...ids].sort())
    // The terminated peer sent no close frame.
    expect(rec.of('close').some((entry) => entry.event.code === 1006)).toBe(true)
  })
})

describe('onCall', () => {
  it('wraps each call with its fields, then its outcome; the first instrumentation is outermost', async () => {
    const order: string[] = []
    const layer = (name: string): ServerInstrumentation => ({
      onCall: async (_call, next) => {
        order.push(`${name} in`)
        const outcome = await next()
        order.push(`${name} out`)
        return outcome
      },
    })
    const rec = recordingInstrumentation()
    const router = callRouter()
    const { url } = await startServer({ router, instrumentation: [layer('outer'), rec.instrumentation, layer('inner')] })
    const api = connectClient<typeof router>(url)
    expect(await api.greet.query({ name: 'Ada' })).toBe('hello Ada')
    expect(order).toEqual(['outer in', 'inner in', 'inner out', 'outer out'])
    const [call] = rec.of('call')
    expect(call!.event).toMatchObject({ method: 'query', path: 'greet', known: true, trace: undefined, idempotencyKey: undefined })
    expect(call!.event.readInput()).toEqual({ name: 'Ada' })
    expect(rec.outcomeOf(call!.event.id)).toEqual({ status: 'ok' })
    expect(await api.add.mutate(1)).toBe(2)
    expect(rec.of('call')[1]!.event).toMatchObject({ method: 'mutation', path: 'add', known: true })
  })

  it('the resolver runs inside next(): an AsyncLocalStorage value set around it is the resolver’s', async () => {
    const router = callRouter()
    const { url } = await startServer({
      router,
      instrumentation: [{ onCall: (call, next) => requestStore.run(`request ${call.id}`, next) }],
    })
    const api = connectClient<typeof router>(url)
    expect(await api.store.query()).toMatch(/^request \d+$/)
  })

  it('an error is an `error` outcome with the RpcError before masking; an unknown path is `known: false`', async () => {
    const rec = recordingInstrumentation()
    const router = callRouter()
    const { url } = await startServer({ router, instrumentation: [rec.instrumentation] })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'fail' })
    peer.send({ type: 'call', id: 2, method: 'query', path: 'no.such.path' })
    peer.send({ type: 'call', id: 3, method: 'mutation', path: 'greet', input: { name: 'x' } })
    for (const id of [1, 2, 3]) await peer.next((m) => m.id === id && m.type === 'error')
    await waitUntil(() => rec.of('outcome').length === 3, 'three outcomes')
    const failed = rec.outcomeOf(1)
    expect(failed?.status === 'error' && failed.error.code).toBe('INTERNAL')
    expect(failed?.status === 'error' && failed.error.message).toBe('boom')
    expect(rec.of('call')[1]!.event).toMatchObject({ path: 'no.such.path', known: false })
    const unknown = rec.outcomeOf(2)
    expect(unknown?.status === 'error' && unknown.error.code).toBe('NOT_FOUND')
    // A query called as a mutation is not a known mutation.
    expect(rec.of('call')[2]!.event).toMatchObject({ method: 'mutation', path: 'greet', known: false })
  })

  it('cancel: the outcome is `cancelled` / `cancel` as soon as the caller cancels, even while the resolver ignores its signal', async () => {
    const rec = recordingInstrumentation()
    const release = gate()
    const router = callRouter(release)
    const { server, url } = await startServer({ router, instrumentation: [rec.instrumentation] })
    const api = connectClient<typeof router>(url)
    const controller = new AbortController()
    const cancelled = api.stubborn.query(undefined, { signal: controller.signal })
    await waitUntil(() => server.stats().inFlightCalls === 1, 'the call to run')
    controller.abort()
    expect(isRpcError(await cancelled.catch((e: unknown) => e))).toBe(true)
    await waitUntil(() => rec.of('outcome').length === 1, 'the outcome')
    expect(rec.of('outcome')[0]!.outcome).toEqual({ status: 'cancelled', reason: 'cancel' })
    release.open()

    // A resolver that honours its signal: the same outcome.
    const other = new AbortController()
    const slow = api.slow.query(undefined, { signal: other.signal })
    await waitUntil(() => server.stats().inFlightCalls === 1, 'the second call to run')
    other.abort()
    await slow.catch(() => {})
    await waitUntil(() => rec.of('outcome').length === 2, 'the second outcome')
    expect(rec.of('outcome')[1]!.outcome).toEqual({ status: 'cancelled', reason: 'cancel' })
  })

  it('a call cut off by its connection closing is `cancelled` / `connection-closed`', async () => {
    const rec = recordingInstrumentation()
    const { server, url } = await startServer({ router: callRouter(), instrumentation: [rec.instrumentation] })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'slow' })
    await waitUntil(() => server.stats().inFlightCalls === 1, 'the call to run')
    peer.ws.terminate()
    await waitUntil(() => rec.of('outcome').length === 1, 'the outcome')
    expect(rec.outcomeOf(1)).toEqual({ status: 'cancelled', reason: 'connection-closed' })
  })

  it('calls refused before they run have an outcome too: TOO_MANY_REQUESTS past maxInFlightCalls and past the rate limit, BAD_REQUEST for an id in use', async () => {
    const rec = recordingInstrumentation()
    const { url } = await startServer({
      router: callRouter(),
      instrumentation: [rec.instrumentation],
      maxInFlightCalls: 1,
      rateLimit: { messagesPerSecond: 1, burst: 6 },
    })
    const peer = await readyPeer(url)
    // init took one token: five are left for these seven messages.
    peer.send([
      { type: 'call', id: 1, method: 'query', path: 'slow' },
      { type: 'call', id: 1, method: 'query', path: 'greet', input: { name: 'dup' } },
      { type: 'call', id: 2, method: 'query', path: 'greet', input: { name: 'over' } },
      { type: 'reinit', id: 3 },
      { type: 'cancel', id: 1 },
      { type: 'call', id: 4, method: 'query', path: 'greet', input: { name: 'rate' } },
      { type: 'call', id: 5, method: 'query', path: 'greet', input: { name: 'rate' } },
    ])
    await waitUntil(() => rec.of('outcome').length === 6, 'six outcomes')
    const codes = rec.of('outcome').map(({ event, outcome }) => [event.id, event.method, outcome.status === 'error' ? outcome.error.code : outcome.status])
    expect(codes).toEqual(
      expect.arrayContaining([
        [1, 'query', 'BAD_REQUEST'],
        [2, 'query', 'TOO_MANY_REQUESTS'],
        [1, 'query', 'cancelled'],
        [4, 'query', 'TOO_MANY_REQUESTS'],
        [5, 'query', 'TOO_MANY_REQUESTS'],
      ]),
    )
    // The reinit ran (it is not a call in flight): ok.
    expect(codes).toContainEqual([3, 'reinit', 'ok'])
  })

  it('reinit is wrapped like a call, with its trace and no path or input', async () => {
    const rec = recordingInstrumentation()
    const { url } = await startServer({ router: callRouter(), instrumentation: [rec.instrumentation] })
    const peer = await readyPeer(url)
    peer.send({ type: 'reinit', id: 7, params: { token: 'secret' }, trace: { traceparent: TRACEPARENT } })
    await peer.next((m) => m.id === 7 && m.type === 'result')
    await waitUntil(() => rec.of('outcome').length === 1, 'the outcome')
    const { event, outcome } = rec.of('outcome')[0]!
    expect(event).toMatchObject({ id: 7, method: 'reinit', path: undefined, known: true, trace: { traceparent: TRACEPARENT } })
    expect(event.readInput()).toBeUndefined()
    expect(outcome).toEqual({ status: 'ok' })
  })

  it('idempotent mutations are wrapped too: the key, the outcome of a run and of a replay', async () => {
    const rec = recordingInstrumentation()
    const { url } = await startServer({ router: callRouter(), instrumentation: [rec.instrumentation] })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'add', input: 1, idempotencyKey: 'k1' })
    await peer.next((m) => m.id === 1 && m.type === 'result')
    peer.send({ type: 'call', id: 2, method: 'mutation', path: 'add', input: 1, idempotencyKey: 'k1' })
    await peer.next((m) => m.id === 2 && m.type === 'result')
    peer.send({ type: 'call', id: 3, method: 'mutation', path: 'add', input: 2, idempotencyKey: 'k1' })
    await peer.next((m) => m.id === 3 && m.type === 'error')
    await waitUntil(() => rec.of('outcome').length === 3, 'three outcomes')
    expect(rec.of('call').map((entry) => entry.event.idempotencyKey)).toEqual(['k1', 'k1', 'k1'])
    expect(rec.outcomeOf(1)).toEqual({ status: 'ok' })
    expect(rec.outcomeOf(2)).toEqual({ status: 'ok' })
    const conflict = rec.outcomeOf(3)
    expect(conflict?.status === 'error' && conflict.error.code).toBe('CONFLICT')
  })
})

describe('a hook that throws', () => {
  it('never breaks the call or the connection, and reaches onError', async () => {
    const errors: ErrorHandlerOptions[] = []
    const thrower: ServerInstrumentation = {
      onConnection: () => {
        throw new Error('connection hook')
      },
      onCall: () => {
        throw new Error('call hook')
      },
      onClose: () => {
        throw new Error('close hook')
      },
    }
    const forgetful: ServerInstrumentation = {
      // Never calls next(): the call must run all the same, once.
      onCall: () => Promise.resolve({ status: 'ok' }),
    }
    let runs = 0
    const router = rpc.router({
      count: rpc.procedure.query(() => ++runs),
      fail: rpc.procedure.query(() => {
        throw new Error('resolver')
      }),
    })
    const { server, url } = await startServer({ router, instrumentation: [thrower, forgetful], onError: (opts) => void errors.push(opts) })
    const api = connectClient<typeof router>(url)
    expect(await api.count.query()).toBe(1)
    expect(await api.count.query()).toBe(2)
    expect((await rpcErrorOf(api.fail.query())).code).toBe('INTERNAL')
    await api.$connection.close()
    await waitUntil(() => server.stats().connections === 0, 'the connection to close')
    await waitUntil(() => errors.some((e) => e.error.message.includes('close hook')), 'the onClose error')
    const messages = errors.map((e) => e.error.message)
    expect(messages).toContain('instrumentation onConnection threw: connection hook')
    expect(messages.filter((m) => m === 'instrumentation onCall threw: call hook')).toHaveLength(3)
    expect(messages.filter((m) => m.includes('without calling next()'))).toHaveLength(3)
    expect(messages).toContain('resolver')
    const hookError = errors.find((e) => e.error.message.includes('call hook'))!
    expect(hookError.error.code).toBe('INTERNAL')
    expect(hookError.path).toBe('count')
    expect((hookError.error.cause as Error).message).toBe('call hook')
    expect(runs).toBe(2)
  })
})

describe('trace context in call messages', () => {
  const invalid: [string, unknown, unknown][] = [
    ['a traceparent of the wrong format', { traceparent: 'not-a-traceparent' }, undefined],
    ['a 600-character tracestate (dropped alone)', { traceparent: TRACEPARENT, tracestate: 'a='.padEnd(600, 'x') }, { traceparent: TRACEPARENT }],
    ['a number', 42, undefined],
    ['a string', TRACEPARENT, undefined],
    ['an upper-case traceparent', { traceparent: TRACEPARENT.toUpperCase() }, undefined],
  ]

  for (const instrumented of [false, true]) {
    it(`a raw peer sending an invalid trace gets its call served normally (${instrumented ? 'with' : 'without'} instrumentation)`, async () => {
      const rec = recordingInstrumentation()
      const errors: RpcError[] = []
      const { url } = await startServer({
        router: callRouter(),
        onError: ({ error }) => void errors.push(error),
        ...(instrumented ? { instrumentation: [rec.instrumentation] } : {}),
      })
      const peer = await readyPeer(url)
      invalid.forEach(([, trace], i) => peer.send({ type: 'call', id: i + 1, method: 'query', path: 'greet', input: { name: `n${i}` }, trace }))
      for (let i = 0; i < invalid.length; i++) {
        expect(await peer.next((m) => m.id === i + 1)).toMatchObject({ type: 'result', data: `hello n${i}` })
      }
      expect(errors).toEqual([])
      if (!instrumented) return
      await waitUntil(() => rec.of('outcome').length === invalid.length, 'every outcome')
      invalid.forEach(([what, , expected], i) => expect(rec.of('call')[i]!.event.trace, what).toEqual(expected))
    })
  }

  it('a valid trace reaches onCall as sent', async () => {
    const rec = recordingInstrumentation()
    const { url } = await startServer({ router: callRouter(), instrumentation: [rec.instrumentation] })
    const peer = await readyPeer(url)
    const trace = { traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE', baggage: 'tenant=acme' }
    peer.send({ type: 'call', id: 1, method: 'query', path: 'greet', input: { name: 'x' }, trace })
    await peer.next((m) => m.id === 1)
    await waitUntil(() => rec.of('call').length === 1, 'the call')
    expect(rec.of('call')[0]!.event.trace).toEqual(trace)
  })
})
