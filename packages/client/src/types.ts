import type {
  AnyClientApi,
  AnyProcedure,
  AnyRouter,
  ClientApiProcedure,
  ProcedureType,
  ProcedureTypes,
  ResyncSignal,
  Router,
  RouterRecord,
  Simplify,
} from '@wirecall/core'
import type { RpcError } from '@wirecall/core'
import type { CallOptions, ConnectionState, IdempotentMutationOptions, MutationOptions } from './options'
import type { ReconnectAttempt } from './reconnector'

// How these types print. An editor's hover and a compiler error show a
// client type as what it is, `{ query(input: …): Promise<…> }`, rather than
// by the alias that made it (`QueryClient<{ input; output; ctx }>`, which
// would show the server's context to the client). An alias whose body is
// `{ … } & {}` does that: the intersection with `{}` collapses to the object
// type itself, and that object type carries no alias name. It costs nothing:
// no extra type is built.
//
// The input may be left out when the procedure accepts `undefined` (no
// input, or an optional one): each client type has two forms, `input?` and
// `input`, chosen once per procedure. The options are a rest parameter of
// one fixed tuple, `...options: [options?: O]`, which prints as `options?:
// O | undefined` and makes `Parameters<…>` read `[input: I, options?: O]`,
// as one tuple of both would; but that tuple would differ for every
// procedure, and the compiler would build it, with all of `Array`'s
// members, for every procedure a client calls.

/** A query on the client proxy. Prints as its shape: `{ query(input, options?): Promise<output> }`. */
export type QueryClient<T extends ProcedureTypes> = undefined extends T['input']
  ? {
      /** Runs the query; rejects with an `RpcError`. */
      query(input?: T['input'], ...options: [options?: CallOptions]): Promise<T['output']>
    } & {}
  : {
      /** Runs the query; rejects with an `RpcError`. */
      query(input: T['input'], ...options: [options?: CallOptions]): Promise<T['output']>
    } & {}

/** A mutation on the client proxy. Prints as its shape: `{ mutate(input, options?): Promise<output> }`. */
export type MutationClient<T extends ProcedureTypes> = undefined extends T['input']
  ? {
      /** Runs the mutation; rejects with an `RpcError`. */
      mutate(input?: T['input'], ...options: [options?: MutationOptionsOf<T>]): Promise<T['output']>
    } & {}
  : {
      /** Runs the mutation; rejects with an `RpcError`. */
      mutate(input: T['input'], ...options: [options?: MutationOptionsOf<T>]): Promise<T['output']>
    } & {}

/** The options of a mutation's calls: a mutation declared `.idempotent()` takes an idempotency key. */
type MutationOptionsOf<T extends ProcedureTypes> = T['idempotent'] extends true ? IdempotentMutationOptions : MutationOptions

// The second argument of the handler form of `subscribe`: callbacks, at
// least one of them (what tells the handler form from the iterator form),
// and options. One interface per callback that is present, each with that
// callback required: a union of five plain object types, which the
// compiler checks an argument against, and types its callbacks from, far
// more cheaply than the same union written as intersections
// (`SubscriptionHandlers<T> & Required<Pick<…, K>> & SubscribeOptions`).
// Each takes its callback's type from `SubscriptionHandlers` (the same
// type, not a copy: an error then names it once, `(data: T) => void`,
// rather than as a union of two alike).

/** {@link HandlerFormOptions} with `onStarted`. */
interface HandlersWithOnStarted<TData> extends SubscriptionHandlers<TData>, SubscribeOptions {
  onStarted: NonNullable<SubscriptionHandlers<TData>['onStarted']>
}
/** {@link HandlerFormOptions} with `onData`. */
interface HandlersWithOnData<TData> extends SubscriptionHandlers<TData>, SubscribeOptions {
  onData: NonNullable<SubscriptionHandlers<TData>['onData']>
}
/** {@link HandlerFormOptions} with `onResync`. */
interface HandlersWithOnResync<TData> extends SubscriptionHandlers<TData>, SubscribeOptions {
  onResync: NonNullable<SubscriptionHandlers<TData>['onResync']>
}
/** {@link HandlerFormOptions} with `onError`. */
interface HandlersWithOnError<TData> extends SubscriptionHandlers<TData>, SubscribeOptions {
  onError: NonNullable<SubscriptionHandlers<TData>['onError']>
}
/** {@link HandlerFormOptions} with `onComplete`. */
interface HandlersWithOnComplete<TData> extends SubscriptionHandlers<TData>, SubscribeOptions {
  onComplete: NonNullable<SubscriptionHandlers<TData>['onComplete']>
}

/** The second argument of the handler form of `subscribe`: callbacks (at least one) and options. */
export type HandlerFormOptions<TData> =
  | HandlersWithOnStarted<TData>
  | HandlersWithOnData<TData>
  | HandlersWithOnResync<TData>
  | HandlersWithOnError<TData>
  | HandlersWithOnComplete<TData>

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
export type SubscriptionClient<T extends ProcedureTypes> = undefined extends T['input']
  ? {
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
        input?: T['input'],
        ...options: [options?: IteratorFormOptions | HandlerFormMismatch<HandlerData<T['output']>>]
      ): SubscriptionIterable<T['output']>
    } & {}
  : {
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
        input: T['input'],
        ...options: [options?: IteratorFormOptions | HandlerFormMismatch<HandlerData<T['output']>>]
      ): SubscriptionIterable<T['output']>
    } & {}

/**
 * The client of one procedure, from its kind and its types. The tuples keep
 * the test exact, so that a procedure of no single kind (`AnyProcedure`)
 * stays `never`; `| undefined` because the slot the kind is read from is
 * optional (see {@link DecorateEntry}).
 */
type DecorateProcedure<TKind, T extends ProcedureTypes> = [TKind] extends ['query' | undefined]
  ? QueryClient<T>
  : [TKind] extends ['mutation' | undefined]
    ? MutationClient<T>
    : [TKind] extends ['subscription' | undefined]
      ? SubscriptionClient<T>
      : never

/**
 * Walks a router record into the client proxy's shape: one mapped type over
 * the whole tree. Prints as the plain nested object (`{ post: { add: { mutate(…) } } }`).
 */
export type DecorateRecord<TRecord extends RouterRecord> = {
  [K in keyof TRecord]: DecorateEntry<TRecord[K]>
} & {}

/**
 * One entry of {@link DecorateRecord}. A procedure is read through its
 * phantom slots (`~kind`, `~types`) with indexed accesses: the compiler does
 * this for every procedure a client touches, and a conditional type whose
 * subject is the procedure itself (`P extends Procedure<…>`) makes it copy
 * the whole procedure type, its schemas' types included, to test it. A
 * router (`~kind` is `'router'`) and a nested object (no `~kind`: `unknown`)
 * are few, and cheap to match.
 */
type DecorateEntry<TEntry extends AnyProcedure | RouterRecord | AnyRouter> = [TEntry['~kind']] extends [ProcedureType | undefined]
  ? DecorateProcedure<TEntry['~kind'], NonNullable<TEntry['~types']>>
  : [TEntry] extends [Router<any, infer R extends RouterRecord>]
    ? DecorateRecord<R>
    : [TEntry] extends [RouterRecord]
      ? DecorateRecord<TEntry>
      : never

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
 * Walks a client API shape (`inferClientApi<AppRouter>`, or a generated
 * `api.d.ts`) into the same proxy shape as {@link DecorateRecord} makes of
 * the router itself: a leaf is a procedure when it has a `$kind`.
 */
export type DecorateApi<TApi extends AnyClientApi> = {
  [K in keyof TApi]: TApi[K] extends ClientApiProcedure
    ? DecorateProcedure<TApi[K]['$kind'], ApiProcedureTypes<TApi[K]>>
    : TApi[K] extends AnyClientApi
      ? DecorateApi<TApi[K]>
      : never
} & {}

/** A client API procedure's types in the form the client types read. */
type ApiProcedureTypes<P extends ClientApiProcedure> = {
  input: P['$input']
  output: P extends { readonly $resync: true } ? P['$output'] | ResyncSignal : P['$output']
  ctx: {}
  idempotent: P extends { readonly $idempotent: true } ? true : false
}

/**
 * The typed client for a router, or for a client API shape
 * (`inferClientApi<AppRouter>`, a generated `AppApi`): `api.a.b.query(input)`,
 * plus `api.$connection`. Prints as the plain tree of procedures (one mapped
 * type over the top-level keys flattens the intersection for hovers).
 */
export type RpcClient<TRouter extends AnyRouter | AnyClientApi> = Simplify<
  (TRouter extends AnyRouter ? DecorateRecord<TRouter['_def']['record']> : TRouter extends AnyClientApi ? DecorateApi<TRouter> : never) & {
    readonly $connection: ConnectionHandle
  }
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
   * receiving. `signal.reason` says why when the server sent it
   * (`trimmed`, `stream-reset`, `position-lost`...: see `ResyncReason`).
   */
  onResync?: (signal: ResyncSignal) => void
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
  /**
   * For a duplex subscription (its input is a stream): the chunks written
   * on a connection that dropped before the server credited them back are
   * sent again first on the next one, so none is lost but some may arrive
   * twice. Without it they are lost (at most once). Only for messages the
   * server can take twice (they carry their own id, say).
   * @default false
   */
  idempotent?: boolean | undefined
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
