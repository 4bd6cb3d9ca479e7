import type {
  DataTag,
  MutationFunction,
  MutationKey,
  MutationObserverOptions,
  QueryClient,
  QueryKey,
  QueryFunction,
  QueryObserverOptions,
  SkipToken,
} from '@tanstack/query-core'
import type { ConnectionHandle, Subscription, SubscriptionHandlers } from '@wirecall/client'
import type { ResyncReason as CoreResyncReason, ResyncSignal, RpcError } from '@wirecall/core'

/**
 * The types of the binding. Its utils are read from the client's own shape
 * (`api.a.b.query`, `.mutate`, `.subscribe`), one mapped type over the
 * whole tree, so they follow the router's inputs and outputs exactly and
 * work with a client typed from a router or from generated declarations.
 */

/**
 * What a wirecall key's last element says the entry holds. Keys are
 * `[prefix, ...path, { input, type }]`; `input` is left out when it is
 * `undefined`, so that a key without it matches every input of the path
 * (TanStack's partial matching).
 */
export type KeyType = 'query' | 'mutation' | 'live' | 'streamed' | 'subscription'


/** Arguments of an options builder: the input may be left out when the procedure accepts `undefined`. */
type OptionArgs<TInput, TOptions> = undefined extends TInput
  ? [input?: TInput | SkipToken, options?: TOptions]
  : [input: TInput | SkipToken, options?: TOptions]

/** The TanStack query options a caller adds; wirecall sets the key, its hash and the query function. */
export type QueryOptionsIn<TQueryFnData, TData = TQueryFnData> = Omit<
  QueryObserverOptions<TQueryFnData, RpcError, TData, TQueryFnData, RpcQueryKey<TQueryFnData>>,
  'queryKey' | 'queryFn' | 'queryKeyHashFn'
>

/** The call's own option: how long it may take (see the client's `timeoutMs`). */
export interface CallTimeout {
  /** Overrides the client's `timeoutMs` for each call of these options: past it the call fails with `TIMEOUT`. */
  timeoutMs?: number | undefined
}

/** A wirecall query key, tagged with its data and error types so that `getQueryData(key)` is typed. */
export type RpcQueryKey<TQueryFnData> = DataTag<QueryKey, TQueryFnData, RpcError>

/**
 * What every `*Options` builder of a query kind returns: TanStack's own
 * `QueryObserverOptions`, so `useQuery` (React, Vue, Solid, Svelte,
 * Angular), `queryClient.fetchQuery` and `prefetchQuery` all take it. The
 * key is tagged with the data and error types, so
 * `queryClient.getQueryData(options.queryKey)` is typed too.
 */
export type RpcQueryOptions<TQueryFnData, TData = TQueryFnData> = QueryObserverOptions<
  TQueryFnData,
  RpcError,
  TData,
  TQueryFnData,
  RpcQueryKey<TQueryFnData>
> & {
  queryKey: RpcQueryKey<TQueryFnData>
  queryKeyHashFn: (queryKey: QueryKey) => string
}

/**
 * What a builder returns when `initialData` is given: the query function is
 * a function (no `skipToken`), so `useQuery` types `data` as defined.
 */
export type WithInitialData<TOptions, TQueryFnData> = TOptions & {
  initialData: TQueryFnData | (() => TQueryFnData)
  queryFn: QueryFunction<TQueryFnData, RpcQueryKey<TQueryFnData>>
}

/** `initialData`, required: selects the overloads whose `data` is never `undefined`. */
interface InitialData<TQueryFnData> {
  initialData: TQueryFnData | (() => TQueryFnData)
}

/** Options of `mutationOptions`: TanStack's, plus `idempotent`. */
export type MutationOptionsIn<TInput, TOutput, TOnMutateResult = unknown> = Omit<
  MutationObserverOptions<TOutput, RpcError, TInput, TOnMutateResult>,
  'mutationFn' | 'mutationKey'
> &
  CallTimeout & {
  /**
   * Each `mutate()` gets its own idempotency key, kept across TanStack's
   * retries of that call and across reconnects, so the server runs it at
   * most once however often it is sent (see docs/reconnect.md). Without it
   * a mutation in flight when the connection drops rejects with
   * `CONNECTION_LOST`.
   * @default false
   */
  idempotent?: boolean | undefined
}

/** What `mutationOptions` returns: TanStack's `MutationObserverOptions`, for `useMutation` of any adapter. */
export type RpcMutationOptions<TInput, TOutput, TOnMutateResult = unknown> = MutationObserverOptions<TOutput, RpcError, TInput, TOnMutateResult> & {
  mutationKey: MutationKey
  mutationFn: MutationFunction<TOutput, TInput>
}

/** Passed to `onResync`: the server said events were missed. */
export interface ResyncReason {
  /**
   * The server could not replay what the subscription missed: its history
   * no longer reaches back to `lastEventId` (trimmed, or another process's
   * id), or the client fell too far behind; `reason` says which, when the
   * server sent it.
   */
  type: 'resync'
  /** Why, when the server said (`trimmed`, `stream-reset`, `position-lost`...). */
  reason?: CoreResyncReason | undefined
  /** The key of the query that got the resync. */
  queryKey: QueryKey
  /** The last event id the client had when the resync came. */
  lastEventId: string | undefined
}

/** Options shared by `liveOptions` and `streamedOptions`. */
export interface StreamOptionsIn {
  /**
   * Resume after this event id instead of starting from now: the id of the
   * snapshot given as `initialData` (server-rendered, or loaded by a query),
   * so that nothing falls between the two and nothing comes twice.
   */
  lastEventId?: string | undefined
  /**
   * Keys to invalidate (refetch) when a resync says events were missed: the
   * queries that this feed would have patched. Part of the default resync
   * handling; ignored when `onResync` is given.
   */
  invalidate?: readonly QueryKey[] | undefined
  /**
   * Replaces the default resync handling (live: keep the value and mark it
   * stale; streamed: reset to `initialValue`; both: invalidate
   * `invalidate`). The subscription goes on either way: the next events
   * arrive as usual.
   */
  onResync?: ((reason: ResyncReason, queryClient: QueryClient) => void) | undefined
}

/** Options of `liveOptions`: TanStack's, plus {@link StreamOptionsIn}. */
export type LiveOptionsIn<TEvent, TData = TEvent> = QueryOptionsIn<TEvent, TData> & StreamOptionsIn

/** Options of `streamedOptions`: TanStack's, plus {@link StreamOptionsIn} and how events are folded. */
export type StreamedOptionsIn<TEvent, TAcc, TData = TAcc> = QueryOptionsIn<TAcc, TData> &
  StreamOptionsIn & {
    /** Folds one event into the data. @default appends: `(items, event) => [...items, event]` */
    reducer?: ((acc: TAcc, event: TEvent) => TAcc) | undefined
    /** The data before the first event, and again after a resync. @default [] */
    initialValue?: TAcc | undefined
    /** When the data is an array, only its newest `maxItems` are kept. @default unbounded */
    maxItems?: number | undefined
  }

/** `useSubscription`'s status; see docs/tanstack-query.md for the diagram. */
export type SubscriptionStatus = 'idle' | 'connecting' | 'live' | 'resyncing' | 'error'

/** Options of `subscriptionOptions`: the client's handlers, and what `useSubscription` adds. */
export interface SubscriptionOptionsIn<TEvent> extends SubscriptionHandlers<TEvent> {
  /** `false` keeps the hook `idle` with no subscription. @default true */
  enabled?: boolean | undefined
  /** Resume after this event id (see {@link StreamOptionsIn.lastEventId}). */
  lastEventId?: string | undefined
  /** Called on every change of `status`, including the return to `idle` on unmount. */
  onStatusChange?: ((status: SubscriptionStatus) => void) | undefined
}

/** What `subscriptionOptions` returns, for `useSubscription` (TanStack has no subscription hook). */
export interface RpcSubscriptionOptions<TEvent> extends SubscriptionOptionsIn<TEvent> {
  queryKey: QueryKey
  /** `queryKey` hashed: the identity of the subscription for the hook. */
  queryHash: string
  enabled: boolean
  /** The client's connection: its drops make the hook show `connecting` until the server has resubscribed. */
  connection: ConnectionHandle
  /** Starts the subscription with these handlers. */
  subscribe(handlers: SubscriptionHandlers<TEvent>): Subscription
}

/** Utils every node has, a router as well as a procedure. */
export interface PathUtils {
  /** `[prefix, ...path]`: matches every entry under this path, whatever the input and kind (`invalidateQueries({ queryKey })`). */
  key(): QueryKey
}

/** The utils of a query procedure. */
export interface QueryProcedureUtils<TInput, TOutput> extends PathUtils {
  /**
   * Options for `useQuery`, `fetchQuery`, `prefetchQuery`... Unmounting (or
   * any cancellation) aborts the call, and the server's `signal` fires.
   * `skipToken` as the input disables the query.
   */
  queryOptions<TData = TOutput>(
    input: TInput,
    options: QueryOptionsIn<TOutput, TData> & CallTimeout & InitialData<TOutput>,
  ): WithInitialData<RpcQueryOptions<TOutput, TData>, TOutput>
  queryOptions<TData = TOutput>(...args: OptionArgs<TInput, QueryOptionsIn<TOutput, TData> & CallTimeout>): RpcQueryOptions<TOutput, TData>
  /** The exact key of `queryOptions(input)`; without an input, a key that matches every input. */
  queryKey(input?: TInput): RpcQueryKey<TOutput>
}

/** The utils of a mutation procedure. */
export interface MutationProcedureUtils<TInput, TOutput> extends PathUtils {
  /** Options for `useMutation`; `variables` are the procedure's input. */
  mutationOptions<TOnMutateResult = unknown>(
    options?: MutationOptionsIn<TInput, TOutput, TOnMutateResult>,
  ): RpcMutationOptions<TInput, TOutput, TOnMutateResult>
  /** `[prefix, ...path, { type: 'mutation' }]`, for `useIsMutating` and `useMutationState` filters. */
  mutationKey(): MutationKey
}

/** The utils of a subscription procedure. */
export interface SubscriptionProcedureUtils<TInput, TEvent> extends PathUtils {
  /**
   * A query whose data is the latest event. TanStack sees one long-running
   * fetch: the client reconnects and resumes inside it, so a dropped
   * connection is no error, no refetch and no reset of `data`.
   */
  liveOptions<TData = TEvent>(
    input: TInput,
    options: LiveOptionsIn<TEvent, TData> & InitialData<TEvent>,
  ): WithInitialData<RpcQueryOptions<TEvent, TData>, TEvent>
  liveOptions<TData = TEvent>(...args: OptionArgs<TInput, LiveOptionsIn<TEvent, TData>>): RpcQueryOptions<TEvent, TData>
  /** A query whose data folds every event, with `reducer` from `initialValue`. */
  streamedOptions<TAcc, TData = TAcc>(
    input: TInput | SkipToken,
    options: StreamedOptionsIn<TEvent, TAcc, TData> & { reducer: (acc: TAcc, event: TEvent) => TAcc; initialValue: TAcc },
  ): RpcQueryOptions<TAcc, TData>
  /** A query whose data is every event so far, oldest first (the newest `maxItems`, when set), after `initialData`. */
  streamedOptions<TData = TEvent[]>(
    input: TInput,
    options: StreamedOptionsIn<TEvent, TEvent[], TData> & InitialData<TEvent[]>,
  ): WithInitialData<RpcQueryOptions<TEvent[], TData>, TEvent[]>
  /** A query whose data is every event so far, oldest first (the newest `maxItems`, when set). */
  streamedOptions<TData = TEvent[]>(...args: OptionArgs<TInput, StreamedOptionsIn<TEvent, TEvent[], TData>>): RpcQueryOptions<TEvent[], TData>
  /** Options for `useSubscription` (from `@wirecall/tanstack-query/react`). */
  subscriptionOptions(...args: OptionArgs<TInput, SubscriptionOptionsIn<TEvent>>): RpcSubscriptionOptions<TEvent>
  /** The exact key of `liveOptions(input)` or `streamedOptions(input)`; without an input, one that matches every input of that kind. */
  queryKey(input: TInput | undefined, type: 'live' | 'streamed'): QueryKey
}

/** The events a subscription delivers, without the resync signal (which `onResync` handles). */
type EventOf<TIterable> = TIterable extends AsyncIterable<infer E> ? Exclude<E, ResyncSignal> : never

/** The utils for one node of the client: a procedure's by its kind, or a router's children. */
type NodeUtils<T> = T extends { query: (...args: infer A) => Promise<infer O> }
  ? QueryProcedureUtils<A[0], O>
  : T extends { mutate: (...args: infer A) => Promise<infer O> }
    ? MutationProcedureUtils<A[0], O>
    : T extends { subscribe: (...args: infer A) => infer R }
      ? SubscriptionProcedureUtils<A[0], EventOf<R>>
      : QueryUtils<T>

/**
 * `createQueryUtils(api, ...)`: the client's tree, with the utils of each
 * procedure's kind at its leaves (`$connection` and other `$` keys left out).
 */
export type QueryUtils<TApi> = PathUtils & {
  [K in keyof TApi as K extends `$${string}` ? never : K]: NodeUtils<TApi[K]>
}
