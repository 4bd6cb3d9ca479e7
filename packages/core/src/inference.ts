import type { AnyProcedure, Procedure, ProcedureTypes } from './procedure'
import type { AnyRouter, Router, RouterRecord } from './router'

/** What a caller sends to a procedure. */
export type inferProcedureInput<P> = P extends Procedure<any, infer T extends ProcedureTypes> ? T['input'] : never
/** What a caller gets back from a procedure (for subscriptions: each event). */
export type inferProcedureOutput<P> = P extends Procedure<any, infer T extends ProcedureTypes> ? T['output'] : never

/**
 * Walks a router record, keeping one slot of each procedure's types. The
 * slot is read with an indexed access, as the client's proxy type does
 * (cheaper than matching `Procedure<any, infer T>`). The `& {}` makes the
 * result print as the plain nested object (`{ post: { add: { title: string } } }`)
 * instead of by this alias's name: the intersection collapses to the mapped
 * type, which has no name of its own.
 */
type inferRecord<TRecord, TKey extends 'input' | 'output'> = {
  [P in keyof TRecord]: TRecord[P] extends AnyProcedure
    ? TypesOf<TRecord[P]>[TKey]
    : TRecord[P] extends Router<any, infer R>
      ? inferRecord<R, TKey>
      : TRecord[P] extends RouterRecord
        ? inferRecord<TRecord[P], TKey>
        : never
} & {}

type TypesOf<P extends AnyProcedure> = NonNullable<P['~types']>

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
