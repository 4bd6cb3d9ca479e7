import { describe, expect, expectTypeOf, it } from 'vitest'
import * as v from 'valibot'
import { z } from 'zod'
import {
  initRpc,
  OutputValidationError,
  RpcError,
  type inferRouterInputs,
  type inferRouterOutputs,
  type ValidationErrorData,
} from '@wirecall/core'
import type { ErrorHandlerOptions } from '@wirecall/server'
import { connectClient, readyPeer, rpcErrorOf, startServer } from '../../helpers/harness'

/**
 * Input and output validation with two Standard Schema validators, zod 4 and
 * valibot 1, end to end over a real socket.
 */

const rpc = initRpc.context<{ user?: string }>().create()

/** Every resolver run, by path; a failed input must leave no trace here. */
const runs = new Map<string, number>()
const ran = (path: string) => runs.set(path, (runs.get(path) ?? 0) + 1)
const runsOf = (path: string) => runs.get(path) ?? 0

/** What input-less procedures and their middleware saw. */
const noInputSaw: { middleware: unknown[]; resolver: unknown[] } = { middleware: [], resolver: [] }
/** What the middleware on either side of `.input()` saw. */
const around: { before: unknown[]; after: unknown[] } = { before: [], after: [] }

const ZodOrder = z.object({
  name: z.string().min(2),
  items: z.array(z.object({ qty: z.number().int().positive() })),
})
const ValibotOrder = v.object({
  name: v.pipe(v.string(), v.minLength(2, 'name is too short')),
  items: v.array(v.object({ qty: v.pipe(v.number(), v.integer('qty must be an integer')) })),
})

const router = rpc.router({
  zod: {
    order: rpc.procedure.input(ZodOrder).mutation(({ input }) => {
      ran('zod.order')
      return { accepted: input.items.length }
    }),
    transformed: rpc.procedure
      .input(
        z.object({
          count: z.string().transform((s) => Number(s)),
          when: z.string().transform((s) => new Date(s)),
          tags: z.array(z.string()).default(['none']),
          label: z.string().trim().toLowerCase(),
        }),
      )
      .query(({ input }) => {
        ran('zod.transformed')
        return { ...input, countType: typeof input.count }
      }),
    asyncCheck: rpc.procedure
      .input(z.object({ handle: z.string().refine(async (h) => h !== 'taken', 'handle is taken') }))
      .mutation(({ input }) => {
        ran('zod.asyncCheck')
        return input.handle
      }),
    badOutput: rpc.procedure.output(z.object({ id: z.string(), secretField: z.number() })).query(() => {
      ran('zod.badOutput')
      return { id: 7, secretField: 'oops' } as unknown as { id: string; secretField: number }
    }),
    goodOutput: rpc.procedure.output(z.object({ id: z.string() })).query(() => ({ id: 'a' })),
    mappedOutput: rpc.procedure
      .output(z.object({ at: z.date() }).transform((o) => ({ iso: o.at.toISOString(), year: o.at.getUTCFullYear() })))
      .query(() => ({ at: new Date(Date.UTC(2030, 0, 1)) })),
  },
  valibot: {
    order: rpc.procedure.input(ValibotOrder).mutation(({ input }) => {
      ran('valibot.order')
      return { accepted: input.items.length }
    }),
    transformed: rpc.procedure
      .input(
        v.object({
          count: v.pipe(v.string(), v.transform(Number)),
          tag: v.optional(v.string(), 'default-tag'),
        }),
      )
      .query(({ input }) => {
        ran('valibot.transformed')
        return input
      }),
    asyncCheck: rpc.procedure
      .input(v.objectAsync({ handle: v.pipeAsync(v.string(), v.checkAsync(async (h) => h !== 'taken', 'handle is taken')) }))
      .mutation(({ input }) => {
        ran('valibot.asyncCheck')
        return input.handle
      }),
    badOutput: rpc.procedure.output(v.object({ id: v.string() })).mutation(() => {
      ran('valibot.badOutput')
      return { id: null } as unknown as { id: string }
    }),
    mappedOutput: rpc.procedure
      .output(v.pipe(v.number(), v.transform((n) => `#${n}`)))
      .query(() => 42),
  },
  noInput: rpc.procedure
    .use(({ input, next }) => {
      noInputSaw.middleware.push(input)
      return next()
    })
    .query(({ input }) => {
      noInputSaw.resolver.push(input)
      return 'ran'
    }),
  ordered: rpc.procedure
    .use(({ input, next }) => {
      around.before.push(input)
      return next()
    })
    .input(z.object({ n: z.string().transform(Number) }))
    .use(({ input, next }) => {
      around.after.push(input)
      return next()
    })
    .query(({ input }) => input.n),
  authedThenValidated: rpc.procedure
    .use(({ ctx, next }) => {
      if (ctx.user === undefined) throw new RpcError('UNAUTHORIZED', 'sign in first')
      return next({ ctx: { user: ctx.user } })
    })
    .input(z.object({ n: z.number() }))
    .query(({ input, ctx }) => `${ctx.user}:${input.n}`),
})
type R = typeof router

async function setup(user?: string) {
  const errors: ErrorHandlerOptions[] = []
  const { server, url } = await startServer({
    router,
    createContext: ({ connectionParams }) => {
      const params = connectionParams as { user?: unknown } | undefined
      return typeof params?.user === 'string' ? { user: params.user } : {}
    },
    onError: (opts) => errors.push(opts),
  })
  const api = connectClient<R>(url, user === undefined ? {} : { connectionParams: { user } })
  return { api, url, server, errors }
}

/** Checks the shape of `error.data` of a failed input and returns its issues. */
function issuesOf(error: RpcError): ValidationErrorData['issues'] {
  expect(error.code).toBe('BAD_REQUEST')
  expect(error.message).toMatch(/^Invalid input/)
  const data = error.data as ValidationErrorData
  expect(Object.keys(data)).toEqual(['issues'])
  expect(Array.isArray(data.issues)).toBe(true)
  for (const issue of data.issues) {
    expect(Object.keys(issue).sort()).toEqual(['message', 'path'])
    expect(typeof issue.message).toBe('string')
    expect(issue.message.length).toBeGreaterThan(0)
    expect(Array.isArray(issue.path)).toBe(true)
  }
  return data.issues
}

describe('input validation', () => {
  describe.each([
    { lib: 'zod', path: 'zod.order' as const },
    { lib: 'valibot', path: 'valibot.order' as const },
  ])('with $lib', ({ lib, path }) => {
    const call = (api: Awaited<ReturnType<typeof setup>>['api'], input: unknown) =>
      lib === 'zod' ? api.zod.order.mutate(input as never) : api.valibot.order.mutate(input as never)

    it('a failed input is BAD_REQUEST with every issue, and the resolver never runs', async () => {
      const { api, errors } = await setup()
      const before = runsOf(path)
      const error = await rpcErrorOf(call(api, { name: 'a', items: [{ qty: 1 }, { qty: 1.5 }] }))
      const issues = issuesOf(error)
      expect(issues.map((i) => i.path)).toEqual([['name'], ['items', 1, 'qty']])
      if (lib === 'valibot') expect(issues.map((i) => i.message)).toEqual(['name is too short', 'qty must be an integer'])
      expect(runsOf(path)).toBe(before)

      // onError sees the same BAD_REQUEST, with the path and type of the call.
      expect(errors).toHaveLength(1)
      expect(errors[0]!.error.code).toBe('BAD_REQUEST')
      expect(errors[0]!.path).toBe(path)
      expect(errors[0]!.type).toBe('mutation')

      // The connection lives: a valid call goes through and runs once.
      expect(await call(api, { name: 'ab', items: [{ qty: 1 }, { qty: 2 }] })).toEqual({ accepted: 2 })
      expect(runsOf(path)).toBe(before + 1)
    })

    it('a missing or wrongly typed input is BAD_REQUEST with an issue at the root', async () => {
      const { api } = await setup()
      const before = runsOf(path)
      for (const input of [undefined, 'not an object', 42, null]) {
        const issues = issuesOf(await rpcErrorOf(call(api, input)))
        expect(issues.length).toBeGreaterThan(0)
        expect(issues[0]!.path).toEqual([])
      }
      expect(runsOf(path)).toBe(before)
    })
  })

  it('async validators (zod refine, valibot checkAsync) are awaited', async () => {
    const { api } = await setup()
    for (const [lib, callIt] of [
      ['zod', (handle: string) => api.zod.asyncCheck.mutate({ handle })],
      ['valibot', (handle: string) => api.valibot.asyncCheck.mutate({ handle })],
    ] as const) {
      const before = runsOf(`${lib}.asyncCheck`)
      const issues = issuesOf(await rpcErrorOf(callIt('taken')))
      expect(issues).toEqual([{ message: 'handle is taken', path: ['handle'] }])
      expect(runsOf(`${lib}.asyncCheck`)).toBe(before)
      expect(await callIt('free')).toBe('free')
      expect(runsOf(`${lib}.asyncCheck`)).toBe(before + 1)
    }
  })

  it('zod transforms and defaults reach the resolver transformed', async () => {
    const { api } = await setup()
    expectTypeOf<inferRouterInputs<R>['zod']['transformed']>().toEqualTypeOf<{
      count: string
      when: string
      tags?: string[] | undefined
      label: string
    }>()
    const out = await api.zod.transformed.query({ count: '42', when: '2024-01-01T00:00:00Z', label: '  HeLLo ' })
    expectTypeOf(out.count).toEqualTypeOf<number>()
    expectTypeOf(out.when).toEqualTypeOf<Date>()
    expect(out).toEqual({
      count: 42,
      countType: 'number',
      when: new Date('2024-01-01T00:00:00Z'),
      tags: ['none'],
      label: 'hello',
    })
    expect(out.when).toBeInstanceOf(Date)
    expect((await api.zod.transformed.query({ count: '1', when: '2000-01-01', tags: ['a'], label: 'X' })).tags).toEqual(['a'])
  })

  it('valibot transforms and defaults reach the resolver transformed', async () => {
    const { api } = await setup()
    expectTypeOf<inferRouterInputs<R>['valibot']['transformed']>().toEqualTypeOf<{ count: string; tag?: string | undefined }>()
    const out = await api.valibot.transformed.query({ count: '7' })
    expectTypeOf(out).toEqualTypeOf<{ count: number; tag: string }>()
    expect(out).toEqual({ count: 7, tag: 'default-tag' })
  })

  it('middleware before .input() sees the raw input, middleware after it sees the parsed one', async () => {
    const { api } = await setup()
    around.before.length = 0
    around.after.length = 0
    expect(await api.ordered.query({ n: '5' })).toBe(5)
    expect(around.before).toEqual([{ n: '5' }])
    expect(around.after).toEqual([{ n: 5 }])

    // A failed input stops the chain at the schema: later middleware never runs.
    await rpcErrorOf(api.ordered.query({ n: 5 as never }))
    expect(around.before).toHaveLength(2)
    expect(around.after).toHaveLength(1)
  })

  it('middleware placed before .input() rejects before validation runs', async () => {
    const anonymous = await setup()
    const denied = await rpcErrorOf(anonymous.api.authedThenValidated.query({ n: 'not a number' as never }))
    expect(denied.code).toBe('UNAUTHORIZED')
    expect(denied.message).toBe('sign in first')

    const signedIn = await setup('ada')
    expect((await rpcErrorOf(signedIn.api.authedThenValidated.query({ n: 'nope' as never }))).code).toBe('BAD_REQUEST')
    expect(await signedIn.api.authedThenValidated.query({ n: 3 })).toBe('ada:3')
  })

  it('an input the serializer cannot revive is BAD_REQUEST and the resolver never runs', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    const before = runsOf('zod.order')
    // Meta says `name` is a bigint, but its JSON is not a number.
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'zod.order', input: { name: 'zzz', items: [] }, meta: { values: { name: ['bigint'] }, v: 1 } })
    const reply = await peer.next((m) => m.id === 1)
    expect(reply).toMatchObject({ type: 'error', id: 1, code: 'BAD_REQUEST' })
    expect(runsOf('zod.order')).toBe(before)

    peer.send({ type: 'call', id: 2, method: 'mutation', path: 'zod.order', input: { name: 'ok', items: [] } })
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2, data: { accepted: 0 } })
  })
  it('serializer metadata aimed at the prototype is BAD_REQUEST and pollutes nothing', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    const before = runsOf('zod.order')
    const metas = [
      { values: { '__proto__.polluted': ['undefined'] }, v: 1 },
      { values: { 'constructor.prototype.polluted': ['undefined'] }, v: 1 },
      { referentialEqualities: { items: ['__proto__.polluted'] }, v: 1 },
      { referentialEqualities: { items: ['name.constructor.prototype.polluted'] }, v: 1 },
    ]
    for (const [i, meta] of metas.entries()) {
      peer.send({ type: 'call', id: i + 1, method: 'mutation', path: 'zod.order', input: { name: 'ok', items: [] }, meta })
    }
    for (const [i] of metas.entries()) {
      expect(await peer.next((m) => m.id === i + 1)).toMatchObject({ type: 'error', id: i + 1, code: 'BAD_REQUEST' })
    }
    expect(runsOf('zod.order')).toBe(before)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false)
  })
})

describe('procedures without an input schema', () => {
  it('receive undefined, in middleware and resolver, whatever a raw client sends', async () => {
    const { url } = await setup()
    noInputSaw.middleware.length = 0
    noInputSaw.resolver.length = 0
    const peer = await readyPeer(url)
    peer.send('{"type":"call","id":1,"method":"query","path":"noInput","input":{"evil":true,"__proto__":{"polluted":1}}}')
    peer.send({ type: 'call', id: 2, method: 'query', path: 'noInput', input: '2020-01-01T00:00:00.000Z', meta: { values: ['Date'], v: 1 } })
    peer.send({ type: 'call', id: 3, method: 'query', path: 'noInput', input: [1, 2, 3] })
    peer.send({ type: 'call', id: 4, method: 'query', path: 'noInput', input: null })
    for (const id of [1, 2, 3, 4]) expect(await peer.next((m) => m.id === id)).toEqual({ type: 'result', id, data: 'ran' })
    expect(noInputSaw.middleware).toEqual([undefined, undefined, undefined, undefined])
    expect(noInputSaw.resolver).toEqual([undefined, undefined, undefined, undefined])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('receive undefined when the typed client is made to send something', async () => {
    const { api } = await setup()
    noInputSaw.resolver.length = 0
    expect(await api.noInput.query({ sneaky: new Date(0) } as never)).toBe('ran')
    expect(await api.noInput.query()).toBe('ran')
    expect(noInputSaw.resolver).toEqual([undefined, undefined])
  })
})

describe('output validation', () => {
  it.each([
    { lib: 'zod', path: 'zod.badOutput', type: 'query' as const, paths: [['id'], ['secretField']] },
    { lib: 'valibot', path: 'valibot.badOutput', type: 'mutation' as const, paths: [['id']] },
  ])('a failed $lib output schema is INTERNAL for the caller; onError sees an OutputValidationError', async ({ path, type, paths }) => {
    const { api, errors } = await setup()
    const before = runsOf(path)
    const promise = path === 'zod.badOutput' ? api.zod.badOutput.query() : api.valibot.badOutput.mutate()
    const error = await rpcErrorOf(promise)
    expect(error.code).toBe('INTERNAL')
    // The issues stay on the server.
    expect(error.data).toBeUndefined()
    expect(error.message).not.toMatch(/secretField|Expected|expected/)
    expect(runsOf(path)).toBe(before + 1)

    expect(errors).toHaveLength(1)
    const reported = errors[0]!
    expect(reported.path).toBe(path)
    expect(reported.type).toBe(type)
    expect(reported.error).toBeInstanceOf(RpcError)
    expect(reported.error.code).toBe('INTERNAL')
    const cause = reported.error.cause
    expect(cause).toBeInstanceOf(OutputValidationError)
    expect((cause as OutputValidationError).issues.map((i) => i.path)).toEqual(paths)

    // The connection lives.
    expect(await api.zod.goodOutput.query()).toEqual({ id: 'a' })
  })

  it('an output schema that passes lets the value through; a transforming one maps it for the caller', async () => {
    const { api, errors } = await setup()
    expect(await api.zod.goodOutput.query()).toEqual({ id: 'a' })

    const mapped = await api.zod.mappedOutput.query()
    expectTypeOf(mapped).toEqualTypeOf<{ iso: string; year: number }>()
    expectTypeOf<inferRouterOutputs<R>['zod']['mappedOutput']>().toEqualTypeOf<{ iso: string; year: number }>()
    expect(mapped).toEqual({ iso: '2030-01-01T00:00:00.000Z', year: 2030 })

    const tagged = await api.valibot.mappedOutput.query()
    expectTypeOf(tagged).toEqualTypeOf<string>()
    expect(tagged).toBe('#42')
    expect(errors).toEqual([])
  })
})
