import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { RpcError, createCaller, initRpc, resync, tracked, type ResyncSignal } from '@wirecall/core'

const rpc = initRpc.context<{ user?: string }>().create()
const seen: string[] = []
const logged = rpc.middleware(async ({ path, next }) => {
  seen.push(path)
  return next()
})
const authed = rpc.procedure.use(logged).use(({ ctx, next }) => {
  if (ctx.user === undefined) throw new RpcError('UNAUTHORIZED', 'sign in first')
  return next({ ctx: { user: ctx.user } })
})
const router = rpc.router({
  greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) => `hello ${input.name}`),
  me: authed.query(({ ctx }) => ({ user: ctx.user, at: new Date(0) })),
  wait: rpc.procedure.mutation(
    ({ signal }) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason))
      }),
  ),
  boom: rpc.procedure.query(() => {
    throw new Error('disk on fire')
  }),
  nested: { count: rpc.procedure.output(z.number().int()).query(() => 1.5) },
  feed: rpc.procedure.subscription(async function* () {
    yield tracked('1', { n: 1 })
    yield resync()
    yield tracked('2', { n: 2 })
  }),
})

describe('createCaller', () => {
  it('runs procedures in process with middleware and validation', async () => {
    const caller = createCaller(router, { user: 'ada' })
    expect(await caller.greet({ name: 'Bob' })).toBe('hello Bob')
    const me = await caller.me()
    expectTypeOf(me).toEqualTypeOf<{ user: string; at: Date }>()
    expect(me).toEqual({ user: 'ada', at: new Date(0) })
    expect(seen).toContain('me')
    await expect(caller.greet({ name: 1 as never })).rejects.toMatchObject({ code: 'BAD_REQUEST' })
    // @ts-expect-error input is required
    await expect(caller.greet()).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })

  it('evaluates a context function per call and applies narrowing middleware', async () => {
    let user: string | undefined
    const caller = createCaller(router, () => ({ ...(user === undefined ? {} : { user }) }))
    await expect(caller.me()).rejects.toMatchObject({ code: 'UNAUTHORIZED' })
    user = 'grace'
    await expect(caller.me()).resolves.toMatchObject({ user: 'grace' })
  })

  it('throws RpcError, unmasked, with the original as cause', async () => {
    const caller = createCaller(router, {})
    const error = await caller.boom().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RpcError)
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'disk on fire' })
    expect((error as RpcError).cause).toBeInstanceOf(Error)
    await expect(caller.nested.count()).rejects.toMatchObject({ code: 'INTERNAL' })
    await expect((caller as unknown as { nope: () => Promise<unknown> }).nope()).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('passes the abort signal to the resolver', async () => {
    const caller = createCaller(router, {})
    const controller = new AbortController()
    const pending = caller.wait(undefined, { signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' })
  })

  it('returns subscriptions as async iterables of unwrapped events', async () => {
    const caller = createCaller(router, {})
    const events: unknown[] = []
    const feed = await caller.feed()
    expectTypeOf(feed).toEqualTypeOf<AsyncIterable<{ n: number } | ResyncSignal>>()
    for await (const event of feed) events.push(event)
    expect(events).toEqual([{ n: 1 }, resync(), { n: 2 }])
  })
})

describe('rpc.middleware', () => {
  it('rejects what is not a function', () => {
    expect(() => rpc.middleware(1 as never)).toThrow(TypeError)
  })

  it('is reusable on builders whose context was narrowed', async () => {
    const narrowed = authed.use(logged).query(({ ctx }) => ctx.user)
    const caller = createCaller(rpc.router({ narrowed }), { user: 'x' })
    expect(await caller.narrowed()).toBe('x')
  })
})
