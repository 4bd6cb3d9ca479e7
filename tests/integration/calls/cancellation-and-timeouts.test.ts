import type { AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import { z } from 'zod'
import { initRpc, isRpcError, PROTOCOL, RpcError, type RpcErrorCode } from '@wirecall/core'
import { connectClient, gate, rawPeer, sleep, startServer, waitUntil, within } from '../../helpers/harness'

/**
 * Cancellation on the call path: client-side abort and timeouts reach the
 * server's `signal`, closing or losing the connection aborts server work,
 * and answers for calls nobody waits for any more are dropped.
 */

const rpc = initRpc.create()

/** One resolver run as the server saw it. */
interface Run {
  tag: string
  signal: AbortSignal
  /** Resolves with `signal.reason` once the server aborts the signal. */
  aborted: Promise<unknown>
}

/** Records every resolver run of one test's router, in order. */
function createProbe() {
  const runs: Run[] = []
  return {
    runs,
    enter(tag: string, signal: AbortSignal): void {
      const aborted = new Promise<unknown>((resolve) => {
        if (signal.aborted) return resolve(signal.reason)
        signal.addEventListener('abort', () => resolve(signal.reason), { once: true })
      })
      runs.push({ tag, signal, aborted })
    },
    /** The run with `tag`, once the server has started it. */
    async started(tag: string): Promise<Run> {
      await waitUntil(() => runs.some((r) => r.tag === tag), `resolver "${tag}" to start`)
      return runs.find((r) => r.tag === tag)!
    },
  }
}
type Probe = ReturnType<typeof createProbe>

/** Never settles on its own: rejects with the abort reason when the server aborts `signal`. */
function hangUntilAborted(signal: AbortSignal): Promise<string> {
  return new Promise<string>((_resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
}

function makeRouter(probe: Probe, release?: Promise<void>) {
  return rpc.router({
    hang: rpc.procedure.input(z.object({ tag: z.string() })).query(({ input, signal }) => {
      probe.enter(input.tag, signal)
      return hangUntilAborted(signal)
    }),
    hangMutation: rpc.procedure.input(z.object({ tag: z.string() })).mutation(({ input, signal }) => {
      probe.enter(input.tag, signal)
      return hangUntilAborted(signal)
    }),
    /** Ignores its signal and answers once `release` resolves. */
    stubborn: rpc.procedure.input(z.object({ tag: z.string() })).query(async ({ input, signal }) => {
      probe.enter(input.tag, signal)
      await release
      return `late ${input.tag}`
    }),
    echo: rpc.procedure.input(z.string()).query(({ input }) => input),
  })
}
type R = ReturnType<typeof makeRouter>

/** A server whose `createContext` waits for `ack.open()`, so calls queue on the client meanwhile. */
async function startGatedServer() {
  const probe = createProbe()
  const ack = gate()
  const { url } = await startServer({
    router: makeRouter(probe),
    createContext: async () => {
      await ack.opened
      return {}
    },
  })
  return { probe, ack, url }
}

async function rejection(promise: Promise<unknown>): Promise<RpcError> {
  const outcome = await within(
    promise.then(
      (value) => ({ settled: 'resolved' as const, value }),
      (error: unknown) => ({ settled: 'rejected' as const, error }),
    ),
    'the call to settle',
  )
  if (outcome.settled === 'resolved') throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`)
  expect(isRpcError(outcome.error)).toBe(true)
  return outcome.error as RpcError
}

async function expectCode(promise: Promise<unknown>, code: RpcErrorCode): Promise<RpcError> {
  const error = await rejection(promise)
  expect(error.code).toBe(code)
  return error
}

describe('client-side cancellation', () => {
  it('aborting a call rejects it with CANCELLED and aborts the resolver signal on the server, leaving other calls alone', async () => {
    const probe = createProbe()
    const { url } = await startServer({ router: makeRouter(probe) })
    const api = connectClient<R>(url)

    const a = new AbortController()
    const b = new AbortController()
    const callA = api.hang.query({ tag: 'a' }, { signal: a.signal })
    const callB = api.hang.query({ tag: 'b' }, { signal: b.signal })
    const runA = await probe.started('a')
    const runB = await probe.started('b')

    a.abort()
    await expectCode(callA, 'CANCELLED')
    await within(runA.aborted, 'the server to abort call a')
    expect(runA.signal.aborted).toBe(true)

    // The connection lives and the other call in flight is untouched.
    expect(await api.echo.query('still here')).toBe('still here')
    expect(runB.signal.aborted).toBe(false)

    b.abort(new Error('changed my mind'))
    const errorB = await expectCode(callB, 'CANCELLED')
    expect(errorB).toBeInstanceOf(RpcError)
    await within(runB.aborted, 'the server to abort call b')

    // Aborting after the answer arrived changes nothing.
    const late = new AbortController()
    expect(await api.echo.query('done', { signal: late.signal })).toBe('done')
    late.abort()
    expect(await api.echo.query('after')).toBe('after')
    expect(api.$connection.state).toBe('open')
  })

  it('a mutation is cancelled on the server too', async () => {
    const probe = createProbe()
    const { url } = await startServer({ router: makeRouter(probe) })
    const api = connectClient<R>(url)
    const controller = new AbortController()
    const call = api.hangMutation.mutate({ tag: 'm' }, { signal: controller.signal })
    const run = await probe.started('m')
    controller.abort()
    await expectCode(call, 'CANCELLED')
    await within(run.aborted, 'the server to abort the mutation')
  })

  it('a per-call timeoutMs rejects with TIMEOUT and cancels the call on the server', async () => {
    const probe = createProbe()
    const { url } = await startServer({ router: makeRouter(probe) })
    const api = connectClient<R>(url)
    expect(await api.echo.query('warm')).toBe('warm') // connected, so the timer measures the call alone

    const startedAt = Date.now()
    const call = api.hang.query({ tag: 't' }, { timeoutMs: 150 })
    const run = await probe.started('t')
    const error = await expectCode(call, 'TIMEOUT')
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140)
    expect(error.message).toContain('150')
    // The client sent a cancel: the server aborted the resolver while the socket stayed up.
    await within(run.aborted, 'the server to abort the timed-out call')
    expect(await api.echo.query('alive')).toBe('alive')
  })

  it('the client-level timeoutMs rejects with TIMEOUT and cancels the call on the server', async () => {
    const probe = createProbe()
    const { url } = await startServer({ router: makeRouter(probe) })
    const api = connectClient<R>(url, { timeoutMs: 150 })
    expect(await api.echo.query('warm')).toBe('warm')

    const startedAt = Date.now()
    const query = api.hang.query({ tag: 'q' })
    const mutation = api.hangMutation.mutate({ tag: 'm' })
    const [runQ, runM] = [await probe.started('q'), await probe.started('m')]
    await expectCode(query, 'TIMEOUT')
    await expectCode(mutation, 'TIMEOUT')
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(140)
    await within(runQ.aborted, 'the server to abort the timed-out query')
    await within(runM.aborted, 'the server to abort the timed-out mutation')
    expect(await api.echo.query('alive')).toBe('alive')
  })

  it('an already-aborted signal rejects at once without sending anything', async () => {
    const probe = createProbe()
    const { url, server } = await startServer({ router: makeRouter(probe) })

    // A lazy client must not even connect for it.
    const lazy = connectClient<R>(url, { lazy: true })
    const settledFirst = await Promise.race([
      lazy.hang.query({ tag: 'lazy' }, { signal: AbortSignal.abort() }).then(
        () => 'resolved',
        (error: unknown) => error,
      ),
      sleep(50).then(() => 'still pending'),
    ])
    expect(isRpcError(settledFirst)).toBe(true)
    expect((settledFirst as RpcError).code).toBe('CANCELLED')
    expect(lazy.$connection.state).toBe('idle')
    expect(server.connectionCount).toBe(0)

    // On an open connection, the call never reaches the server either.
    const api = connectClient<R>(url)
    expect(await api.echo.query('open')).toBe('open')
    await expectCode(api.hang.query({ tag: 'open' }, { signal: AbortSignal.abort('no') }), 'CANCELLED')
    await expectCode(api.hangMutation.mutate({ tag: 'open-m' }, { signal: AbortSignal.abort() }), 'CANCELLED')
    expect(await api.echo.query('after')).toBe('after') // answered after anything sent before it
    await sleep(20)
    expect(probe.runs).toEqual([])
  })

  it('aborting a call queued before the connection opens keeps it off the wire', async () => {
    const { probe, ack, url } = await startGatedServer()
    const api = connectClient<R>(url)
    const controller = new AbortController()
    const queued = api.hang.query({ tag: 'queued' }, { signal: controller.signal })
    expect(api.$connection.state).toBe('connecting')
    controller.abort()
    await expectCode(queued, 'CANCELLED')
    ack.open()
    expect(await api.echo.query('flushed')).toBe('flushed')
    await sleep(20)
    expect(probe.runs).toEqual([])
  })

  it('a call that times out while waiting for the connection rejects with TIMEOUT and is never sent', async () => {
    const { probe, ack, url } = await startGatedServer()
    const api = connectClient<R>(url)
    const startedAt = Date.now()
    await expectCode(api.hang.query({ tag: 'queued' }, { timeoutMs: 100 }), 'TIMEOUT')
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(90)
    expect(api.$connection.state).toBe('connecting')
    ack.open()
    expect(await api.echo.query('flushed')).toBe('flushed')
    await sleep(20)
    expect(probe.runs).toEqual([])
  })
})

describe('late answers', () => {
  it('the server sends nothing for a call it was told to cancel, even when the resolver finishes', async () => {
    const probe = createProbe()
    const release = gate()
    const { url } = await startServer({ router: makeRouter(probe, release.opened) })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')

    peer.send({ type: 'call', id: 1, method: 'query', path: 'stubborn', input: { tag: 's' } })
    const run = await probe.started('s')
    peer.send({ type: 'cancel', id: 1 })
    await within(run.aborted, 'the server to abort the stubborn call')
    release.open() // the resolver ignores its signal and returns anyway

    peer.send({ type: 'call', id: 2, method: 'query', path: 'echo', input: 'next' })
    expect(await peer.next((m) => m.id === 2)).toMatchObject({ type: 'result', id: 2, data: 'next' })
    await sleep(30)
    expect(peer.messages.filter((m) => m.id === 1)).toEqual([])
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
  })

  it('a late result (and error) for a cancelled or timed-out call is dropped by the client', async () => {
    // A hand-written server that ignores cancels and answers every abandoned call late, twice.
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
    })
    const sockets = new Set<WsSocket>()
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.terminate()
          wss.close(() => resolve())
        }),
    )
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    const cancels: number[] = []
    wss.on('connection', (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      ws.on('message', (raw) => {
        const message = JSON.parse(String(raw)) as { type: string; id: number; path: string; input: unknown }
        if (message.type === 'init') return ws.send(JSON.stringify({ type: 'ack' }))
        if (message.type === 'call' && message.path === 'echo') {
          return ws.send(JSON.stringify({ type: 'result', id: message.id, data: message.input }))
        }
        if (message.type === 'cancel') {
          cancels.push(message.id)
          ws.send(JSON.stringify({ type: 'result', id: message.id, data: 'late' }))
          ws.send(JSON.stringify({ type: 'error', id: message.id, code: 'INTERNAL', message: 'late too' }))
        }
      })
    })
    const { port } = wss.address() as AddressInfo
    const api = connectClient<R>(`ws://127.0.0.1:${port}/`)
    expect(await api.echo.query('warm')).toBe('warm')

    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    onTestFinished(() => {
      process.off('unhandledRejection', onUnhandled)
    })

    const controller = new AbortController()
    const settlements: string[] = []
    const aborted = api.hang.query({ tag: 'x' }, { signal: controller.signal })
    aborted.then(
      () => settlements.push('resolved'),
      (e: RpcError) => settlements.push(e.code),
    )
    const timedOut = api.hang.query({ tag: 'y' }, { timeoutMs: 100 })
    timedOut.then(
      () => settlements.push('resolved'),
      (e: RpcError) => settlements.push(e.code),
    )
    await sleep(20) // both calls are on the wire
    controller.abort()
    await expectCode(aborted, 'CANCELLED')
    await expectCode(timedOut, 'TIMEOUT')
    await waitUntil(() => cancels.length === 2, 'both cancels to reach the server')

    // The late answers arrive before this echo's result (same socket, in order) and change nothing.
    expect(await api.echo.query('fresh')).toBe('fresh')
    expect(await api.echo.query('again')).toBe('again')
    expect(settlements.sort()).toEqual(['CANCELLED', 'TIMEOUT'])
    expect(api.$connection.state).toBe('open')
    expect(unhandled).toEqual([])
  })
})

describe('connection loss aborts server work', () => {
  it('$connection.close() rejects every pending call with CANCELLED and the server aborts their signals', async () => {
    const probe = createProbe()
    const { url, server } = await startServer({ router: makeRouter(probe) })
    const api = connectClient<R>(url)
    const calls = [
      api.hang.query({ tag: '1' }),
      api.hang.query({ tag: '2' }),
      api.hangMutation.mutate({ tag: '3' }),
    ]
    const runs = await Promise.all(['1', '2', '3'].map((tag) => probe.started(tag)))

    const closing = api.$connection.close()
    await Promise.all(calls.map((call) => expectCode(call, 'CANCELLED')))
    await within(closing, '$connection.close() to resolve')
    await within(Promise.all(runs.map((r) => r.aborted)), 'the server to abort every call')
    await waitUntil(() => server.connectionCount === 0, 'the server to release the connection')

    expect(api.$connection.state).toBe('closed')
    await expectCode(api.echo.query('after close'), 'CANCELLED')
  })

  it('$connection.close() while still connecting rejects queued calls with CANCELLED and leaves nothing on the server', async () => {
    const probe = createProbe()
    const ack = gate()
    let contexts = 0
    const { url, server } = await startServer({
      router: makeRouter(probe),
      createContext: async () => {
        contexts++
        await ack.opened
        return {}
      },
    })
    const api = connectClient<R>(url)
    const queued = [api.hang.query({ tag: 'q' }), api.hangMutation.mutate({ tag: 'm' })]
    await waitUntil(() => contexts === 1, 'the server to receive init')
    expect(api.$connection.state).toBe('connecting')

    const rejected = Promise.all(queued.map((call) => expectCode(call, 'CANCELLED')))
    await within(api.$connection.close(), '$connection.close() to resolve')
    await rejected
    ack.open() // createContext finishes after the socket is gone
    await waitUntil(() => server.connectionCount === 0, 'the server to release the connection')
    await sleep(20)
    expect(probe.runs).toEqual([])
  })

  it('a client socket destroyed abruptly aborts the resolvers on the server', async () => {
    const probe = createProbe()
    const { url, server } = await startServer({ router: makeRouter(probe) })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')
    peer.send([
      { type: 'call', id: 1, method: 'query', path: 'hang', input: { tag: 'q' } },
      { type: 'call', id: 2, method: 'mutation', path: 'hangMutation', input: { tag: 'm' } },
    ])
    const runs = [await probe.started('q'), await probe.started('m')]
    expect(server.connectionCount).toBe(1)

    peer.ws.terminate() // no closing handshake: the TCP connection just goes away
    await within(Promise.all(runs.map((r) => r.aborted)), 'the server to abort both resolvers')
    await waitUntil(() => server.connectionCount === 0, 'the server to release the connection')
  })

  it('a cancel for an unknown or finished id is ignored and the connection lives', async () => {
    const probe = createProbe()
    const { url } = await startServer({ router: makeRouter(probe) })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')

    peer.send({ type: 'cancel', id: 424242 }) // never used
    peer.send({ type: 'call', id: 1, method: 'query', path: 'echo', input: 'one' })
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'result', data: 'one' })
    peer.send({ type: 'cancel', id: 1 }) // already answered
    peer.send({ type: 'cancel', id: 1 }) // twice
    peer.send({ type: 'ping' })
    await peer.next((m) => m.type === 'pong')
    peer.send({ type: 'call', id: 2, method: 'query', path: 'echo', input: 'two' })
    expect(await peer.next((m) => m.id === 2)).toMatchObject({ type: 'result', data: 'two' })

    expect(peer.messages.filter((m) => m.type === 'error')).toEqual([])
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
  })
})

describe('timeouts beyond what a timer can hold', () => {
  it.each([Number.POSITIVE_INFINITY, 2 ** 31, Number.MAX_SAFE_INTEGER])('timeoutMs %s waits instead of firing at once', async (timeoutMs) => {
    const probe = createProbe()
    const { url } = await startServer({ router: makeRouter(probe) })
    const api = connectClient<R>(url, { timeoutMs })
    const controller = new AbortController()
    const pending = api.hang.query({ tag: 'long' }, { signal: controller.signal })
    const run = await probe.started('long')
    // Had the timer overflowed, the call would have timed out and cancelled already.
    expect(await api.echo.query('alive')).toBe('alive')
    expect(run.signal.aborted).toBe(false)
    controller.abort()
    await expectCode(pending, 'CANCELLED')
  })
})
