import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { initRpc, isRpcError, type RpcErrorCode } from '@wirecall/core'
import { createRpcClient, type RpcClient, type RpcClientOptions } from '@wirecall/client'
import { z } from 'zod'
import { FakeWebSocket } from './fake-websocket'

/**
 * The client as a state machine: frames in from a fake server, frames and
 * close codes out, on fake timers — no network, no real time. The router
 * exists for its type only, as in an app.
 */

const rpc = initRpc.context<object>().create()
const router = rpc.router({
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
  add: rpc.procedure.input(z.number()).mutation(({ input }) => input + 1),
  ticks: rpc.procedure.subscription(async function* () {
    yield 1
  }),
})
type R = typeof router

let clients: RpcClient<R>[] = []

function connect(options: Partial<RpcClientOptions> = {}): RpcClient<R> {
  const api = createRpcClient<R>({ url: 'ws://127.0.0.1:1/rpc', WebSocket: FakeWebSocket, reconnect: { minDelayMs: 100, maxDelayMs: 100 }, ...options })
  clients.push(api)
  return api
}

/** Lets promise callbacks and the client's microtask flush run, and moves the clock by `ms`. */
const advance = (ms = 0) => vi.advanceTimersByTimeAsync(ms)

/** The code a promise rejects with (it must reject with an RpcError). */
async function codeOf(promise: Promise<unknown>): Promise<RpcErrorCode> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (e: unknown) => e,
  )
  if (!isRpcError(error)) throw error
  return error.code
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] })
  FakeWebSocket.made = []
  clients = []
})
afterEach(async () => {
  for (const api of clients) {
    const closed = api.$connection.close()
    await advance(1_000)
    await closed
  }
  expect(vi.getTimerCount()).toBe(0)
  vi.useRealTimers()
})

describe('connecting', () => {
  it('sends init with the connection params once open, and calls made meanwhile once acked', async () => {
    const api = connect({ connectionParams: { token: 't' } })
    expect(api.$connection.state).toBe('connecting')
    const answer = api.echo.query('hi')
    await advance()
    const ws = FakeWebSocket.last
    expect(ws.protocols).toBe('wirecall.v1')
    ws.open()
    expect(ws.sent).toEqual([{ type: 'init', params: { token: 't' } }])
    ws.receive({ type: 'ack' })
    await advance()
    expect(api.$connection.state).toBe('open')
    expect(ws.of('call')).toEqual([{ type: 'call', id: 1, method: 'query', path: 'echo', input: 'hi' }])
    ws.receive({ type: 'result', id: 1, data: 'hi' })
    expect(await answer).toBe('hi')
  })

  it('gives up on a server that does not ack within connectTimeoutMs, as a 1006, and retries', async () => {
    const closes: number[] = []
    const api = connect({ connectTimeoutMs: 1_000 })
    api.$connection.on('close', ({ code }) => closes.push(code))
    await advance()
    FakeWebSocket.last.open()
    await advance(1_000)
    expect(closes).toEqual([1006])
    expect(api.$connection.state).toBe('reconnecting')
    await advance(100)
    expect(FakeWebSocket.made).toHaveLength(2)
  })

  it('stops for good on a terminal close code, rejecting what waits with its error', async () => {
    const api = connect()
    const answer = api.echo.query('x')
    await advance()
    FakeWebSocket.last.open()
    FakeWebSocket.last.closeNow(4401, 'bad token')
    expect(await codeOf(answer)).toBe('UNAUTHORIZED')
    expect(api.$connection.state).toBe('closed')
    expect(api.$connection.error).toMatchObject({ code: 'UNAUTHORIZED', data: { closeCode: 4401, closeReason: 'bad token' } })
    await advance(60_000)
    expect(FakeWebSocket.made).toHaveLength(1)
    expect(await codeOf(api.echo.query('later'))).toBe('UNAUTHORIZED')
  })

  it('closes with 4400 on a frame that is not a valid envelope, and on a server that skips the subprotocol', async () => {
    const api = connect()
    await advance()
    FakeWebSocket.last.accept()
    FakeWebSocket.last.receive('{"type":"result"}')
    await advance()
    expect(FakeWebSocket.made[0]!.closedWith?.code).toBe(4400)
    expect(api.$connection.state).toBe('closed')

    connect()
    await advance()
    FakeWebSocket.last.open('')
    expect(FakeWebSocket.last.closedWith?.code).toBe(4400)
  })
})

describe('calls', () => {
  it('matches answers to calls by id, in any order, and drops a late answer', async () => {
    const api = connect()
    await advance()
    const ws = FakeWebSocket.last
    ws.accept()
    const a = api.echo.query('a')
    const b = api.add.mutate(1)
    await advance()
    expect(ws.frames.at(-1)).toBe('[{"type":"call","id":1,"method":"query","path":"echo","input":"a"},{"type":"call","id":2,"method":"mutation","path":"add","input":1}]')
    ws.receive([
      { type: 'result', id: 2, data: 2 },
      { type: 'error', id: 1, code: 'NOT_FOUND', message: 'gone', data: { why: 1 } },
    ])
    expect(await b).toBe(2)
    await expect(a).rejects.toMatchObject({ code: 'NOT_FOUND', message: 'gone', data: { why: 1 } })
    ws.receive({ type: 'result', id: 1, data: 'late' })
  })

  it('times a call out from when it was made, and tells the server to cancel it', async () => {
    const api = connect({ timeoutMs: 1_000 })
    await advance()
    const ws = FakeWebSocket.last
    ws.accept()
    const slow = codeOf(api.echo.query('x'))
    const own = codeOf(api.echo.query('y', { timeoutMs: 5_000 }))
    await advance(999)
    expect(ws.of('cancel')).toEqual([])
    await advance(1)
    expect(await slow).toBe('TIMEOUT')
    expect(ws.of('cancel')).toEqual([{ type: 'cancel', id: 1 }])
    await advance(4_000)
    expect(await own).toBe('TIMEOUT')
    expect(ws.of('cancel')).toEqual([
      { type: 'cancel', id: 1 },
      { type: 'cancel', id: 2 },
    ])
  })

  it('an aborted signal rejects with CANCELLED and cancels on the server; an aborted one never goes out', async () => {
    const api = connect()
    await advance()
    const ws = FakeWebSocket.last
    ws.accept()
    const controller = new AbortController()
    const call = api.echo.query('x', { signal: controller.signal })
    await advance()
    controller.abort()
    expect(await codeOf(call)).toBe('CANCELLED')
    await advance()
    expect(ws.of('cancel')).toEqual([{ type: 'cancel', id: 1 }])
    expect(await codeOf(api.echo.query('y', { signal: controller.signal }))).toBe('CANCELLED')
    await advance()
    expect(ws.of('call')).toHaveLength(1)
  })

  it('refuses a call larger than the maxPayload the server announced, before sending it', async () => {
    const api = connect()
    await advance()
    const ws = FakeWebSocket.last
    ws.accept(1_000)
    await expect(api.echo.query('x'.repeat(2_000))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', data: { maxPayload: 1_000 } })
    await advance()
    expect(ws.of('call')).toEqual([])
  })

  it('bounds the calls waiting for a connection: OVERLOADED past offlineQueue', async () => {
    const api = connect({ offlineQueue: { maxCalls: 2 } })
    const waiting = [api.echo.query('a'), api.echo.query('b')]
    expect(await codeOf(api.echo.query('c'))).toBe('OVERLOADED')
    await advance()
    FakeWebSocket.last.accept()
    await advance()
    expect(FakeWebSocket.last.of('call')).toHaveLength(2)
    for (const [i, call] of waiting.entries()) {
      FakeWebSocket.last.receive({ type: 'result', id: i + 1, data: 'ok' })
      expect(await call).toBe('ok')
    }
  })

  it('updateParams sends reinit on the open connection and resolves on its result', async () => {
    const api = connect({ connectionParams: { token: 'old' } })
    await advance()
    const ws = FakeWebSocket.last
    ws.accept()
    const update = api.$connection.updateParams({ token: 'new' })
    await advance()
    expect(ws.of('reinit')).toEqual([{ type: 'reinit', id: 1, params: { token: 'new' } }])
    ws.receive({ type: 'result', id: 1 })
    await update
    ws.closeNow(1006)
    await advance(100)
    FakeWebSocket.last.open()
    expect(FakeWebSocket.last.of('init')).toEqual([{ type: 'init', params: { token: 'new' } }])
  })
})

describe('reconnecting', () => {
  it('after a drop: queries and idempotent mutations are sent again, a plain mutation rejects CONNECTION_LOST', async () => {
    const api = connect()
    await advance()
    FakeWebSocket.last.accept()
    const query = api.echo.query('q')
    const plain = api.add.mutate(1)
    const idempotent = api.add.mutate(2, { idempotencyKey: 'k' })
    await advance()
    FakeWebSocket.last.closeNow(1006)
    expect(await codeOf(plain)).toBe('CONNECTION_LOST')
    expect(api.$connection.state).toBe('reconnecting')
    await advance(100)
    const ws = FakeWebSocket.last
    ws.accept()
    await advance()
    expect(ws.of('call')).toEqual([
      { type: 'call', id: 1, method: 'query', path: 'echo', input: 'q' },
      { type: 'call', id: 3, method: 'mutation', path: 'add', idempotencyKey: 'k', input: 2 },
    ])
    ws.receive([
      { type: 'result', id: 1, data: 'q' },
      { type: 'result', id: 3, data: 3 },
    ])
    expect([await query, await idempotent]).toEqual(['q', 3])
  })

  it('a 1009 fails only the call written last, and the connection is restored', async () => {
    const api = connect()
    await advance()
    FakeWebSocket.last.accept()
    const first = api.echo.query('small')
    await advance()
    const big = api.echo.query('big')
    await advance()
    FakeWebSocket.last.closeNow(1009, 'too big')
    expect(await codeOf(big)).toBe('PAYLOAD_TOO_LARGE')
    await advance(100)
    FakeWebSocket.last.accept()
    await advance()
    expect(FakeWebSocket.last.of('call')).toEqual([{ type: 'call', id: 1, method: 'query', path: 'echo', input: 'small' }])
    FakeWebSocket.last.receive({ type: 'result', id: 1, data: 'small' })
    expect(await first).toBe('small')
  })

  it('resubscribes with the last event id and tells listeners', async () => {
    const api = connect()
    const resubscribed: unknown[] = []
    api.$connection.on('resubscribe', (info) => resubscribed.push(info))
    const events: unknown[] = []
    const sub = api.ticks.subscribe(undefined, { onData: (n) => events.push(n) })
    await advance()
    let ws = FakeWebSocket.last
    ws.accept()
    await advance()
    expect(ws.of('subscribe')).toEqual([{ type: 'subscribe', id: 1, path: 'ticks' }])
    ws.receive([
      { type: 'started', id: 1, eventId: '10' },
      { type: 'data', id: 1, eventId: '11', data: 1 },
    ])
    expect(sub.state).toBe('started')
    expect(sub.lastEventId).toBe('11')
    ws.closeNow(1006)
    expect(sub.state).toBe('pending')
    await advance(100)
    ws = FakeWebSocket.last
    ws.accept()
    await advance()
    expect(ws.of('subscribe')).toEqual([{ type: 'subscribe', id: 1, path: 'ticks', lastEventId: '11' }])
    expect(resubscribed).toEqual([{ path: 'ticks', lastEventId: '11' }])
    expect(events).toEqual([1])
    sub.unsubscribe()
    await advance()
    expect(ws.of('unsubscribe')).toEqual([{ type: 'unsubscribe', id: 1 }])
  })

  it('reconnects after the delay a restart announced, not the backoff', async () => {
    const api = connect({ reconnect: { minDelayMs: 60_000, maxDelayMs: 60_000 } })
    const subscription = api.ticks.subscribe(undefined, { onData: () => {} })
    await advance()
    FakeWebSocket.last.accept()
    FakeWebSocket.last.receive({ type: 'restart', delayMs: 250 })
    FakeWebSocket.last.closeNow(1012)
    await advance(249)
    expect(FakeWebSocket.made).toHaveLength(1)
    await advance(1)
    expect(FakeWebSocket.made).toHaveLength(2)
    subscription.unsubscribe()
  })

  it('pings a quiet connection and reconnects when no pong comes (a half-open link)', async () => {
    const api = connect({ keepAlive: { intervalMs: 1_000, timeoutMs: 500 } })
    const subscription = api.ticks.subscribe(undefined, { onData: () => {} })
    await advance()
    const ws = FakeWebSocket.last
    ws.accept()
    await advance(1_000)
    expect(ws.of('ping')).toEqual([{ type: 'ping' }])
    ws.receive({ type: 'pong' })
    expect(api.$connection.rttMs).toBe(0)
    await advance(1_000)
    expect(ws.of('ping')).toHaveLength(2)
    await advance(500)
    expect(api.$connection.state).toBe('reconnecting')
    subscription.unsubscribe()
  })
})

describe('closing', () => {
  it('close() closes with 1000 and rejects what waits with CANCELLED', async () => {
    const api = connect()
    await advance()
    const ws = FakeWebSocket.last
    ws.accept()
    const pending = api.echo.query('x')
    const closed = api.$connection.close()
    expect(await codeOf(pending)).toBe('CANCELLED')
    await closed
    expect(ws.closedWith).toEqual({ code: 1000, reason: 'client closed' })
    expect(api.$connection.state).toBe('closed')
  })

  it('a lazy client connects on first use and closes again when idle', async () => {
    const api = connect({ lazy: { idleTimeoutMs: 1_000 } })
    await advance()
    expect(FakeWebSocket.made).toHaveLength(0)
    expect(api.$connection.state).toBe('idle')
    const call = api.echo.query('x')
    await advance()
    FakeWebSocket.last.accept()
    await advance()
    FakeWebSocket.last.receive({ type: 'result', id: 1, data: 'x' })
    expect(await call).toBe('x')
    await advance(1_000)
    expect(FakeWebSocket.last.closedWith).toEqual({ code: 1000, reason: 'idle' })
    expect(api.$connection.state).toBe('idle')
  })
})
