import { type RpcError, errorFields, jsonSerializer } from '@wirecall/core'

/**
 * An idempotent mutation's outcome as stored and replayed: the kind of
 * message and its fields after `id`, already JSON (`,"data":…`).
 */
export interface IdempotencyOutcome {
  kind: 'result' | 'error'
  fields: string
}

/** What {@link IdempotencyStore.claim} is asked. */
export interface IdempotencyClaimRequest {
  path: string
  key: string
  /** Identifies the input: the same key with another input is a `CONFLICT`. */
  fingerprint: string
  /** How long a finished outcome is kept (the server's `idempotency.ttlMs`). */
  ttlMs: number
  /** Aborted when every caller waiting on this node cancelled: stop waiting. */
  signal: AbortSignal
}

/** What {@link IdempotencyStore.claim} decided. */
export type IdempotencyClaim =
  /** This node runs the mutation, then records its outcome with `finish` (or `abandon`s it when every caller cancelled and it failed, so the key may be used again). */
  | { kind: 'run'; finish(outcome: IdempotencyOutcome): Promise<void>; abandon(): Promise<void> }
  /** Another run's outcome (replayed), or a refusal (`CONFLICT`: another input, or a run whose node died, so its outcome is unknown). */
  | { kind: 'outcome'; outcome: IdempotencyOutcome }

/**
 * Where idempotent mutations are recorded beyond this process, so that a
 * retry on another node joins the first run instead of running again:
 * `createRpcServer({ idempotency: { store } })`, with `redisIdempotencyStore`
 * from `@wirecall/redis`. The in-process cache still comes first: callers
 * on one node share one claim.
 */
export interface IdempotencyStore {
  /** Claims `path` + `key` for this node, or resolves with the outcome of the run that has it (waiting while it runs elsewhere). Never rejects: a store failure is an outcome (an `OVERLOADED` error). */
  claim(request: IdempotencyClaimRequest): Promise<IdempotencyClaim>
}

/** An error outcome with no data, as a store refusal or failure is sent. */
export function errorOutcome(error: RpcError): IdempotencyOutcome {
  return { kind: 'error', fields: errorFields(jsonSerializer, error.code, error.message, undefined) }
}
