import { ProcedureBuilder, type InitialBuilderDef } from './procedure-builder'
import type { AnyClientRouter, inferPeer } from './client-router'
import type { MiddlewareFunction } from './procedure'
import {
  createRouter,
  type AnyRouter,
  type ContextMismatch,
  type NeededContext,
  type Router,
  type RouterRecord,
  type RouterRecordArg,
} from './router'
import type { Simplify } from './types'

/** The records of several routers, as one. */
type MergedRecord<TRouters extends readonly AnyRouter[]> = TRouters extends readonly [
  infer THead extends AnyRouter,
  ...infer TRest extends readonly AnyRouter[],
]
  ? THead['_def']['record'] & MergedRecord<TRest>
  : {}

/** The routers given to `mergeRouters`, each that needs more than `TCtx` replaced by the reason (see `CheckedRouterRecord`). */
type CheckedRouters<TRouters extends readonly AnyRouter[], TCtx> = {
  [I in keyof TRouters]: [ContextMismatch<TCtx, NeededContext<TRouters[I]>>] extends [never]
    ? TRouters[I]
    : ContextMismatch<TCtx, NeededContext<TRouters[I]>>
}

/** The parameters of `mergeRouters`: the routers as given when they all fit, else with the reasons. */
type MergeRoutersArgs<TRouters extends readonly AnyRouter[], TCtx> = TRouters extends CheckedRouters<TRouters, TCtx>
  ? TRouters
  : NoInfer<CheckedRouters<TRouters, TCtx>>

/** What `initRpc...create()` returns: the two builders bound to one context type. */
export interface RpcInstance<TCtx extends object, TMeta extends object = object, TPeer extends object = {}> {
  /** Defines a router from procedures, nested objects and other routers. */
  router<TRecord extends RouterRecord>(record: RouterRecordArg<TRecord, TCtx>): Router<TCtx, TRecord>
  /**
   * Puts the top-level entries of several routers side by side in one, for
   * APIs split across files. A key defined by two of them throws at
   * definition time (there is no deep merge: nest routers instead).
   *
   * @example
   * ```ts
   * export const appRouter = rpc.mergeRouters(postRouter, userRouter, rpc.router({ health }))
   * ```
   */
  mergeRouters<TRouters extends readonly AnyRouter[]>(...routers: MergeRoutersArgs<TRouters, TCtx>): Router<TCtx, Simplify<MergedRecord<TRouters>>>
  /** The base procedure builder: add `.use()`, `.input()`, then `.query()` etc. */
  procedure: ProcedureBuilder<InitialBuilderDef<TCtx, TMeta, TPeer>>
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
  middleware<TExtension extends object = {}>(
    fn: MiddlewareFunction<TCtx, TExtension, TMeta>,
  ): MiddlewareFunction<TCtx, TExtension, TMeta>
}

/** Options for `create()`. Reserved for later settings; none are required. */
export interface RpcInstanceOptions {}

interface RpcInit<TCtx extends object, TMeta extends object, TPeer extends object = {}> {
  /** Sets the context type that `createContext` produces for every connection. */
  context<TNewCtx extends object>(): RpcInit<TNewCtx, TMeta, TPeer>
  /** Sets the type of what procedures may declare with `.meta()` for their middleware. */
  meta<TNewMeta extends object>(): RpcInit<TCtx, TNewMeta, TPeer>
  /**
   * Sets the client router the server may call: every resolver then gets a
   * typed `peer` (`peer.ui.confirm.call(input)`). Types only; see
   * `docs/bidirectional.md`.
   *
   * @example
   * ```ts
   * const rpc = initRpc.context<Ctx>().peer<typeof clientRouter>().create()
   * ```
   */
  peer<TClientRouter extends AnyClientRouter>(): RpcInit<TCtx, TMeta, inferPeer<TClientRouter>>
  /** Creates the builders. */
  create(options?: RpcInstanceOptions): RpcInstance<TCtx, TMeta, TPeer>
}

function makeInit<TCtx extends object, TMeta extends object, TPeer extends object = {}>(): RpcInit<TCtx, TMeta, TPeer> {
  return {
    context: <TNewCtx extends object>() => makeInit<TNewCtx, TMeta, TPeer>(),
    meta: <TNewMeta extends object>() => makeInit<TCtx, TNewMeta, TPeer>(),
    peer: <TClientRouter extends AnyClientRouter>() => makeInit<TCtx, TMeta, inferPeer<TClientRouter>>(),
    create: () => ({
      router: <TRecord extends RouterRecord>(record: RouterRecordArg<TRecord, TCtx>) => createRouter<TCtx, TRecord>(record as TRecord),
      procedure: new ProcedureBuilder<InitialBuilderDef<TCtx, TMeta, TPeer>>(),
      // The parameter type checks contexts at compile time only; at run time these are routers.
      mergeRouters: (...args: readonly unknown[]) => {
        const routers = args as readonly AnyRouter[]
        const record: Record<string, unknown> = {}
        for (const router of routers) {
          for (const key of Object.keys(router._def.record)) {
            if (Object.prototype.hasOwnProperty.call(record, key)) throw new TypeError(`mergeRouters(): "${key}" is defined twice`)
            record[key] = router._def.record[key]
          }
        }
        return createRouter(record as RouterRecord) as never
      },
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
export const initRpc: RpcInit<{}, object> = /* @__PURE__ */ makeInit<{}, object>()
