import type { AnyProcedure, ProcedureType, ProcedureTypes } from './procedure'
import type { AnyRouter, Router, RouterRecord } from './router'

/**
 * One procedure of a client API shape ({@link inferClientApi}): what
 * crosses the wire and nothing else. The keys start with `$`, which no
 * procedure name can (the router builder refuses them), so a procedure is
 * told from a namespace by its `$kind`.
 */
export interface ClientApiProcedure {
  /** `'query' | 'mutation' | 'subscription'`. */
  readonly $kind: ProcedureType
  /** What a caller sends. */
  readonly $input: unknown
  /** What a caller gets back; for a subscription, each event. */
  readonly $output: unknown
  /** A mutation declared `.idempotent()`: the client sends an idempotency key and may retry it. */
  readonly $idempotent?: true
  /**
   * A subscription that can yield a resync signal. Generated files that
   * import nothing say so with this flag instead of `| ResyncSignal` in
   * `$output`; the client treats the two alike.
   */
  readonly $resync?: true
}

/**
 * A client API shape: nested namespaces whose leaves are
 * {@link ClientApiProcedure}s. `createRpcClient<T>` takes one as well as a
 * router type.
 */
export interface AnyClientApi {
  readonly [key: string]: ClientApiProcedure | AnyClientApi
}

/**
 * The wire-only shape of a router: for every path its kind, input, output
 * (for a subscription, its event) and whether it is idempotent; no context,
 * no middleware, no validator types. `createRpcClient<inferClientApi<AppRouter>>`
 * makes the same client as `createRpcClient<AppRouter>`; `wirecall generate
 * types` writes this shape into a declaration file that needs nothing from
 * the server.
 *
 * @example
 * ```ts
 * export type AppApi = inferClientApi<typeof appRouter>
 * // { greet: { $kind: 'query'; $input: { name: string }; $output: string } }
 * ```
 */
export type inferClientApi<TRouter extends AnyRouter> = ApiRecord<TRouter['_def']['record']>

/** Read through the phantom slots, as the client's proxy type does (see `DecorateEntry` in the client). */
type ApiRecord<TRecord extends RouterRecord> = {
  [K in keyof TRecord]: ApiEntry<TRecord[K]>
} & {}

type ApiEntry<TEntry extends AnyProcedure | RouterRecord | AnyRouter> = [TEntry['~kind']] extends [ProcedureType | undefined]
  ? ApiProcedure<NonNullable<TEntry['~kind']>, NonNullable<TEntry['~types']>>
  : [TEntry] extends [Router<any, infer R extends RouterRecord>]
    ? ApiRecord<R>
    : [TEntry] extends [RouterRecord]
      ? ApiRecord<TEntry>
      : never

type ApiProcedure<TKind extends ProcedureType, T extends ProcedureTypes> = T['idempotent'] extends true
  ? { $kind: TKind; $input: T['input']; $output: T['output']; $idempotent: true }
  : { $kind: TKind; $input: T['input']; $output: T['output'] }
