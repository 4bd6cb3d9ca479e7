import { callProcedure } from './call'
import { RpcError } from './errors'
import type { Procedure, ProcedureTypes } from './procedure'
import { getProcedure, type AnyRouter, type Router, type RouterRecord } from './router'
import { isResync, isTracked } from './tracked'
import type { inferRouterContext } from './inference'
import { validate, type AnySchema } from './schema'
import type { MaybePromise } from './types'

/** Per-call options of a server-side caller. */
export interface CallerOptions {
  /** Aborts the resolver's `signal`; the call rejects with `CANCELLED`. */
  signal?: AbortSignal
}

type CallerArgs<TInput> = undefined extends TInput
  ? [input?: TInput, options?: CallerOptions]
  : [input: TInput, options?: CallerOptions]

type CallerProcedure<P> = P extends Procedure<'subscription', infer T extends ProcedureTypes>
  ? (...args: CallerArgs<T['input']>) => Promise<AsyncIterable<T['output']>>
  : P extends Procedure<any, infer T extends ProcedureTypes>
    ? (...args: CallerArgs<T['input']>) => Promise<T['output']>
    : never

/** The shape of a caller: every procedure of the router as a plain async function. */
export type CallerRecord<TRecord> = {
  [K in keyof TRecord]: TRecord[K] extends Procedure<any, any>
    ? CallerProcedure<TRecord[K]>
    : TRecord[K] extends Router<any, infer R>
      ? CallerRecord<R>
      : TRecord[K] extends RouterRecord
        ? CallerRecord<TRecord[K]>
        : never
}

/** What {@link createCaller} returns for a router. */
export type RouterCaller<TRouter extends AnyRouter> = CallerRecord<TRouter['_def']['record']>

/**
 * Calls a router's procedures in process, with no socket and no serializer:
 * for server-side rendering, jobs, and unit tests of your procedures.
 * Middleware, input and output validation run exactly as for a remote call;
 * errors are thrown as `RpcError` and are *not* masked (the caller is
 * trusted). `ctx` is the context `createContext` would have produced, or a
 * function evaluated on every call.
 *
 * @example
 * ```ts
 * const caller = createCaller(appRouter, { user: { id: 'u1' } })
 * const post = await caller.post.add({ title: 'Hi' })
 * for await (const tick of await caller.ticks({ every: 10 })) break
 * ```
 */
export function createCaller<TRouter extends AnyRouter>(
  router: TRouter,
  ctx: inferRouterContext<TRouter> | (() => MaybePromise<inferRouterContext<TRouter>>),
): RouterCaller<TRouter> {
  const resolveCtx = async (): Promise<object> => (typeof ctx === 'function' ? await (ctx as () => MaybePromise<object>)() : ctx)
  return pathProxy([], async (path, input, options) => {
    const procedure = getProcedure(router, path)
    if (procedure === undefined) throw new RpcError('NOT_FOUND', `no procedure at "${path}"`)
    const signal = options?.signal ?? new AbortController().signal
    try {
      const result = await callProcedure({ procedure, path, ctx: await resolveCtx(), input, signal })
      if (procedure._def.type !== 'subscription') return result
      return unwrapEvents(result as AsyncIterable<unknown>, procedure._def.output)
    } catch (error) {
      throw RpcError.from(error)
    }
  }) as RouterCaller<TRouter>
}

type Invoke = (path: string, input: unknown, options: CallerOptions | undefined) => Promise<unknown>

function pathProxy(path: readonly string[], invoke: Invoke): unknown {
  return new Proxy(function () {}, {
    get(_target, key) {
      if (typeof key !== 'string' || key === 'then') return undefined
      return pathProxy([...path, key], invoke)
    },
    apply(_target, _this, args: unknown[]) {
      return invoke(path.join('.'), args[0], args[1] as CallerOptions | undefined)
    },
  })
}

/** What a remote subscriber would receive: the data inside `tracked(...)`, validated like on the wire. */
async function* unwrapEvents(iterable: AsyncIterable<unknown>, output: AnySchema | undefined): AsyncGenerator<unknown, void, undefined> {
  for await (const event of iterable) {
    if (isResync(event)) {
      yield event
      continue
    }
    const data = isTracked(event) ? event.data : event
    yield output === undefined ? data : await validate(output, data, 'output')
  }
}
