import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { initRpc, resync, tracked, type AnyClientApi, type AnyRouter, type inferClientApi, type ResyncSignal } from '@wirecall/core'
import { createRpcClient, type RpcClient, type RpcClientOptions } from '@wirecall/client'

// A router with every kind of entry: the three kinds, an optional input, a
// transforming validator, an idempotent mutation, a subscription that
// resyncs, nested namespaces, a nested router, middleware and a context.
const rpc = initRpc.context<{ db: { secret: string } }>().create()
const authed = rpc.procedure.use(({ ctx, next }) => next({ ctx: { user: ctx.db.secret } }))
const posts = rpc.router({
  list: rpc.procedure.input(z.object({ after: z.date().optional() }).optional()).query(() => [{ id: 1, at: new Date() }]),
})
const appRouter = rpc.router({
  greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) => `hello ${input.name}`),
  count: rpc.procedure.input(z.string().transform((s) => s.length)).query(({ input }) => input),
  pay: authed.input(z.object({ cents: z.bigint() })).idempotent().mutation(({ ctx }) => ({ by: ctx.user, ok: true as const })),
  note: authed.input(z.string()).mutation(() => new Map<string, Set<number>>()),
  feed: rpc.procedure.subscription(async function* () {
    yield tracked('1', { n: 1 })
    yield resync()
  }),
  ticks: rpc.procedure.input(z.object({ every: z.number() })).subscription(async function* () {
    yield { at: new Date() }
  }),
  deep: { er: { ping: rpc.procedure.query(() => 'pong' as const) } },
  posts,
})

type AppRouter = typeof appRouter
type AppApi = inferClientApi<AppRouter>

describe('inferClientApi', () => {
  it('keeps kinds, inputs, outputs and idempotency, and nothing of the context, middleware or validators', () => {
    expectTypeOf<AppApi['greet']>().toEqualTypeOf<{ $kind: 'query'; $input: { name: string }; $output: string }>()
    expectTypeOf<AppApi['count']>().toEqualTypeOf<{ $kind: 'query'; $input: string; $output: number }>()
    expectTypeOf<AppApi['pay']>().toEqualTypeOf<{ $kind: 'mutation'; $input: { cents: bigint }; $output: { by: string; ok: true }; $idempotent: true }>()
    expectTypeOf<AppApi['feed']['$output']>().toEqualTypeOf<{ n: number } | ResyncSignal>()
    expectTypeOf<AppApi['deep']['er']['ping']>().toEqualTypeOf<{ $kind: 'query'; $input: void | undefined; $output: 'pong' }>()
    expectTypeOf<AppApi['posts']['list']['$kind']>().toEqualTypeOf<'query'>()
  })

  it('makes the same client proxy as the router type', () => {
    expectTypeOf<RpcClient<AppApi>>().toEqualTypeOf<RpcClient<AppRouter>>()
    const fromApi = createRpcClient<AppApi>({ url: 'ws://127.0.0.1:1/rpc', lazy: true })
    const fromRouter = createRpcClient<AppRouter>({ url: 'ws://127.0.0.1:1/rpc', lazy: true })
    expectTypeOf(fromApi).toEqualTypeOf(fromRouter)
    expectTypeOf(fromApi.pay.mutate).toEqualTypeOf(fromRouter.pay.mutate)
    expectTypeOf(fromApi.feed.subscribe).toEqualTypeOf(fromRouter.feed.subscribe)
  })

  it('accepts a hand-written or generated shape, with the resync flag in place of ResyncSignal', () => {
    type Written = {
      greet: { $kind: 'query'; $input: { name: string }; $output: string }
      feed: { $kind: 'subscription'; $input: void | undefined; $output: { n: number }; $resync: true }
      pay: { $kind: 'mutation'; $input: { cents: bigint }; $output: { by: string; ok: true }; $idempotent: true }
    }
    type Client = RpcClient<Written>
    expectTypeOf<Client['greet']>().toEqualTypeOf<RpcClient<AppRouter>['greet']>()
    expectTypeOf<Client['feed']>().toEqualTypeOf<RpcClient<AppRouter>['feed']>()
    expectTypeOf<Client['pay']>().toEqualTypeOf<RpcClient<AppRouter>['pay']>()
  })

  it('refuses what the router refuses', () => {
    const api = createRpcClient<AppApi>({ url: 'ws://127.0.0.1:1/rpc', lazy: true })
    // @ts-expect-error wrong input type
    void api.greet.query({ name: 1 })
    // @ts-expect-error a query is not a subscription
    void api.greet.subscribe({ name: 'a' })
    // @ts-expect-error unknown path
    void api.nothing.query()
  })

  it('compiles in wrappers generic over routers, or over routers and API shapes, and still refuses a missing type argument', () => {
    function connectRouter<R extends AnyRouter>(options: RpcClientOptions): RpcClient<R> {
      return createRpcClient<R>(options)
    }
    function connectApi<A extends AnyRouter | AnyClientApi>(options: RpcClientOptions): RpcClient<A> {
      return createRpcClient<A>(options)
    }
    expectTypeOf(connectApi<AppApi>({ url: 'ws://127.0.0.1:1/rpc', lazy: true })).toEqualTypeOf(connectRouter<AppRouter>({ url: 'ws://127.0.0.1:1/rpc', lazy: true }))
    // @ts-expect-error pass your router type
    void createRpcClient({ url: 'ws://127.0.0.1:1/rpc', lazy: true })
  })
})
