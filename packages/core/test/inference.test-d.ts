import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import * as v from 'valibot'
import {
  assertNever,
  initRpc,
  RpcError,
  type inferProcedureInput,
  type inferProcedureOutput,
  type inferRouterContext,
  type inferRouterInputs,
  type inferRouterOutputs,
  type RpcErrorCode,
} from '@wirecall/core'

type User = { id: string; admin: boolean }
type Ctx = { user?: User; requestId: string }

const rpc = initRpc.context<Ctx>().create()

const authed = rpc.procedure.use(({ ctx, next }) => next({ ctx: { user: ctx.user! } }))

// Schemas whose input and output differ.
const zTransform = z.object({ name: z.string(), tags: z.string().transform((s) => s.split(',')) })
const zDefault = z.object({ limit: z.number().default(10) })
const zCoerce = z.object({ at: z.coerce.date() })
const vTransform = v.object({ name: v.string(), tags: v.pipe(v.string(), v.transform((s) => s.split(','))) })
const vDefault = v.object({ limit: v.optional(v.number(), 10) })
const vCoerce = v.object({ at: v.pipe(v.string(), v.toDate()) })

const rich = rpc.router({
  date: rpc.procedure.query(() => new Date()),
  map: rpc.procedure.query(async () => new Map<string, bigint>([['a', 1n]])),
  set: rpc.procedure.query(() => new Set([new Date()])),
  big: rpc.procedure.mutation(() => 10n),
  nested: rpc.procedure.query(() => ({ when: new Date(), counts: new Map<string, number>(), ids: new Set<bigint>() })),
})

const appRouter = rpc.router({
  health: rpc.procedure.query(() => 'ok' as const),
  zod: {
    transform: rpc.procedure.input(zTransform).query(({ input }) => {
      expectTypeOf(input).toEqualTypeOf<{ name: string; tags: string[] }>()
      return input.tags.length
    }),
    withDefault: rpc.procedure.input(zDefault).query(({ input }) => {
      expectTypeOf(input).toEqualTypeOf<{ limit: number }>()
      return input.limit
    }),
    coerce: rpc.procedure.input(zCoerce).mutation(({ input }) => {
      expectTypeOf(input.at).toEqualTypeOf<Date>()
      return input.at
    }),
  },
  valibot: rpc.router({
    transform: rpc.procedure.input(vTransform).query(({ input }) => {
      expectTypeOf(input).toEqualTypeOf<{ name: string; tags: string[] }>()
      return input.tags
    }),
    withDefault: rpc.procedure.input(vDefault).query(({ input }) => {
      expectTypeOf(input).toEqualTypeOf<{ limit: number }>()
      return { limit: input.limit }
    }),
    coerce: rpc.procedure.input(vCoerce).mutation(({ input }) => {
      expectTypeOf(input.at).toEqualTypeOf<Date>()
      return input.at.getTime()
    }),
  }),
  deep: { deeper: rpc.router({ deepest: { leaf: rpc.procedure.query(() => ({ leaf: true })) } }) },
  rich,
  out: {
    zod: rpc.procedure.output(z.object({ at: z.string().transform((s) => new Date(s)) })).query(() => ({ at: '2020-01-01' })),
    valibot: rpc.procedure.output(v.pipe(v.string(), v.transform((s) => s.length))).query(async () => 'abc'),
  },
})
type AppRouter = typeof appRouter
type Inputs = inferRouterInputs<AppRouter>
type Outputs = inferRouterOutputs<AppRouter>

describe('inferRouterInputs / inferRouterOutputs', () => {
  it('walks plain nested objects and nested rpc.router()', () => {
    expectTypeOf<keyof Inputs>().toEqualTypeOf<'health' | 'zod' | 'valibot' | 'deep' | 'rich' | 'out'>()
    expectTypeOf<keyof Outputs['valibot']>().toEqualTypeOf<'transform' | 'withDefault' | 'coerce'>()
    expectTypeOf<Outputs['deep']['deeper']['deepest']['leaf']>().toEqualTypeOf<{ leaf: boolean }>()
    expectTypeOf<Inputs['deep']['deeper']['deepest']['leaf']>().toEqualTypeOf<undefined | void>()
    expectTypeOf<Outputs['health']>().toEqualTypeOf<'ok'>()
  })

  it('gives the client the schema input and the resolver the schema output (zod)', () => {
    expectTypeOf<Inputs['zod']['transform']>().toEqualTypeOf<{ name: string; tags: string }>()
    expectTypeOf<Outputs['zod']['transform']>().toEqualTypeOf<number>()
    expectTypeOf<Inputs['zod']['withDefault']>().toEqualTypeOf<{ limit?: number | undefined }>()
    expectTypeOf<Outputs['zod']['withDefault']>().toEqualTypeOf<number>()
    expectTypeOf<Inputs['zod']['coerce']>().toEqualTypeOf<{ at: unknown }>()
    expectTypeOf<Outputs['zod']['coerce']>().toEqualTypeOf<Date>()
  })

  it('gives the client the schema input and the resolver the schema output (valibot)', () => {
    expectTypeOf<Inputs['valibot']['transform']>().toEqualTypeOf<{ name: string; tags: string }>()
    expectTypeOf<Outputs['valibot']['transform']>().toEqualTypeOf<string[]>()
    expectTypeOf<Inputs['valibot']['withDefault']>().toEqualTypeOf<{ limit?: number | undefined }>()
    expectTypeOf<Outputs['valibot']['withDefault']>().toEqualTypeOf<{ limit: number }>()
    expectTypeOf<Inputs['valibot']['coerce']>().toEqualTypeOf<{ at: string }>()
    expectTypeOf<Outputs['valibot']['coerce']>().toEqualTypeOf<number>()
  })

  it('matches inferProcedureInput / inferProcedureOutput on one procedure', () => {
    type P = AppRouter['_def']['record']['zod']['transform']
    expectTypeOf<inferProcedureInput<P>>().toEqualTypeOf<Inputs['zod']['transform']>()
    expectTypeOf<inferProcedureOutput<P>>().toEqualTypeOf<Outputs['zod']['transform']>()
  })

  it('does not leak any into rich outputs', () => {
    expectTypeOf<Outputs>().not.toBeAny()
    expectTypeOf<Outputs['rich']>().not.toBeAny()
    expectTypeOf<Outputs['rich']['date']>().not.toBeAny()
    expectTypeOf<Outputs['rich']['date']>().toEqualTypeOf<Date>()
    expectTypeOf<Outputs['rich']['map']>().not.toBeAny()
    expectTypeOf<Outputs['rich']['map']>().toEqualTypeOf<Map<string, bigint>>()
    expectTypeOf<Outputs['rich']['set']>().not.toBeAny()
    expectTypeOf<Outputs['rich']['set']>().toEqualTypeOf<Set<Date>>()
    expectTypeOf<Outputs['rich']['big']>().not.toBeAny()
    expectTypeOf<Outputs['rich']['big']>().toEqualTypeOf<bigint>()
    expectTypeOf<Outputs['rich']['nested']['when']>().not.toBeAny()
    expectTypeOf<Outputs['rich']['nested']>().toEqualTypeOf<{ when: Date; counts: Map<string, number>; ids: Set<bigint> }>()
    expectTypeOf<Outputs['zod']['coerce']>().not.toBeAny()
    expectTypeOf<Outputs['out']['zod']['at']>().not.toBeAny()
    expectTypeOf<Inputs['rich']['date']>().not.toBeAny()
  })

  it('types a procedure without .input() as taking undefined | void', () => {
    expectTypeOf<Inputs['health']>().toEqualTypeOf<undefined | void>()
    expectTypeOf<Inputs['rich']['big']>().toEqualTypeOf<undefined | void>()
    rpc.procedure.query(({ input }) => {
      expectTypeOf(input).toEqualTypeOf<undefined>()
    })
  })
})

describe('.output(schema)', () => {
  it('sets the client output to the schema output', () => {
    expectTypeOf<Outputs['out']['zod']>().toEqualTypeOf<{ at: Date }>()
    expectTypeOf<Outputs['out']['valibot']>().toEqualTypeOf<number>()
  })

  it('makes the resolver return the schema input (sync and async)', () => {
    rpc.procedure.output(z.object({ n: z.number() })).query(() => ({ n: 1 }))
    rpc.procedure.output(z.object({ n: z.number() })).mutation(async () => ({ n: 1 }))
    rpc.procedure.output(v.object({ n: v.number() })).query(async () => ({ n: 1 }))
    // The schema's input, not its output, is what the resolver hands over.
    rpc.procedure.output(z.string().transform((s) => s.length)).query(() => 'abc')
  })

  it('rejects a resolver returning the wrong type', () => {
    // @ts-expect-error n must be a number
    rpc.procedure.output(z.object({ n: z.number() })).query(() => ({ n: 'one' }))
    // @ts-expect-error async: n must be a number
    rpc.procedure.output(z.object({ n: z.number() })).mutation(async () => ({ n: 'one' }))
    // @ts-expect-error a string is not the object the schema accepts
    rpc.procedure.output(v.object({ n: v.number() })).query(() => 'nope')
    // @ts-expect-error the resolver hands over the schema *input* (string), not its output (number)
    rpc.procedure.output(z.string().transform((s) => s.length)).query(() => 3)
    // @ts-expect-error a required key is missing
    rpc.procedure.output(z.object({ n: z.number(), s: z.string() })).query(() => ({ n: 1 }))
  })
})

describe('middleware', () => {
  it('narrows ctx after next({ ctx })', () => {
    rpc.procedure.query(({ ctx }) => {
      expectTypeOf(ctx.user).toEqualTypeOf<User | undefined>()
    })
    authed.query(({ ctx }) => {
      expectTypeOf(ctx.user).toEqualTypeOf<User>()
      expectTypeOf(ctx.requestId).toEqualTypeOf<string>()
      expectTypeOf(ctx).toEqualTypeOf<{ user: User; requestId: string }>()
    })
  })

  it('accumulates extensions across several .use()', () => {
    authed
      .use(({ next }) => next({ ctx: { db: { find: (id: string) => id } } }))
      .use(async ({ ctx, next }) => {
        expectTypeOf(ctx.user).toEqualTypeOf<User>()
        expectTypeOf(ctx.db.find).toEqualTypeOf<(id: string) => string>()
        return next({ ctx: { startedAt: 0 } })
      })
      .use(({ next }) => next())
      .input(z.object({ id: z.string() }))
      .mutation(({ ctx, input }) => {
        expectTypeOf(ctx).toEqualTypeOf<{
          user: User
          requestId: string
          db: { find: (id: string) => string }
          startedAt: number
        }>()
        return ctx.db.find(input.id)
      })
  })

  it('lets a later middleware replace a key with a new type', () => {
    rpc.procedure
      .use(({ next }) => next({ ctx: { requestId: 42 } }))
      .query(({ ctx }) => {
        expectTypeOf(ctx.requestId).toEqualTypeOf<number>()
      })
  })

  it('hides keys that later middleware sets from earlier middleware', () => {
    rpc.procedure
      .use(({ ctx, next }) => {
        // @ts-expect-error `tenant` is only added by the next middleware
        void ctx.tenant
        expectTypeOf(ctx).toEqualTypeOf<Ctx>()
        return next()
      })
      .use(({ next }) => next({ ctx: { tenant: 't1' } }))
      .query(({ ctx }) => {
        expectTypeOf(ctx.tenant).toEqualTypeOf<string>()
      })
  })

  it('sees the middleware options', () => {
    rpc.procedure.use(({ ctx, input, path, type, signal, next }) => {
      expectTypeOf(ctx).toEqualTypeOf<Ctx>()
      expectTypeOf(input).toBeUnknown()
      expectTypeOf(path).toEqualTypeOf<string>()
      expectTypeOf(type).toEqualTypeOf<'query' | 'mutation' | 'subscription'>()
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>()
      return next()
    })
  })

  it('must return what next() returns', () => {
    // @ts-expect-error a middleware has to call next() and return its result
    rpc.procedure.use(() => 'done')
  })
})

describe('resolver options', () => {
  it('receives { input, ctx, signal, path, idempotencyKey, peer }', () => {
    rpc.procedure.input(z.object({ q: z.string() })).query((opts) => {
      expectTypeOf(opts.input).toEqualTypeOf<{ q: string }>()
      expectTypeOf(opts.ctx).toEqualTypeOf<Ctx>()
      expectTypeOf(opts.signal).toEqualTypeOf<AbortSignal>()
      expectTypeOf(opts.path).toEqualTypeOf<string>()
      expectTypeOf(opts.idempotencyKey).toEqualTypeOf<string | undefined>()
      // Without `initRpc.peer<…>()` there is no client procedure to call.
      expectTypeOf(opts.peer).toEqualTypeOf<{}>()
      expectTypeOf<keyof typeof opts>().toEqualTypeOf<'input' | 'ctx' | 'signal' | 'path' | 'idempotencyKey' | 'peer'>()
    })
    rpc.procedure.mutation(({ signal, path }) => {
      expectTypeOf(signal).toEqualTypeOf<AbortSignal>()
      expectTypeOf(path).toBeString()
    })
  })

  it('rejects using input the schema does not have', () => {
    rpc.procedure.input(z.object({ q: z.string() })).query(({ input }) => {
      // @ts-expect-error no such key on the validated input
      return input.nope
    })
  })
})

describe('RpcError codes', () => {
  it('is a string-literal union', () => {
    expectTypeOf<RpcError['code']>().toEqualTypeOf<RpcErrorCode>()
    expectTypeOf<RpcErrorCode>().not.toEqualTypeOf<string>()
    expectTypeOf<'BAD_REQUEST'>().toExtend<RpcErrorCode>()
    expectTypeOf<'CONNECTION_LOST'>().toExtend<RpcErrorCode>()
    expectTypeOf<'NOT_A_CODE'>().not.toExtend<RpcErrorCode>()
    // @ts-expect-error unknown code
    new RpcError('NOT_A_CODE')
  })

  it('supports an exhaustive switch with assertNever', () => {
    function describeCode(err: RpcError): string {
      switch (err.code) {
        case 'BAD_REQUEST':
        case 'UNAUTHORIZED':
        case 'FORBIDDEN':
        case 'NOT_FOUND':
        case 'METHOD_NOT_SUPPORTED':
        case 'TIMEOUT':
        case 'CONFLICT':
        case 'PRECONDITION_FAILED':
        case 'PAYLOAD_TOO_LARGE':
        case 'UNPROCESSABLE_CONTENT':
        case 'TOO_MANY_REQUESTS':
        case 'CANCELLED':
        case 'INTERNAL':
        case 'NOT_IMPLEMENTED':
        case 'OVERLOADED':
        case 'CONNECTION_LOST':
          return err.code
        default:
          return assertNever(err.code)
      }
    }
    expectTypeOf(describeCode).returns.toBeString()
  })

  it('fails to compile when a code is not handled', () => {
    function partial(err: RpcError): string {
      switch (err.code) {
        case 'BAD_REQUEST':
        case 'UNAUTHORIZED':
          return 'client'
        default:
          // @ts-expect-error the remaining codes are not `never`
          return assertNever(err.code)
      }
    }
    expectTypeOf(partial).returns.toBeString()
  })
})

describe('inferRouterContext', () => {
  it('is the context the router was built with', () => {
    expectTypeOf<inferRouterContext<AppRouter>>().toEqualTypeOf<Ctx>()
    expectTypeOf<inferRouterContext<typeof rich>>().toEqualTypeOf<Ctx>()
    const bare = initRpc.create().router({ a: initRpc.create().procedure.query(() => 1) })
    expectTypeOf<inferRouterContext<typeof bare>>().toEqualTypeOf<{}>()
  })
})
