// @vitest-environment happy-dom
import { useQuery, type QueryClient, type QueryFunction, type QueryKey } from '@tanstack/react-query'
import { act } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import type { ResyncReason } from '@wirecall/tanstack-query'
import { sleep, waitUntil } from '../../helpers/harness'
import { renderWith, startTestApp } from './react-harness'
import type { Post, Tick } from './router'

/**
 * `liveOptions` and `streamedOptions` in React against a real server: one
 * long-running query through dropped connections, resyncs when the
 * server's history no longer reaches back, folding and bounding events, and
 * one subscription on the server per mounted query, StrictMode included.
 */

/** Every value the query's cache entry took, in order (not only those React rendered). */
function cacheValues<T>(queryClient: QueryClient, queryKey: QueryKey): T[] {
  const values: T[] = []
  const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
    if (event.type === 'updated' && event.action.type === 'success' && event.query.queryKey === queryKey) values.push(event.query.state.data as T)
  })
  return Object.assign(values, { unsubscribe })
}

/** Wraps an options object's queryFn to count how often TanStack runs it. */
function countRuns<O extends { queryFn?: unknown }>(options: O): O & { runs: () => number } {
  let runs = 0
  const queryFn = options.queryFn as (...args: unknown[]) => unknown
  return { ...options, queryFn: (...args: unknown[]) => (runs++, queryFn(...args)), runs: () => runs }
}

describe('liveOptions', () => {
  it('one long-running query through a dropped connection: data kept, status success, ids contiguous, the query function run once', async () => {
    const { wc, feed, sockets, queryClient, api } = await startTestApp()
    const options = countRuns(wc.feed.liveOptions())
    const renders: { status: string; n: number | undefined; fetching: boolean }[] = []
    function Live() {
      const query = useQuery(options)
      renders.push({ status: query.status, n: query.data?.n, fetching: query.isFetching })
      return <p>{query.data?.n}</p>
    }
    const values = cacheValues<Tick>(queryClient, options.queryKey)
    renderWith(queryClient, <Live />)
    await waitUntil(() => api.$connection.state === 'open' && feed.subscriberCount === 1, 'the subscription')
    for (let n = 1; n <= 3; n++) feed.publish({ n })
    await waitUntil(() => renders.at(-1)?.n === 3, 'the first events')

    sockets.refuse(true) // hold the client away until the test lets it back
    sockets.drop()
    await waitUntil(() => api.$connection.state === 'reconnecting' && feed.subscriberCount === 0, 'both ends to notice')
    for (let n = 4; n <= 5; n++) feed.publish({ n }) // while the client is away: replayed on resume
    expect(renders.at(-1)).toMatchObject({ n: 3, status: 'success' })
    sockets.refuse(false)
    await waitUntil(() => api.$connection.state === 'open' && feed.subscriberCount === 1, 'the reconnect')
    feed.publish({ n: 6 })
    await waitUntil(() => renders.at(-1)?.n === 6, 'the replay and the next live event')

    expect(values.map((tick) => tick.n)).toEqual([1, 2, 3, 4, 5, 6])
    const afterFirst = renders.slice(renders.findIndex((r) => r.n !== undefined))
    expect(afterFirst.every((r) => r.n !== undefined && r.status === 'success' && r.fetching)).toBe(true)
    expect(options.runs()).toBe(1)
    expect(queryClient.getQueryState(options.queryKey)).toMatchObject({ status: 'success', fetchStatus: 'fetching', isInvalidated: false })
  })

  it('a forced trim gives exactly one onResync, with the reason and the QueryClient; the subscription goes on', async () => {
    const { wc, feed, sockets, queryClient, api } = await startTestApp({ history: 2 })
    const onResync = vi.fn<(reason: ResyncReason, queryClient: QueryClient) => void>()
    const options = wc.feed.liveOptions(undefined, { onResync })
    let shown: number | undefined
    function Live() {
      shown = useQuery(options).data?.n
      return null
    }
    renderWith(queryClient, <Live />)
    await waitUntil(() => api.$connection.state === 'open' && feed.subscriberCount === 1, 'the subscription')
    feed.publish({ n: 1 })
    await waitUntil(() => shown === 1, 'the first event')
    sockets.drop()
    for (let n = 2; n <= 6; n++) feed.publish({ n }) // more than the history (2) keeps: 1 can no longer be resumed
    await waitUntil(() => onResync.mock.calls.length === 1, 'the resync')
    feed.publish({ n: 7 })
    await waitUntil(() => shown === 7, 'events after the resync')
    await sleep(50)
    expect(onResync).toHaveBeenCalledTimes(1)
    const [reason, client] = onResync.mock.calls[0]!
    expect(reason).toEqual({ type: 'resync', queryKey: options.queryKey, lastEventId: 'feed.1', reason: 'trimmed' })
    expect(client).toBe(queryClient)
    expect(queryClient.getQueryState(options.queryKey)?.isInvalidated).toBe(false) // onResync replaced the default
  })

  it('by default a resync keeps the live value, marks it stale, and invalidates the configured key once', async () => {
    const { wc, feed, sockets, queryClient, api, server } = await startTestApp({ history: 2 })
    let listCalls = 0
    const listOptions = wc.post.list.queryOptions(undefined, { staleTime: Infinity })
    const options = wc.feed.liveOptions(undefined, { invalidate: [wc.post.list.queryKey()] })
    const renders: (number | undefined)[] = []
    function Page() {
      const list = useQuery({ ...listOptions, queryFn: (context) => (listCalls++, (listOptions.queryFn as QueryFunction<Post[]>)(context)) })
      renders.push(useQuery(options).data?.n)
      return <p>{list.data?.length}</p>
    }
    renderWith(queryClient, <Page />)
    await waitUntil(() => api.$connection.state === 'open' && feed.subscriberCount === 1 && listCalls === 1, 'the list and the subscription')
    feed.publish({ n: 1 })
    await waitUntil(() => renders.at(-1) === 1, 'the first event')
    sockets.drop()
    for (let n = 2; n <= 6; n++) feed.publish({ n })
    await waitUntil(() => listCalls === 2, 'the list to be refetched')
    const state = queryClient.getQueryState(options.queryKey)!
    expect(state).toMatchObject({ isInvalidated: true, status: 'success', fetchStatus: 'fetching' })
    expect(state.data).toEqual({ n: 1 }) // kept, marked stale
    expect(queryClient.getQueryCache().find({ queryKey: options.queryKey })!.isStale()).toBe(true)

    feed.publish({ n: 7 })
    await waitUntil(() => renders.at(-1) === 7, 'the next event')
    expect(queryClient.getQueryState(options.queryKey)!.isInvalidated).toBe(false) // fresh again
    await sleep(50)
    expect(listCalls).toBe(2) // invalidated once
    expect(renders.slice(renders.indexOf(1))).not.toContain(undefined)
    expect(server.stats().subscriptions).toBe(1) // still the one subscription: no refetch of the live query
  })
})

describe('streamedOptions', () => {
  it('folds every event, keeps the newest maxItems, and after a resync starts again from initialValue', async () => {
    const { wc, feed, sockets, queryClient, api } = await startTestApp({ history: 2 })
    const options = countRuns(wc.feed.streamedOptions(undefined, { maxItems: 3 }))
    const values = cacheValues<Tick[]>(queryClient, options.queryKey)
    let shown: number[] | undefined
    function Stream() {
      shown = useQuery(options).data?.map((t) => t.n)
      return null
    }
    renderWith(queryClient, <Stream />)
    await waitUntil(() => api.$connection.state === 'open' && feed.subscriberCount === 1, 'the subscription')
    expect(shown).toEqual([]) // initialValue before the first event
    for (let n = 1; n <= 5; n++) feed.publish({ n })
    await waitUntil(() => shown?.at(-1) === 5, 'five events')
    expect(shown).toEqual([3, 4, 5])

    sockets.drop()
    for (let n = 6; n <= 9; n++) feed.publish({ n }) // past the history: resync
    await waitUntil(() => values.some((v) => v.length === 0 && values.indexOf(v) > 0), 'the reset to initialValue')
    feed.publish({ n: 10 })
    await waitUntil(() => shown?.at(-1) === 10, 'the events after the resync')
    expect(shown).toEqual([10])
    expect(options.runs()).toBe(1)
  })

  it('continues a snapshot: initialData with its lastEventId, no gap and no duplicate', async () => {
    const { wc, feed, queryClient, api } = await startTestApp()
    for (let n = 1; n <= 3; n++) feed.publish({ n }) // 1 and 2 are in the snapshot (server-rendered, say); 3 came after it
    const options = wc.feed.streamedOptions(undefined, { initialData: [{ n: 1 }, { n: 2 }], lastEventId: 'feed.2' })
    let shown: number[] | undefined
    function Stream() {
      shown = useQuery(options).data?.map((t) => t.n)
      return null
    }
    renderWith(queryClient, <Stream />)
    expect(shown).toEqual([1, 2]) // the snapshot, from the first render
    await waitUntil(() => api.$connection.state === 'open' && feed.subscriberCount === 1, 'the subscription')
    feed.publish({ n: 4 })
    await waitUntil(() => shown?.at(-1) === 4, 'the live event')
    expect(shown).toEqual([1, 2, 3, 4])
  })

  it('with a reducer and an initialValue folds into any shape', async () => {
    const { wc, feed, queryClient, api } = await startTestApp()
    const options = wc.feed.streamedOptions(undefined, { reducer: (sum: number, tick) => sum + tick.n, initialValue: 0 })
    let shown: number | undefined
    function Sum() {
      shown = useQuery(options).data
      return null
    }
    renderWith(queryClient, <Sum />)
    await waitUntil(() => api.$connection.state === 'open' && feed.subscriberCount === 1, 'the subscription')
    for (let n = 1; n <= 4; n++) feed.publish({ n })
    await waitUntil(() => shown === 10, 'the sum of 1..4')
  })
})

describe('one server subscription per mounted live query', () => {
  it('StrictMode: the server counts 1 subscription while mounted, and 0 within 1 s of unmount', async () => {
    const { wc, seen, queryClient, server, feed, sockets } = await startTestApp()
    function Live() {
      return <p>{useQuery(wc.feed.liveOptions()).data?.n}</p>
    }
    const view = renderWith(queryClient, <Live />, { strict: true })
    await waitUntil(() => server.stats().subscriptions === 1 && feed.subscriberCount === 1, 'the subscription')
    feed.publish({ n: 1 })
    await waitUntil(() => view.container.textContent === '1', 'the event')
    expect(seen.opened).toBe(1) // the double mount opened one, not two
    expect(server.stats().subscriptions).toBe(1)
    // The first mount's fetch was cancelled in the same task, before it subscribed: nothing of it went out.
    expect(sockets.sent.filter((frame) => frame.type === 'subscribe' || frame.type === 'unsubscribe')).toEqual([{ type: 'subscribe', id: expect.any(Number), path: 'feed' }])

    act(() => view.unmount())
    await waitUntil(() => server.stats().subscriptions === 0 && seen.open === 0, 'the server to end it', 1_000)
  })

  it('two components with the same live query share one subscription', async () => {
    const { wc, seen, queryClient, server, feed } = await startTestApp()
    function Live() {
      return <span>{useQuery(wc.feed.liveOptions()).data?.n}</span>
    }
    const view = renderWith(
      queryClient,
      <>
        <Live />
        <Live />
      </>,
    )
    await waitUntil(() => server.stats().subscriptions === 1, 'the subscription')
    feed.publish({ n: 4 })
    await waitUntil(() => view.container.textContent === '44', 'both to show the event')
    expect(seen.opened).toBe(1)
  })
})
