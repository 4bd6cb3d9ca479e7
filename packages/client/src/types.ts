import type { AnyRouter, Procedure, ProcedureTypes, ResyncSignal, Router, RouterRecord, Simplify } from '@wirecall/core'
import type { RpcError } from '@wirecall/core'
import type { CallOptions, ConnectionState, IdempotentMutationOptions, MutationOptions } from './options'
import type { ReconnectAttempt } from './reconnector'

/** Arguments of a call: the input may be left out when the procedure accepts `undefined`. */
type CallArgs<TInput, TOptions> = undefined extends TInput
  ? [input?: TInput, options?: TOptions]
  : [input: TInput, options?: TOptions]

// How these types print. An editor's hover and a compiler error show a
// client type as what it is, `{ query(input: …): Promise<…> }`, rather than
// by the alias that made it (`QueryClient<{ input; output; ctx }>`, which
// would show the server's context to the client). An alias whose body is
// `{ … } & {}` does that: the intersection with `{}` collapses to the object
// type itself, and that object type carries no alias name. It costs nothing:
// no extra type is built.

/** A query on the client proxy. Prints as its shape: `{ query(input, options?): Promise<output> }`. */
export type QueryClient<T extends ProcedureTypes> = {
  /** Runs the query; rejects with an `RpcError`. */
  query(...args: CallArgs<T['input'], CallOptions>): Promise<T['output']>
} & {}

/** A mutation on the client proxy. Prints as its shape: `{ mutate(input, options?): Promise<output> }`. */
export type MutationClient<T extends ProcedureTypes> = {
  /** Runs the mutation; rejects with an `RpcError`. */
  mutate(...args: CallArgs<T['input'], T['idempotent'] extends true ? IdempotentMutationOptions : MutationOptions>): Promise<T['output']>
} & {}

/** Handlers with at least one callback: what tells the handler form from the iterator form. */
type AtLeastOneHandler<TData> = {
  [K in keyof SubscriptionHandlers<TData>]-?: Required<Pick<SubscriptionHandlers<TData>, K>>
}[keyof SubscriptionHandlers<TData>]

/** The second argument of the handler form of `subscribe`: callbacks (at least one) and options. */
export type HandlerFormOptions<TData> = SubscriptionHandlers<TData> & AtLeastOneHandler<TData> & SubscribeOptions

/** The second argument of the iterator form of `subscribe`: options, and no callbacks. */
export type IteratorFormOptions = SubscribeOptions & { [K in keyof SubscriptionHandlers<unknown>]?: never }

/**
 * The handler form once more, as the iterator form's alternative, and one
 * that no value satisfies (none has a `never` property). The iterator form
 * is tried only after the handler form refused the arguments, and the
 * compiler reports that last failure (TypeScript 7 shows nothing else).
 * Against `IteratorFormOptions` alone a wrong `onData` would read "… is not
 * assignable to type 'undefined'"; against this alternative it reads as the
 * handler's own mismatch: "Type '(t: string) => void' is not assignable to
 * type '(data: Tick) => void'".
 */
export type HandlerFormMismatch<TData> = SubscriptionHandlers<TData> & SubscribeOptions & { readonly '~handlerForm': never }

/** Events as the handler form delivers them: a resync goes to `onResync`, not `onData`. */
type HandlerData<TOutput> = Exclude<TOutput, ResyncSignal>

/** A subscription on the client proxy. Prints as its shape: two `subscribe` overloads. */
export type SubscriptionClient<T extends ProcedureTypes> = {
  /**
   * Subscribes with callbacks; returns a handle to unsubscribe.
   *
   * @example
   * ```ts
   * const sub = api.ticks.subscribe({ every: 1000 }, { onData: (t) => render(t), onResync: reload })
   * sub.unsubscribe()
   * ```
   */
  subscribe(input: T['input'], handlers: HandlerFormOptions<HandlerData<T['output']>>): Subscription
  /**
   * Subscribes as an async iterable: `for await (const e of api.x.subscribe(input))`.
   * `break` (or `return()`) unsubscribes. A subscription that can resync
   * yields a `ResyncSignal` in the stream: test it with `isResync`.
   */
  subscribe(
    ...args: CallArgs<T['input'], IteratorFormOptions | HandlerFormMismatch<HandlerData<T['output']>>>
  ): SubscriptionIterable<T['output']>
} & {}

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

/**
 * Walks a router record into the client proxy's shape: one mapped type over
 * the whole tree. Prints as the plain nested object (`{ post: { add: { mutate(…) } } }`).
 */
export type DecorateRecord<TRecord> = {
  [K in keyof TRecord]: TRecord[K] extends Procedure<any, any>
    ? DecorateProcedure<TRecord[K]>
    : TRecord[K] extends Router<any, infer R>
      ? DecorateRecord<R>
      : TRecord[K] extends RouterRecord
        ? DecorateRecord<TRecord[K]>
        : never
} & {}

/** Events of `api.$connection.on(...)`. */
export interface ConnectionEvents {
  /** The connection state changed. */
  state: (state: ConnectionState) => void
  /** A socket closed; `code` is the WebSocket close code (1006 when the network dropped). */
  close: (info: { code: number; reason: string }) => void
  /** A reconnect attempt is scheduled, `delayMs` from now. */
  reconnect: (info: ReconnectAttempt) => void
  /** A live subscription was sent again on a new connection, resuming after `lastEventId`. */
  resubscribe: (info: { path: string; lastEventId: string | undefined }) => void
  /** The server could not resume a subscription: its handler's `onResync` (or the iterator's resync signal) follows. */
  resync: (info: { path: string }) => void
  /** The server answered a keep-alive ping. */
  pong: (info: { rttMs: number }) => void
  /** The server announced a restart: the client reconnects `delayMs` after the socket closes. */
  restart: (info: { delayMs: number }) => void
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

/**
 * The typed client for a router: `api.a.b.query(input)`, plus
 * `api.$connection`. Prints as the plain tree of procedures (one mapped type
 * over the top-level keys flattens the intersection for hovers).
 */
export type RpcClient<TRouter extends AnyRouter> = Simplify<
  DecorateRecord<TRouter['_def']['record']> & { readonly $connection: ConnectionHandle }
>

/** Callbacks of the handler form of `subscribe`. Each is optional. */
export interface SubscriptionHandlers<TData> {
  /**
   * The server started the subscription (after middleware and input
   * validation passed): once, then again each time it is started again on
   * a new connection. `resumed` is true when the subscribe carried a
   * `lastEventId` (from an earlier connection, or your `lastEventId`
   * option) and the server continued from it with nothing missed; false on
   * a first start, and when the server could not continue — then
   * `onResync` follows, right after this. So load state when `!resumed`,
   * or on the first start and on `onResync`, never on every start.
   *
   * @example
   * ```ts
   * api.feed.subscribe(undefined, { onStarted: ({ resumed }) => resumed || reload(), onData: apply })
   * ```
   */
  onStarted?: (info: { resumed: boolean }) => void
  /** One event, typed as the generator yields it (the data inside `tracked(...)`). */
  onData?: (data: TData) => void
  /**
   * The server cannot resume from where this subscription left off, or it
   * fell too far behind: events were missed. Reload state, then keep
   * receiving.
   */
  onResync?: () => void
  /** The subscription ended with an error; it will not be called again. */
  onError?: (error: RpcError) => void
  /** The server ended the subscription normally. */
  onComplete?: () => void
}

/** Options of both forms of `subscribe`. */
export interface SubscribeOptions {
  /** Unsubscribes when aborted. */
  signal?: AbortSignal | undefined
  /** Resume after this event id (the server replays what it still has). */
  lastEventId?: string | undefined
}

/** State of a subscription as the client sees it. */
export type SubscriptionState = 'pending' | 'started' | 'ended'

/** What the handler form of `subscribe` returns. */
export interface Subscription {
  /** Stops it; the server ends its generator. No callback runs afterwards. Idempotent. */
  unsubscribe(): void
  readonly state: SubscriptionState
  /** Id of the last tracked event received; sent back when resubscribing. */
  readonly lastEventId: string | undefined
}

/** What the iterator form of `subscribe` returns: `for await` it; `break` unsubscribes. */
export interface SubscriptionIterable<TEvent> extends AsyncIterable<TEvent>, Subscription {}
