import { ProcedureBuilder, type InitialBuilderDef, type MiddlewareFunction } from './procedure'
import { createRouter, type ReservedKeyCheck, type Router, type RouterRecordFor } from './router'

/** What `initRpc...create()` returns: the two builders bound to one context type. */
export interface RpcInstance<TCtx extends object> {
  /** Defines a router from procedures, nested objects and other routers. */
  router<TRecord extends RouterRecordFor<TCtx>>(record: TRecord & ReservedKeyCheck<TRecord>): Router<TCtx, TRecord>
  /** The base procedure builder: add `.use()`, `.input()`, then `.query()` etc. */
  procedure: ProcedureBuilder<InitialBuilderDef<TCtx>>
  /**
   * Defines a middleware once, typed against this context, to share with
   * `.use()` across builders.
   *
   * @example
   * ```ts
   * const timed = rpc.middleware(async ({ path, next }) => {
   *   const started = performance.now()
   *   try { return await next() } finally { metrics.observe(path, performance.now() - started) }
   * })
   * const api = rpc.procedure.use(timed)
   * ```
   */
  middleware<TExtension extends object = {}>(fn: MiddlewareFunction<TCtx, TExtension>): MiddlewareFunction<TCtx, TExtension>
}

/** Options for `create()`. Reserved for later settings; none are required. */
export interface RpcInstanceOptions {}

interface RpcInit<TCtx extends object> {
  /** Sets the context type that `createContext` produces for every connection. */
  context<TNewCtx extends object>(): RpcInit<TNewCtx>
  /** Creates the builders. */
  create(options?: RpcInstanceOptions): RpcInstance<TCtx>
}

function makeInit<TCtx extends object>(): RpcInit<TCtx> {
  return {
    context: <TNewCtx extends object>() => makeInit<TNewCtx>(),
    create: () => ({
      router: <TRecord extends RouterRecordFor<TCtx>>(record: TRecord) => createRouter<TCtx, TRecord>(record),
      procedure: new ProcedureBuilder<InitialBuilderDef<TCtx>>(),
      middleware: (fn) => {
        if (typeof fn !== 'function') throw new TypeError('middleware(): expected a function')
        return fn
      },
    }),
  }
}

/**
 * Entry point for defining an API.
 *
 * @example
 * ```ts
 * const rpc = initRpc.context<{ user?: User }>().create()
 * export const appRouter = rpc.router({
 *   greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) => `hello ${input.name}`),
 * })
 * export type AppRouter = typeof appRouter
 * ```
 */
export const initRpc: RpcInit<{}> = makeInit<{}>()
