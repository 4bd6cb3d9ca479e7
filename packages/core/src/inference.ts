import type { AnyProcedure, Procedure, ProcedureTypes } from './procedure'
import type { AnyRouter, Router, RouterRecord } from './router'

/** What a caller sends to a procedure. */
export type inferProcedureInput<P> = P extends Procedure<any, infer T extends ProcedureTypes> ? T['input'] : never
/** What a caller gets back from a procedure (for subscriptions: each event). */
export type inferProcedureOutput<P> = P extends Procedure<any, infer T extends ProcedureTypes> ? T['output'] : never

type inferRecord<TRecord, TKey extends keyof ProcedureTypes> = {
  [P in keyof TRecord]: TRecord[P] extends AnyProcedure
    ? TRecord[P] extends Procedure<any, infer T extends ProcedureTypes>
      ? T[TKey]
      : never
    : TRecord[P] extends Router<any, infer R>
      ? inferRecord<R, TKey>
      : TRecord[P] extends RouterRecord
        ? inferRecord<TRecord[P], TKey>
        : never
}

/**
 * Every procedure's input, as a nested object type.
 *
 * @example
 * ```ts
 * type Inputs = inferRouterInputs<AppRouter>
 * type NewPost = Inputs['post']['add']
 * ```
 */
export type inferRouterInputs<TRouter extends AnyRouter> = inferRecord<TRouter['_def']['record'], 'input'>

/** Every procedure's output (for subscriptions: the event type), as a nested object type. */
export type inferRouterOutputs<TRouter extends AnyRouter> = inferRecord<TRouter['_def']['record'], 'output'>

/** The context type a router's `createContext` must produce. */
export type inferRouterContext<TRouter extends AnyRouter> = TRouter extends Router<infer C, any> ? C : never
