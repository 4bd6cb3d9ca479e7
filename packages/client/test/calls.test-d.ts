import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import * as v from 'valibot'
import { initRpc, type AnyRouter, type inferRouterInputs, type inferRouterOutputs } from '@wirecall/core'
import { createRpcClient, type ConnectionState, type RpcClient, type RpcClientOptions, type SubscriptionIterable } from '@wirecall/client'

const rpc = initRpc.context<{ user?: { id: string } }>().create()
const authed = rpc.procedure.use(({ ctx, next }) => next({ ctx: { user: ctx.user! } }))

const PostInput = z.object({ title: z.string(), body: z.string().default('') })
type Post = { id: number; title: string; body: string; createdAt: Date; author: string }

const appRouter = rpc.router({
  greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) => `hello ${input.name}`),
  health: rpc.procedure.query(() => ({ ok: true as const, at: new Date() })),
  maybe: rpc.procedure.input(z.object({ q: z.string() }).optional()).query(({ input }) => input?.q ?? null),
  count: rpc.procedure.input(v.pipe(v.string(), v.transform((s) => s.length))).query(({ input }) => input),
  post: {
    add: authed.input(PostInput).mutation(
      async ({ input, ctx }): Promise<Post> => ({ id: 1, ...input, createdAt: new Date(), author: ctx.user.id }),
    ),
    byId: rpc.procedure.input(z.object({ id: z.number() })).query(() => null as Post | null),
    list: rpc.procedure.query(() => [] as Post[]),
  },
  a: rpc.router({
    b: rpc.router({
      c: rpc.procedure.input(z.object({ id: z.string() })).query(({ input }) => ({
        id: input.id,
        seen: new Map<string, Date>(),
        tags: new Set<string>(),
        big: 1n,
      })),
      reset: rpc.procedure.mutation(() => true),
    }),
  }),
  ticks: rpc.procedure.input(z.object({ every: z.number() })).subscription(async function* () {
    yield { n: 1, at: new Date() }
  }),
})
type AppRouter = typeof appRouter

declare const api: RpcClient<AppRouter>
declare const signal: AbortSignal

describe('calls on RpcClient<AppRouter>', () => {
  it('is what createRpcClient returns', () => {
    expectTypeOf(createRpcClient<AppRouter>).returns.toEqualTypeOf<RpcClient<AppRouter>>()
  })

  it('requires the router type, and works inside generic wrappers', () => {
    // @ts-expect-error pass your router type: createRpcClient<AppRouter>(…)
    createRpcClient({ url: 'ws://localhost:3000/rpc' })
    function connect<TRouter extends AnyRouter>(options: Partial<RpcClientOptions>): RpcClient<TRouter> {
      return createRpcClient<TRouter>({ url: 'ws://localhost:3000/rpc', ...options })
    }
    expectTypeOf(connect<AppRouter>({})).toEqualTypeOf<RpcClient<AppRouter>>()
  })

  it('returns Promise<output> with the exact type', () => {
    expectTypeOf(api.a.b.c.query({ id: 'x' })).toEqualTypeOf<
      Promise<{ id: string; seen: Map<string, Date>; tags: Set<string>; big: bigint }>
    >()
    expectTypeOf(api.greet.query({ name: 'Ada' })).toEqualTypeOf<Promise<string>>()
    expectTypeOf(api.health.query()).toEqualTypeOf<Promise<{ ok: true; at: Date }>>()
    expectTypeOf(api.maybe.query()).toEqualTypeOf<Promise<string | null>>()
    expectTypeOf(api.count.query('abc')).toEqualTypeOf<Promise<number>>()
    expectTypeOf(api.post.byId.query({ id: 1 })).toEqualTypeOf<Promise<Post | null>>()
    expectTypeOf(api.post.list.query()).toEqualTypeOf<Promise<Post[]>>()
    expectTypeOf(api.a.b.reset.mutate()).toEqualTypeOf<Promise<boolean>>()
  })

  it('keeps Date, Map, Set and bigint outputs typed, never any', async () => {
    const c = await api.a.b.c.query({ id: 'x' })
    expectTypeOf(c).not.toBeAny()
    expectTypeOf(c.seen).not.toBeAny()
    expectTypeOf(c.seen).toEqualTypeOf<Map<string, Date>>()
    expectTypeOf(c.tags).toEqualTypeOf<Set<string>>()
    expectTypeOf(c.big).toEqualTypeOf<bigint>()
    const h = await api.health.query()
    expectTypeOf(h.at).not.toBeAny()
    expectTypeOf(h.at).toEqualTypeOf<Date>()
    const p = await api.post.add.mutate({ title: 't' })
    expectTypeOf(p.createdAt).not.toBeAny()
    expectTypeOf(p.createdAt).toEqualTypeOf<Date>()
  })

  it('matches inferRouterOutputs / inferRouterInputs', () => {
    type Outputs = inferRouterOutputs<AppRouter>
    type Inputs = inferRouterInputs<AppRouter>
    expectTypeOf<Outputs['post']['add']>().toEqualTypeOf<Awaited<ReturnType<typeof api.post.add.mutate>>>()
    expectTypeOf<Outputs['post']['add']>().toEqualTypeOf<Post>()
    expectTypeOf<Outputs['a']['b']['c']>().toEqualTypeOf<Awaited<ReturnType<typeof api.a.b.c.query>>>()
    expectTypeOf<Parameters<typeof api.post.add.mutate>[0]>().toEqualTypeOf<Inputs['post']['add']>()
    expectTypeOf<Inputs['post']['add']>().toEqualTypeOf<{ title: string; body?: string | undefined }>()
  })

  it('takes the schema input, not the schema output', () => {
    // `body` has a default: optional for the caller.
    void api.post.add.mutate({ title: 't' })
    void api.post.add.mutate({ title: 't', body: 'b' })
    // The valibot transform takes a string from the caller, even though the resolver sees a number.
    void api.count.query('abc')
    // @ts-expect-error the caller sends the schema's input (string), not its output (number)
    void api.count.query(3)
  })

  it('rejects a wrong input shape', () => {
    // @ts-expect-error name must be a string
    void api.greet.query({ name: 1 })
    // @ts-expect-error unknown key
    void api.greet.query({ name: 'Ada', extra: true })
    // @ts-expect-error required key missing
    void api.a.b.c.query({})
    // @ts-expect-error wrong key type, deep in the tree
    void api.post.byId.query({ id: '1' })
    // @ts-expect-error a procedure without .input() takes no input
    void api.health.query({ anything: 1 })
  })

  it('rejects a missing required input', () => {
    // @ts-expect-error input is required
    void api.greet.query()
    // @ts-expect-error input is required
    void api.a.b.c.query()
    // @ts-expect-error input is required, even with options
    void api.greet.query(undefined, { timeoutMs: 1 })
    // @ts-expect-error input is required for a mutation too
    void api.post.add.mutate()
    // @ts-expect-error input is required for a subscription too
    api.ticks.subscribe()
  })

  it('lets the input be omitted only when the procedure accepts undefined', () => {
    void api.health.query()
    void api.health.query(undefined, { timeoutMs: 1 })
    void api.maybe.query()
    void api.maybe.query(undefined)
    void api.maybe.query({ q: 'x' })
    void api.a.b.reset.mutate()
    // The options' keys take `undefined` explicitly (`exactOptionalPropertyTypes`), so that
    // `{ signal: maybeSignal }` compiles. TypeScript 5.9 cannot tell `a?: T` from
    // `a?: T | undefined` here and passed the looser shape; TypeScript 7 can, so the exact one is written.
    expectTypeOf(api.health.query).parameters.toEqualTypeOf<
      [input?: void | undefined, options?: { signal?: AbortSignal | undefined; timeoutMs?: number | undefined }]
    >()
    void api.health.query(undefined, { signal: undefined, timeoutMs: undefined })
  })

  it('rejects the wrong method for the procedure kind', () => {
    // @ts-expect-error a query has no mutate
    void api.greet.mutate({ name: 'Ada' })
    // @ts-expect-error a mutation has no query
    void api.post.add.query({ title: 't' })
    // @ts-expect-error a query has no subscribe
    api.greet.subscribe({ name: 'Ada' })
    // @ts-expect-error a mutation has no subscribe
    api.a.b.reset.subscribe()
    // @ts-expect-error a subscription has no query
    void api.ticks.query({ every: 1 })
    // @ts-expect-error a subscription has no mutate
    void api.ticks.mutate({ every: 1 })
    expectTypeOf(api.ticks.subscribe({ every: 1 })).toEqualTypeOf<SubscriptionIterable<{ n: number; at: Date }>>()
  })

  it('rejects unknown paths', () => {
    // @ts-expect-error no such procedure
    void api.nope.query()
    // @ts-expect-error no such procedure in a plain nested object
    void api.post.remove.mutate({ id: 1 })
    // @ts-expect-error no such procedure in a nested router
    void api.a.b.d.query({ id: 'x' })
    // @ts-expect-error a router node is not callable
    void api.a.b.query({ id: 'x' })
    // @ts-expect-error a plain nested object is not callable
    void api.post.mutate({ title: 't' })
    // @ts-expect-error `$` keys are reserved and only $connection exists
    void api.$other
  })

  it('accepts { signal, timeoutMs } as call options and rejects unknown keys', () => {
    void api.greet.query({ name: 'Ada' }, { signal, timeoutMs: 5_000 })
    void api.post.add.mutate({ title: 't' }, { signal })
    void api.post.add.mutate({ title: 't' }, { timeoutMs: 5_000 })
    void api.health.query(undefined, {})
    // @ts-expect-error unknown option
    void api.greet.query({ name: 'Ada' }, { timeout: 5_000 })
    // @ts-expect-error unknown option on a mutation
    void api.post.add.mutate({ title: 't' }, { retries: 3 })
    // @ts-expect-error timeoutMs is a number of milliseconds
    void api.greet.query({ name: 'Ada' }, { timeoutMs: '5s' })
    // @ts-expect-error signal must be an AbortSignal
    void api.greet.query({ name: 'Ada' }, { signal: true })
  })
})

describe('api.$connection', () => {
  it('exposes the 5-state union', () => {
    expectTypeOf(api.$connection.state).toEqualTypeOf<'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'>()
    expectTypeOf<ConnectionState>().toEqualTypeOf<'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'>()
    expectTypeOf(api.$connection.bufferedAmount).toEqualTypeOf<number>()
    expectTypeOf(api.$connection.close()).toEqualTypeOf<Promise<void>>()
  })

  it('types its events', () => {
    const off = api.$connection.on('state', (state) => {
      expectTypeOf(state).toEqualTypeOf<ConnectionState>()
    })
    expectTypeOf(off).toEqualTypeOf<() => void>()
    api.$connection.on('close', ({ code, reason }) => {
      expectTypeOf(code).toEqualTypeOf<number>()
      expectTypeOf(reason).toEqualTypeOf<string>()
    })
    // @ts-expect-error unknown event
    api.$connection.on('nope', () => {})
  })

  it('is read-only', () => {
    // @ts-expect-error state cannot be assigned
    api.$connection.state = 'open'
    // @ts-expect-error $connection cannot be replaced
    api.$connection = api.$connection
  })
})
