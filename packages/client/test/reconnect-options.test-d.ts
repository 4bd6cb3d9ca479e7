import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { initRpc } from '@wirecall/core'
import {
  createRpcClient,
  type ConnectionEvents,
  type ConnectionState,
  type KeepAliveOptions,
  type LazyOptions,
  type OfflineQueueOptions,
  type ReconnectOptions,
  type RpcClient,
  type RpcClientOptions,
  type RpcError,
} from '@wirecall/client'

const rpc = initRpc.create()
const appRouter = rpc.router({
  item: {
    get: rpc.procedure.input(z.object({ id: z.string() })).query(({ input }) => input.id),
    save: rpc.procedure.input(z.object({ id: z.string() })).mutation(() => true),
    touch: rpc.procedure.mutation(() => 1),
    list: rpc.procedure.query(() => [] as string[]),
  },
  ticks: rpc.procedure.subscription(async function* () {
    yield 1
  }),
})
type AppRouter = typeof appRouter

declare const api: RpcClient<AppRouter>
const url = 'ws://127.0.0.1:1/rpc'

describe('reconnect options', () => {
  it('types reconnect as an options object or false', () => {
    expectTypeOf<Exclude<RpcClientOptions['reconnect'], undefined>>().toEqualTypeOf<ReconnectOptions | false>()
    expectTypeOf<ReconnectOptions>().toEqualTypeOf<{
      minDelayMs?: number
      maxDelayMs?: number
      factor?: number
      maxRetries?: number
      stableAfterMs?: number
    }>()
    createRpcClient<AppRouter>({ url, reconnect: false })
    createRpcClient<AppRouter>({ url, reconnect: {} })
    createRpcClient<AppRouter>({
      url,
      reconnect: { minDelayMs: 10, maxDelayMs: 80, factor: 2, maxRetries: Infinity, stableAfterMs: 1_000 },
    })
  })

  it('refuses reconnect: true and unknown or mistyped reconnect keys', () => {
    // @ts-expect-error reconnecting is the default; only false turns it off
    createRpcClient<AppRouter>({ url, reconnect: true })
    // @ts-expect-error delays are numbers of milliseconds
    createRpcClient<AppRouter>({ url, reconnect: { minDelayMs: '10' } })
    // @ts-expect-error unknown key (a typo of maxRetries)
    createRpcClient<AppRouter>({ url, reconnect: { retries: 3 } })
  })

  it('types keepAlive as an options object or false', () => {
    expectTypeOf<Exclude<RpcClientOptions['keepAlive'], undefined>>().toEqualTypeOf<KeepAliveOptions | false>()
    expectTypeOf<KeepAliveOptions>().toEqualTypeOf<{ intervalMs?: number; timeoutMs?: number }>()
    createRpcClient<AppRouter>({ url, keepAlive: false })
    createRpcClient<AppRouter>({ url, keepAlive: { intervalMs: 20, timeoutMs: 10 } })
    // @ts-expect-error keep-alive is on by default; only false turns it off
    createRpcClient<AppRouter>({ url, keepAlive: true })
  })

  it('types lazy as a boolean or { idleTimeoutMs }', () => {
    expectTypeOf<Exclude<RpcClientOptions['lazy'], undefined>>().toEqualTypeOf<boolean | LazyOptions>()
    expectTypeOf<LazyOptions>().toEqualTypeOf<{ idleTimeoutMs?: number }>()
    createRpcClient<AppRouter>({ url, lazy: true })
    createRpcClient<AppRouter>({ url, lazy: false })
    createRpcClient<AppRouter>({ url, lazy: { idleTimeoutMs: 100 } })
    createRpcClient<AppRouter>({ url, lazy: {} })
    // @ts-expect-error the idle timeout is a number of milliseconds
    createRpcClient<AppRouter>({ url, lazy: { idleTimeoutMs: '100' } })
  })

  it('types offlineQueue bounds and connectTimeoutMs as numbers', () => {
    expectTypeOf<Exclude<RpcClientOptions['offlineQueue'], undefined>>().toEqualTypeOf<OfflineQueueOptions>()
    expectTypeOf<OfflineQueueOptions>().toEqualTypeOf<{ maxCalls?: number; maxBytes?: number }>()
    expectTypeOf<Exclude<RpcClientOptions['connectTimeoutMs'], undefined>>().toEqualTypeOf<number>()
    createRpcClient<AppRouter>({ url, offlineQueue: { maxCalls: 3, maxBytes: 1_024 }, connectTimeoutMs: 150 })
    // @ts-expect-error the queue is bounded, not switched off
    createRpcClient<AppRouter>({ url, offlineQueue: false })
    // @ts-expect-error a number of milliseconds
    createRpcClient<AppRouter>({ url, connectTimeoutMs: '150' })
  })

  it('types the client backpressure high-water mark as a number of bytes', () => {
    expectTypeOf<Exclude<RpcClientOptions['backpressure'], undefined>>().toEqualTypeOf<{ highWaterMark?: number }>()
    createRpcClient<AppRouter>({ url, backpressure: { highWaterMark: 65_536 } })
    // @ts-expect-error bytes, as a number
    createRpcClient<AppRouter>({ url, backpressure: { highWaterMark: '64k' } })
  })

  it('accepts connectionParams and url as values or (async) functions', () => {
    createRpcClient<AppRouter>({ url: () => url, connectionParams: () => ({ token: 't' }) })
    createRpcClient<AppRouter>({ url: async () => url, connectionParams: async () => undefined })
    createRpcClient<AppRouter>({ url, connectionParams: { token: 't' } })
  })
})

describe('mutation options', () => {
  it('accepts idempotent and idempotencyKey on .mutate', () => {
    expectTypeOf(api.item.save.mutate({ id: 'a' }, { idempotent: true })).toEqualTypeOf<Promise<boolean>>()
    expectTypeOf(api.item.save.mutate({ id: 'a' }, { idempotencyKey: 'form-42' })).toEqualTypeOf<Promise<boolean>>()
    expectTypeOf(api.item.touch.mutate(undefined, { idempotent: true, timeoutMs: 1_000 })).toEqualTypeOf<Promise<number>>()
    // @ts-expect-error idempotent is a boolean
    void api.item.save.mutate({ id: 'a' }, { idempotent: 'yes' })
    // @ts-expect-error the key is a string
    void api.item.save.mutate({ id: 'a' }, { idempotencyKey: 42 })
  })

  it('does not accept idempotent or idempotencyKey on .query: queries are always re-sent', () => {
    void api.item.get.query({ id: 'a' }, { timeoutMs: 1_000 })
    // @ts-expect-error only mutations take idempotent
    void api.item.get.query({ id: 'a' }, { idempotent: true })
    // @ts-expect-error only mutations take an idempotency key
    void api.item.get.query({ id: 'a' }, { idempotencyKey: 'k' })
    // @ts-expect-error only mutations take idempotent, also with no input
    void api.item.list.query(undefined, { idempotent: true })
  })
})

describe('$connection', () => {
  it('has updateParams(params?) returning Promise<void>', () => {
    expectTypeOf(api.$connection.updateParams).toEqualTypeOf<(params?: Record<string, unknown>) => Promise<void>>()
    expectTypeOf(api.$connection.updateParams()).toEqualTypeOf<Promise<void>>()
    expectTypeOf(api.$connection.updateParams({ token: 'new' })).toEqualTypeOf<Promise<void>>()
    // @ts-expect-error params are an object, as connectionParams are
    void api.$connection.updateParams('token')
  })

  it('exposes rttMs as number | undefined and error as RpcError | undefined', () => {
    expectTypeOf(api.$connection.rttMs).toEqualTypeOf<number | undefined>()
    expectTypeOf(api.$connection.error).toEqualTypeOf<RpcError | undefined>()
    expectTypeOf(api.$connection.state).toEqualTypeOf<ConnectionState>()
    expectTypeOf<ConnectionState>().toEqualTypeOf<'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'>()
  })

  it('keeps rttMs and error read-only', () => {
    // @ts-expect-error read-only
    api.$connection.rttMs = 1
    // @ts-expect-error read-only
    api.$connection.error = undefined
  })

  it('has exactly the events of spec 4', () => {
    expectTypeOf<keyof ConnectionEvents>().toEqualTypeOf<
      'state' | 'close' | 'reconnect' | 'resubscribe' | 'resync' | 'pong' | 'restart'
    >()
    // @ts-expect-error no such event
    api.$connection.on('open', () => {})
  })

  it('types every event payload', () => {
    api.$connection.on('state', (state) => {
      expectTypeOf(state).toEqualTypeOf<ConnectionState>()
    })
    api.$connection.on('close', ({ code, reason }) => {
      expectTypeOf(code).toEqualTypeOf<number>()
      expectTypeOf(reason).toEqualTypeOf<string>()
    })
    api.$connection.on('reconnect', ({ attempt, delayMs }) => {
      expectTypeOf(attempt).toEqualTypeOf<number>()
      expectTypeOf(delayMs).toEqualTypeOf<number>()
    })
    api.$connection.on('resubscribe', ({ path, lastEventId }) => {
      expectTypeOf(path).toEqualTypeOf<string>()
      expectTypeOf(lastEventId).toEqualTypeOf<string | undefined>()
    })
    api.$connection.on('resync', ({ path }) => {
      expectTypeOf(path).toEqualTypeOf<string>()
    })
    api.$connection.on('pong', ({ rttMs }) => {
      expectTypeOf(rttMs).toEqualTypeOf<number>()
    })
    api.$connection.on('restart', ({ delayMs }) => {
      expectTypeOf(delayMs).toEqualTypeOf<number>()
    })
  })

  it('returns an unsubscribe function from on()', () => {
    expectTypeOf(api.$connection.on('reconnect', () => {})).toEqualTypeOf<() => void>()
  })

  it('refuses a listener that expects the wrong payload', () => {
    // @ts-expect-error attempt is a number
    api.$connection.on('reconnect', ({ attempt }: { attempt: string; delayMs: number }) => void attempt)
    // @ts-expect-error a pong carries rttMs, not delayMs
    api.$connection.on('pong', ({ delayMs }: { delayMs: number }) => void delayMs)
  })
})
