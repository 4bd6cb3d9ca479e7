import { QueryClient, QueryObserver, skipToken, type QueryKey } from '@tanstack/query-core'
import { useMutation, useQuery } from '@tanstack/react-query'
import type { ConnectionState, RpcClient } from '@wirecall/client'
import type { RpcError } from '@wirecall/core'
import { describe, expectTypeOf, it } from 'vitest'
import { createQueryUtils, type SubscriptionStatus } from '../src/index'
import { useConnectionState, useSubscription } from '../src/react'
import type { AppRouter, Message, Post, Price } from './fixture-router'

declare const api: RpcClient<AppRouter>
const wc = createQueryUtils(api, { prefix: 'wc' })
const queryClient = new QueryClient()

describe('queryOptions', () => {
  it('types data as the output and the error as RpcError, through useQuery', () => {
    const result = useQuery(wc.post.byId.queryOptions({ id: '1' }))
    expectTypeOf(result.data).toEqualTypeOf<Post | undefined>()
    expectTypeOf(result.data).not.toBeAny()
    expectTypeOf(result.error).toEqualTypeOf<RpcError | null>()
    expectTypeOf(useQuery(wc.post.totals.queryOptions({ ids: new Set([1n]) })).data).toEqualTypeOf<Map<bigint, number> | undefined>()
  })

  it('takes TanStack options, select included, and checks the input', () => {
    const titles = useQuery(wc.post.byId.queryOptions({ id: '1' }, { select: (post) => post.title, staleTime: 1_000 }))
    expectTypeOf(titles.data).toEqualTypeOf<string | undefined>()
    // @ts-expect-error -- the input is checked
    wc.post.byId.queryOptions({ id: 1 })
    // @ts-expect-error -- and required
    wc.post.byId.queryOptions()
    wc.health.queryOptions() // a procedure without input needs none
    wc.post.byId.queryOptions(skipToken)
  })

  it('works with query-core itself: any adapter takes these options', () => {
    const observer = new QueryObserver(queryClient, wc.post.byId.queryOptions({ id: '1' }))
    expectTypeOf(observer.getCurrentResult().data).toEqualTypeOf<Post | undefined>()
    expectTypeOf(queryClient.fetchQuery(wc.health.queryOptions())).resolves.toEqualTypeOf<'ok'>()
  })

  it('tags the key, so getQueryData is typed', () => {
    const { queryKey } = wc.post.byId.queryOptions({ id: '1' })
    expectTypeOf(queryClient.getQueryData(queryKey)).toEqualTypeOf<Post | undefined>()
    expectTypeOf(queryClient.getQueryData(wc.post.byId.queryKey({ id: '1' }))).toEqualTypeOf<Post | undefined>()
  })
})

describe('mutationOptions', () => {
  it('types data, variables and error', () => {
    const mutation = useMutation(wc.post.add.mutationOptions({ idempotent: true, onSuccess: (post) => expectTypeOf(post).toEqualTypeOf<Post>() }))
    expectTypeOf(mutation.data).toEqualTypeOf<Post | undefined>()
    expectTypeOf(mutation.error).toEqualTypeOf<RpcError | null>()
    expectTypeOf(mutation.mutate).parameter(0).toEqualTypeOf<{ title: string }>()
  })
})

describe('liveOptions and streamedOptions', () => {
  it('live: data is the latest event, without the resync signal', () => {
    const live = useQuery(wc.prices.liveOptions({ symbol: 'ACME' }))
    expectTypeOf(live.data).toEqualTypeOf<Price | undefined>()
    expectTypeOf(live.error).toEqualTypeOf<RpcError | null>()
    expectTypeOf(useQuery(wc.ticks.liveOptions()).data).toEqualTypeOf<number | undefined>()
    expectTypeOf(useQuery(wc.prices.liveOptions({ symbol: 'ACME' }, { select: (p) => p.price })).data).toEqualTypeOf<number | undefined>()
  })

  it('streamed: every event by default, or what the reducer folds', () => {
    expectTypeOf(useQuery(wc.messages.streamedOptions({ room: 'a' })).data).toEqualTypeOf<Message[] | undefined>()
    expectTypeOf(useQuery(wc.messages.streamedOptions({ room: 'a' }, { maxItems: 500 })).data).toEqualTypeOf<Message[] | undefined>()
    const count = useQuery(wc.messages.streamedOptions({ room: 'a' }, { reducer: (n: number, m) => n + m.text.length, initialValue: 0 }))
    expectTypeOf(count.data).toEqualTypeOf<number | undefined>()
  })

  it('with initialData (SSR), data is never undefined', () => {
    const price: Price = { symbol: 'ACME', price: 1, at: new Date() }
    expectTypeOf(useQuery(wc.prices.liveOptions({ symbol: 'ACME' }, { initialData: price })).data).toEqualTypeOf<Price>()
    expectTypeOf(useQuery(wc.messages.streamedOptions({ room: 'a' }, { initialData: [], lastEventId: '1' })).data).toEqualTypeOf<Message[]>()
    expectTypeOf(useQuery(wc.post.byId.queryOptions({ id: '1' }, { initialData: { id: '1', title: 't', at: new Date() } })).data).toEqualTypeOf<Post>()
  })

  it('onResync gets the reason and the QueryClient', () => {
    wc.prices.liveOptions(
      { symbol: 'ACME' },
      {
        onResync: (reason, client) => {
          expectTypeOf(reason.queryKey).toEqualTypeOf<QueryKey>()
          expectTypeOf(reason.lastEventId).toEqualTypeOf<string | undefined>()
          expectTypeOf(client).toEqualTypeOf<QueryClient>()
        },
        invalidate: [wc.post.key()],
      },
    )
  })
})

describe('subscriptionOptions and useSubscription', () => {
  it('types data, error and status', () => {
    const sub = useSubscription(wc.prices.subscriptionOptions({ symbol: 'ACME' }, { onData: (price) => expectTypeOf(price).toEqualTypeOf<Price>() }))
    expectTypeOf(sub.data).toEqualTypeOf<Price | undefined>()
    expectTypeOf(sub.error).toEqualTypeOf<RpcError | undefined>()
    expectTypeOf(sub.status).toEqualTypeOf<SubscriptionStatus>()
    expectTypeOf(sub.status).toEqualTypeOf<'idle' | 'connecting' | 'live' | 'resyncing' | 'error'>()
    expectTypeOf(sub.lastEventId).toEqualTypeOf<string | undefined>()
    expectTypeOf(sub.reset).toEqualTypeOf<() => void>()
  })

  it('useConnectionState gives the client state', () => {
    expectTypeOf(useConnectionState(api)).toEqualTypeOf<ConnectionState>()
  })
})

describe('each kind offers its own utils only', () => {
  it('a query path has no subscriptionOptions, mutationOptions or liveOptions', () => {
    // @ts-expect-error -- subscriptionOptions is absent on a query path
    wc.post.byId.subscriptionOptions({ id: '1' })
    // @ts-expect-error -- so is liveOptions
    wc.post.byId.liveOptions({ id: '1' })
    // @ts-expect-error -- and mutationOptions
    wc.post.byId.mutationOptions()
  })

  it('a subscription path has no queryOptions; a mutation path no queryOptions', () => {
    // @ts-expect-error -- queryOptions is absent on a subscription path
    wc.prices.queryOptions({ symbol: 'ACME' })
    // @ts-expect-error -- and on a mutation path
    wc.post.add.queryOptions({ title: 'x' })
  })

  it('keys everywhere; $connection is not a path', () => {
    expectTypeOf(wc.key()).toEqualTypeOf<QueryKey>()
    expectTypeOf(wc.post.key()).toEqualTypeOf<QueryKey>()
    expectTypeOf(wc.post.add.mutationKey()).toEqualTypeOf<readonly unknown[]>()
    wc.prices.queryKey({ symbol: 'ACME' }, 'live')
    // @ts-expect-error -- a subscription's key says which kind of query it is for
    wc.prices.queryKey({ symbol: 'ACME' }, 'query')
    // @ts-expect-error -- `$` keys are the client's, not procedures
    void wc.$connection
  })
})
