import { isServer, skipToken, type MutationFunctionContext, type QueryFunctionContext } from '@tanstack/query-core'
import type { CallOptions, MutationOptions, Subscription, SubscriptionHandlers, SubscriptionIterable } from '@wirecall/client'
import { isResync } from '@wirecall/core'
import { keyOf, queryKeyHashFn } from './keys'
import type { KeyType, QueryUtils, StreamedOptionsIn } from './types'

/** Options of {@link createQueryUtils}. */
export interface QueryUtilsOptions {
  /**
   * First element of every key, so that wirecall's entries never collide
   * with other queries and `invalidateQueries({ queryKey: [prefix] })`
   * reaches all of them. Use one prefix per client.
   */
  prefix: string
}

/** One procedure of the client, as the untyped runtime sees it. */
interface ProcedureClient {
  query(input: unknown, options: CallOptions): Promise<unknown>
  mutate(input: unknown, options: MutationOptions): Promise<unknown>
  subscribe(input: unknown, options: object): SubscriptionIterable<unknown> & Subscription
}

type Tree = Record<string, unknown>
type Options = Record<string, unknown> & StreamedOptionsIn<unknown, unknown> & { timeoutMs?: number | undefined }

/**
 * TanStack Query options for every procedure of a wirecall client, built on
 * `@tanstack/query-core` types so that they work with every adapter.
 *
 * @example
 * ```ts
 * const wc = createQueryUtils(api, { prefix: 'wc' })
 * useQuery(wc.post.byId.queryOptions({ id }))
 * useQuery(wc.prices.liveOptions({ symbol }))
 * ```
 */
export function createQueryUtils<TApi extends object>(api: TApi, options: QueryUtilsOptions): QueryUtils<TApi> {
  return node(api as Tree, [options.prefix]) as QueryUtils<TApi>
}

/**
 * The untyped runtime behind `QueryUtils<TApi>`: property access builds a
 * path; the utils' names at the end of a path make options. The procedure's
 * client is looked up on the proxy of `api` only when a call is made.
 */
function node(api: Tree, path: string[]): unknown {
  const procedure = () => path.slice(1).reduce<Tree>((o, k) => o[k] as Tree, api) as unknown as ProcedureClient
  const key = (input: unknown, type: KeyType) => keyOf(path, input, type)
  const utils: Record<string, (...args: never[]) => unknown> = {
    key: () => [...path],
    queryKey: (input: unknown, type: KeyType = 'query') => key(input, type),
    mutationKey: () => key(undefined, 'mutation'),
    queryOptions: (input: unknown, { timeoutMs, ...o }: Options = {}) => ({
      ...o,
      queryKey: key(input, 'query'),
      queryKeyHashFn,
      queryFn: input === skipToken ? skipToken : ({ signal }: QueryFunctionContext) => procedure().query(input, { signal, timeoutMs }),
    }),
    mutationOptions: ({ idempotent, timeoutMs, ...o }: Options = {}) => {
      // One key per mutate(): TanStack passes the same context object to every retry of one call.
      const keys = new WeakMap<object, string>()
      return {
        ...o,
        mutationKey: key(undefined, 'mutation'),
        mutationFn: (input: unknown, context: MutationFunctionContext) => {
          let idempotencyKey = keys.get(context)
          if (idempotent === true && idempotencyKey === undefined) keys.set(context, (idempotencyKey = crypto.getRandomValues(new Uint32Array(4)).join('-')))
          return procedure().mutate(input, { idempotencyKey, timeoutMs })
        },
      }
    },
    liveOptions: (input: unknown, o?: Options) => stream(input, o, 'live'),
    streamedOptions: (input: unknown, o?: Options) => stream(input, o, 'streamed'),
    subscriptionOptions: (input: unknown, o: Options = {}) => {
      const queryKey = key(input, 'subscription')
      return {
        ...o,
        queryKey,
        queryHash: queryKeyHashFn(queryKey),
        enabled: input !== skipToken && o.enabled !== false,
        connection: api.$connection,
        subscribe: (handlers: SubscriptionHandlers<unknown>) => procedure().subscribe(input, { ...handlers, lastEventId: o.lastEventId }),
      }
    },
  }

  /**
   * A query that reads the client's async-iterable subscription until it
   * ends. The client reconnects and resumes inside the loop, so TanStack
   * sees one fetch, never failed or repeated by a dropped connection.
   */
  function stream(input: unknown, o: Options = {}, type: 'live' | 'streamed') {
    const { reducer = (items: unknown[], event: unknown) => [...items, event], initialValue = [], maxItems, lastEventId, invalidate, onResync, ...rest } = o
    const queryKey = key(input, type)
    return {
      // Pushed data is never stale by time; every mount (re)starts the subscription unless one runs.
      staleTime: Infinity,
      refetchOnMount: 'always',
      // wirecall waits for the connection itself: TanStack must not hold the subscription back while offline.
      networkMode: 'always',
      ...rest,
      queryKey,
      queryKeyHashFn,
      queryFn:
        input === skipToken
          ? skipToken
          : async ({ client, signal }: QueryFunctionContext) => {
              const query = client.getQueryCache().get(queryKeyHashFn(queryKey))!
              const { initialData } = rest
              let value: unknown =
                type === 'live' ? query.state.data : ((typeof initialData === 'function' ? (initialData as () => unknown)() : initialData) ?? initialValue)
              // On the server: the initial data, and no socket.
              if (isServer) return value
              // A fetch cancelled in this same task (React StrictMode's double mount) never subscribes.
              await Promise.resolve()
              const set = (data: unknown) => query.setData((value = data), { manual: true })
              if (type === 'streamed') set(value)
              const subscription = procedure().subscribe(input, { signal, lastEventId })
              for await (const event of subscription) {
                if (!isResync(event)) {
                  const next = type === 'live' ? event : (reducer as (acc: unknown, event: unknown) => unknown)(value, event)
                  set(maxItems !== undefined && Array.isArray(next) && next.length > maxItems ? next.slice(-maxItems) : next)
                } else if (onResync) {
                  onResync({ type: 'resync', queryKey, lastEventId: subscription.lastEventId, reason: event.reason }, client)
                } else {
                  if (type === 'live') query.invalidate()
                  else set(initialValue)
                  for (const queryKey of invalidate ?? []) void client.invalidateQueries({ queryKey })
                }
              }
              return value
            },
    }
  }

  return new Proxy(utils, {
    get: (_, name) => typeof name !== 'string' || name === 'then' ? undefined : Object.hasOwn(utils, name) ? utils[name] : node(api, [...path, name]),
  })
}
