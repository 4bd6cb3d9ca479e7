import type { StreamSchema } from './stream'
import type { AnySchema } from './schema'
import type { MaybePromise } from './types'

/** The three kinds of procedure. */
export type ProcedureType = 'query' | 'mutation' | 'subscription'

/** What every resolver receives. */
export interface ResolverOptions<TCtx, TInput, TPeer = {}> {
  /** The connection's context, as narrowed by the middleware before this resolver. */
  ctx: TCtx
  /** The validated input (`undefined` when the procedure declares none). */
  input: TInput
  /**
   * Aborted when the caller cancels or times out, the connection drops, or
   * the server closes. Pass it on to `fetch`, database drivers and timers.
   * (An idempotent mutation is not aborted by a drop: the client's retry
   * will wait for it.)
   */
  signal: AbortSignal
  /** Dotted path of the procedure, e.g. `"post.add"`. */
  path: string
  /**
   * For a mutation the client called with `{ idempotent: true }` (or its
   * own `idempotencyKey`): the key. The server already runs such a mutation
   * once per key; store the key with the effect (a unique column) to keep
   * that promise across server restarts too.
   */
  idempotencyKey?: string | undefined
  /**
   * The client on the other end of this connection, to call the client
   * procedures it implements: `peer.ui.confirm.call({ text })`. Typed by
   * `initRpc...peer<typeof clientRouter>()`; see `docs/bidirectional.md`.
   */
  peer: TPeer
}

/** What a subscription resolver receives. */
export interface SubscriptionResolverOptions<TCtx, TInput, TPeer = {}> extends ResolverOptions<TCtx, TInput, TPeer> {
  /** The id of the last tracked event the client saw, when it is resuming. */
  lastEventId: string | undefined
}

/** What a middleware returns: the outcome of `next()`, carrying the context it added (types only). */
export interface MiddlewareResult<TCtxExtension> {
  readonly ok: true
  readonly data: unknown
  /** Phantom: never set at runtime. */
  readonly '~ctx'?: TCtxExtension
}

/** Calls the rest of the chain, optionally with more (or narrower) context. */
export interface MiddlewareNext {
  (): Promise<MiddlewareResult<{}>>
  <TExtension extends object>(opts: { ctx: TExtension }): Promise<MiddlewareResult<TExtension>>
}

/** What a middleware receives. */
export interface MiddlewareOptions<TCtx, TMeta = unknown> {
  ctx: TCtx
  /** What the procedure declared with `.meta()`, merged over its builders' (undefined if none did). */
  meta: TMeta | undefined
  /** The input as it stands at this point: raw before `.input()`, validated after it. */
  input: unknown
  path: string
  type: ProcedureType
  signal: AbortSignal
  /**
   * Runs the rest of the chain. `next({ ctx })` merges `ctx` over the
   * current context for everything after this middleware. Throws what the
   * rest of the chain throws.
   */
  next: MiddlewareNext
}

/**
 * A middleware: runs before the resolver, may throw an `RpcError` to stop
 * the call, and may extend or narrow the context through `next({ ctx })`.
 */
export type MiddlewareFunction<TCtx, TExtension extends object, TMeta = unknown> = (
  opts: MiddlewareOptions<TCtx, TMeta>,
) => MaybePromise<MiddlewareResult<TExtension>>

/** One step of a procedure's chain, in declaration order. */
export type ProcedureStep =
  | { kind: 'middleware'; fn: MiddlewareFunction<any, any, any> }
  | { kind: 'input'; schema: AnySchema }

/** Runtime definition of a procedure. */
export interface ProcedureDef {
  readonly type: ProcedureType
  readonly steps: readonly ProcedureStep[]
  readonly output: AnySchema | undefined
  /** What `.meta()` declared; handed to middleware. */
  readonly meta: object | undefined
  /**
   * Declared with `.idempotent()`: `'key'` (clients send an idempotency key
   * by default) or `'required'` (a call without one is refused with
   * `BAD_REQUEST`). Mutations only; `undefined` otherwise.
   */
  readonly idempotent?: IdempotencyDeclaration | undefined
  /** The procedure's input when it is a `stream()` (then its only input), found once when it is built. */
  readonly streamInput?: StreamSchema | undefined
  readonly resolver: (opts: SubscriptionResolverOptions<any, any, any>) => unknown
}

/** What `.idempotent()` declared for a mutation; see {@link ProcedureDef.idempotent}. */
export type IdempotencyDeclaration = 'key' | 'required'

/**
 * Types of a procedure: what a caller sends and gets back, and the context
 * the procedure needs from `createContext` (the context of the `initRpc`
 * it was built from, before any middleware).
 */
export interface ProcedureTypes {
  input: unknown
  output: unknown
  ctx: object
  /** `true` for a mutation declared with `.idempotent()`: the client sends an idempotency key and retries it safely. */
  idempotent?: boolean
}

/**
 * A finished procedure. `TTypes` is a phantom slot read only by type
 * inference; it does not exist at runtime.
 */
export interface Procedure<TType extends ProcedureType, TTypes extends ProcedureTypes> {
  readonly '~wirecall': 'procedure'
  readonly _def: ProcedureDef & { readonly type: TType }
  /** Phantom: never set at runtime. */
  readonly '~types'?: TTypes
  /**
   * Phantom, contravariant in the context the procedure needs: a router
   * whose context lacks something a procedure relies on refuses it at
   * compile time. Never set at runtime.
   */
  readonly '~needs'?: (ctx: TTypes['ctx']) => void
  // The two slots below repeat `~types.ctx` and `_def.type` where a
  // router has slots of the same names (see `Router`), so that the types
  // walking a router record (`router()`'s check, the client proxy) read an
  // entry, whatever it is, with one indexed access. Matching the entry
  // against `Procedure<…>` in a conditional type instead makes the compiler
  // copy the whole procedure type, schemas included, for every entry.
  /** Phantom: the context the procedure needs from `createContext` (see {@link ContextNeeds}). Never set at runtime. */
  readonly '~ctx'?: ContextNeeds<TTypes['ctx']>
  /** Phantom: `_def.type`, as the client's types read it. Never set at runtime. */
  readonly '~kind'?: TType
}

/**
 * What a procedure or router needs from `createContext`, as a type that a
 * router's own context must be assignable *to*: `ContextNeeds<A>` is
 * assignable to `ContextNeeds<B>` when `B` is assignable to `A`. The `in`
 * makes that hold whatever the compiler options (a function type's
 * parameter alone turns bivariant without `strictFunctionTypes`), so that
 * `router()` can check all its entries at once: their `~ctx` slots, as one
 * union, against `ContextNeeds<TCtx>` (see `RouterRecordArg`).
 */
export interface ContextNeeds<in TCtx> {
  readonly needs: (ctx: TCtx) => void
}

export type AnyProcedure = Procedure<ProcedureType, any>
export type QueryProcedure<T extends ProcedureTypes> = Procedure<'query', T>
export type MutationProcedure<T extends ProcedureTypes> = Procedure<'mutation', T>
export type SubscriptionProcedure<T extends ProcedureTypes> = Procedure<'subscription', T>

/** True for a finished procedure. */
export function isProcedure(value: unknown): value is AnyProcedure {
  return typeof value === 'object' && value !== null && (value as { '~wirecall'?: unknown })['~wirecall'] === 'procedure'
}
