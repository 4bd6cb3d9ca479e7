import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { RpcError, callProcedure, createCaller, getProcedure, initRpc, type inferRouterOutputs } from '@wirecall/core'
import { isRouter } from '../src/router'

const rpc = initRpc.context<{ user?: string }>().create()
const hello = rpc.procedure.query(() => 'hi')

describe('router()', () => {
  it('flattens nested objects and routers into dotted paths', () => {
    const inner = rpc.router({ deep: { x: hello } })
    const router = rpc.router({ a: hello, b: { c: hello, d: inner } })
    expect(isRouter(router)).toBe(true)
    expect([...router._def.procedures.keys()]).toEqual(['a', 'b.c', 'b.d.deep.x'])
  })

  it.each([
    ['$connection', { $connection: hello }],
    ['$ nested', { a: { $b: hello } }],
    ['then', { then: hello }],
    ['dotted key', { 'a.b': hello }],
    ['empty key', { '': hello }],
  ])('rejects the key %s at definition time', (_name, record) => {
    expect(() => rpc.router(record as never)).toThrow(TypeError)
  })

  it('rejects values that are neither procedures nor routers', () => {
    expect(() => rpc.router({ a: 1 } as never)).toThrow(/neither a procedure nor a router/)
    expect(() => rpc.router({ a: () => 1 } as never)).toThrow(TypeError)
  })

  it('rejects a record that contains itself', () => {
    const record: Record<string, unknown> = { a: hello }
    record.self = record
    expect(() => rpc.router(record as never)).toThrow(/contains itself/)
  })

  it('looks paths up as own entries only', () => {
    const router = rpc.router({ a: hello })
    for (const path of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a.__proto__', 'valueOf']) {
      expect(getProcedure(router, path)).toBeUndefined()
    }
  })

  it('rejects non-schemas and non-functions in the builder', () => {
    expect(() => rpc.procedure.input({} as never)).toThrow(/Standard Schema/)
    expect(() => rpc.procedure.use(1 as never)).toThrow(TypeError)
    expect(() => rpc.procedure.query(1 as never)).toThrow(TypeError)
  })
})

describe('callProcedure', () => {
  const signal = new AbortController().signal

  it('runs middleware and input validation in declaration order', async () => {
    const order: string[] = []
    const procedure = rpc.procedure
      .use(({ next }) => {
        order.push('first')
        return next()
      })
      .input(z.object({ n: z.number() }))
      .use(({ input, next }) => {
        order.push(`second saw ${JSON.stringify(input)}`)
        return next({ ctx: { extra: 1 } })
      })
      .query(({ input, ctx }) => {
        order.push('resolver')
        return input.n + ctx.extra
      })
    expect(await callProcedure({ procedure, path: 'p', ctx: {}, input: { n: 2 }, signal })).toBe(3)
    expect(order).toEqual(['first', 'second saw {"n":2}', 'resolver'])
  })

  it('gives the resolver undefined when no input schema is declared', async () => {
    const procedure = rpc.procedure.query(({ input }) => input)
    expect(await callProcedure({ procedure, path: 'p', ctx: {}, input: { sneaky: true }, signal })).toBeUndefined()
  })

  it('fails a middleware that does not return next()', async () => {
    const procedure = rpc.procedure.use((() => ({})) as never).query(() => 1)
    const error = await callProcedure({ procedure, path: 'p', ctx: {}, input: undefined, signal }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RpcError)
    expect((error as RpcError).code).toBe('INTERNAL')
  })

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    let ran = false
    const procedure = rpc.procedure.query(() => {
      ran = true
    })
    const error = await callProcedure({ procedure, path: 'p', ctx: {}, input: undefined, signal: controller.signal }).catch((e: unknown) => e)
    expect((error as RpcError).code).toBe('CANCELLED')
    expect(ran).toBe(false)
  })
})

describe('mergeRouters()', () => {
  const posts = rpc.router({ post: { list: hello, byId: hello } })
  const users = rpc.router({ user: { me: hello } })

  it('puts the top-level entries of several routers side by side', async () => {
    const app = rpc.mergeRouters(posts, users, rpc.router({ health: hello }))
    expect([...app._def.procedures.keys()]).toEqual(['post.list', 'post.byId', 'user.me', 'health'])
    expectTypeOf<inferRouterOutputs<typeof app>['user']['me']>().toEqualTypeOf<string>()
    expect(await createCaller(app, {}).post.byId()).toBe('hi')
  })

  it('refuses a key defined twice', () => {
    expect(() => rpc.mergeRouters(posts, rpc.router({ post: hello }))).toThrow(/"post" is defined twice/)
  })

  it('refuses, at compile time, a router built for a richer context', () => {
    const priv = initRpc.context<{ user: string; admin: boolean }>().create()
    // @ts-expect-error needs ctx.admin, which this context lacks
    expect(() => rpc.mergeRouters(posts, priv.router({ secret: priv.procedure.query(({ ctx }) => ctx.admin) }))).not.toThrow()
  })
})
