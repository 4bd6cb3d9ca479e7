import type { AnyRouter, Procedure, ProcedureTypes, ResyncSignal, Router, RouterRecord } from '@wirecall/core'
import type { SubscribeOptions, Subscription, SubscriptionHandlers, SubscriptionIterable } from './subscription'
import type { RpcError } from '@wirecall/core'
import type { CallOptions, ConnectionState, MutationOptions } from './options'
import type { ConnectionEvents } from './client-runtime'

/** Arguments of a call: the input may be left out when the procedure accepts `undefined`. */
type CallArgs<TInput, TOptions> = undefined extends TInput
  ? [input?: TInput, options?: TOptions]
  : [input: TInput, options?: TOptions]

/** A query on the client proxy. */
export interface QueryClient<T extends ProcedureTypes> {
  /** Runs the query; rejects with an `RpcError`. */
  query(...args: CallArgs<T['input'], CallOptions>): Promise<T['output']>
}

/** A mutation on the client proxy. */
export interface MutationClient<T extends ProcedureTypes> {
  /** Runs the mutation; rejects with an `RpcError`. */
  mutate(...args: CallArgs<T['input'], MutationOptions>): Promise<T['output']>
}

/** Handlers with at least one callback: what tells the handler form from the iterator form. */
type AtLeastOneHandler<TData> = {
  [K in keyof SubscriptionHandlers<TData>]-?: Required<Pick<SubscriptionHandlers<TData>, K>>
}[keyof SubscriptionHandlers<TData>]

/** Options of the iterator form: no callbacks allowed. */
type IteratorOptions = SubscribeOptions & { [K in keyof SubscriptionHandlers<unknown>]?: never }

/** A subscription on the client proxy. */
export interface SubscriptionClient<T extends ProcedureTypes> {
  /**
   * Subscribes with callbacks; returns a handle to unsubscribe.
   *
   * @example
   * ```ts
   * const sub = api.ticks.subscribe({ every: 1000 }, { onData: (t) => render(t), onResync: reload })
   * sub.unsubscribe()
   * ```
   */
  subscribe(
    input: T['input'],
    handlers: SubscriptionHandlers<Exclude<T['output'], ResyncSignal>> &
      AtLeastOneHandler<Exclude<T['output'], ResyncSignal>> &
      SubscribeOptions,
  ): Subscription
  /**
   * Subscribes as an async iterable: `for await (const e of api.x.subscribe(input))`.
   * `break` (or `return()`) unsubscribes. A subscription that can resync
   * yields a `ResyncSignal` in the stream: test it with `isResync`.
   */
  subscribe(...args: CallArgs<T['input'], IteratorOptions>): SubscriptionIterable<T['output']>
}

/**
 * The client of one procedure. Its kind and types are read from the
 * procedure's own slots (`_def.type`, `~types`) with indexed accesses: the
 * compiler does this for every procedure a client touches, and matching
 * `P extends Procedure<'query', infer T>` three times costs several times
 * more. The tuples keep the test exact, so that a procedure of no single
 * kind (`AnyProcedure`) stays `never`, as with the matches.
 */
type DecorateProcedure<P extends Procedure<any, any>, K = P['_def']['type']> = [K] extends ['query']
  ? QueryClient<NonNullable<P['~types']>>
  : [K] extends ['mutation']
    ? MutationClient<NonNullable<P['~types']>>
    : [K] extends ['subscription']
      ? SubscriptionClient<NonNullable<P['~types']>>
      : never

/** Walks a router record into the client proxy's shape: one mapped type over the whole tree. */
export type DecorateRecord<TRecord> = {
  [K in keyof TRecord]: TRecord[K] extends Procedure<any, any>
    ? DecorateProcedure<TRecord[K]>
    : TRecord[K] extends Router<any, infer R>
      ? DecorateRecord<R>
      : TRecord[K] extends RouterRecord
        ? DecorateRecord<TRecord[K]>
        : never
}

/** `api.$connection`: the connection behind the proxy. */
export interface ConnectionHandle {
  /** `idle | connecting | open | reconnecting | closed`. */
  readonly state: ConnectionState
  /** Listens to connection events; returns a function that stops listening. */
  on<K extends keyof ConnectionEvents>(event: K, listener: ConnectionEvents[K]): () => void
  /** Bytes written to the socket but not yet sent, plus the bytes of calls waiting in the queue to be written. */
  readonly bufferedAmount: number
  /** Round-trip time of the last application-level ping, in milliseconds; `undefined` before the first. */
  readonly rttMs: number | undefined
  /** Why the client is `closed`: a terminal close code, giving up on reconnecting, or `close()`. */
  readonly error: RpcError | undefined
  /** Opens the connection now (for `lazy` clients); does nothing when already connecting or open. */
  connect(): void
  /**
   * Sends new `connectionParams` over the open connection — a refreshed
   * token — without dropping anything: the server runs `createContext` again
   * and later calls use the new context. Rejects with the server's error
   * (`UNAUTHORIZED`...) and the previous context stays. Without an argument
   * the `connectionParams` option is evaluated again. When not connected,
   * the params are kept for the next connect.
   *
   * @example
   * ```ts
   * onTokenRefreshed((token) => api.$connection.updateParams({ token }))
   * ```
   */
  updateParams(params?: Record<string, unknown>): Promise<void>
  /** Closes for good: pending calls reject with `CANCELLED`. Resolves once the socket is closed. */
  close(): Promise<void>
}

/** The typed client for a router: `api.a.b.query(input)`, plus `api.$connection`. */
export type RpcClient<TRouter extends AnyRouter> = DecorateRecord<TRouter['_def']['record']> & {
  readonly $connection: ConnectionHandle
}
