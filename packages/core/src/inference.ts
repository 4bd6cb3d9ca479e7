import type { AnyProcedure, Procedure, ProcedureType, ProcedureTypes } from './procedure'
import type { AnyRouter, Router, RouterRecord } from './router'

/** What a caller sends to a procedure. */
export type inferProcedureInput<P> = P extends Procedure<any, infer T extends ProcedureTypes> ? T['input'] : never
/** What a caller gets back from a procedure (for subscriptions: each event). */
export type inferProcedureOutput<P> = P extends Procedure<any, infer T extends ProcedureTypes> ? T['output'] : never

/**
 * Walks a router record, keeping one slot of each procedure's types. The
 * slots are read with indexed accesses, as the client's proxy type does:
 * an entry is a procedure when its `~kind` is one of the procedure kinds,
 * and its types are its `~types` (cheaper than matching the entry against
 * `Procedure<any, infer T>` or `AnyProcedure`, which copies the whole
 * procedure type). The `& {}` makes the result print as the plain nested
 * object (`{ post: { add: { title: string } } }`) instead of by this
 * alias's name: the intersection collapses to the mapped type, which has no
 * name of its own.
 */
type inferRecord<TRecord extends RouterRecord, TKey extends 'input' | 'output'> = {
  [P in keyof TRecord]: inferEntry<TRecord[P], TKey>
} & {}

/** One entry of {@link inferRecord}: a procedure's slot, or a nested record's. */
type inferEntry<TEntry extends AnyProcedure | RouterRecord | AnyRouter, TKey extends 'input' | 'output'> = [TEntry['~kind']] extends [ProcedureType | undefined]
  ? NonNullable<TEntry['~types']>[TKey]
  : [TEntry] extends [Router<any, infer R extends RouterRecord>]
    ? inferRecord<R, TKey>
    : [TEntry] extends [RouterRecord]
      ? inferRecord<TEntry, TKey>
      : never

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
