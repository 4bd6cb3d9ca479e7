// @vitest-environment node
import { dehydrate, QueryClientProvider, useQuery } from '@tanstack/react-query'
import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { createQueryUtils } from '@wirecall/tanstack-query'
import { useConnectionState, useSubscription } from '@wirecall/tanstack-query/react'
import { connectClient, sleep, startServer } from '../../helpers/harness'
import { testQueryClient, trackedSockets } from './react-harness'
import { createTestRouter, type TestRouter } from './router'

/**
 * Server-side rendering, in Node with no DOM (TanStack's `isServer`): live
 * and streamed options render their `initialData`, and nothing opens a
 * socket, neither rendering nor prefetching. The page's client is `lazy`, so
 * that creating it on the server connects nowhere either.
 */

describe('SSR', () => {
  it('live and streamed options render their initialData and open no socket', async () => {
    const test = createTestRouter()
    const { url, server } = await startServer({ router: test.router })
    const sockets = trackedSockets()
    const api = connectClient<TestRouter>(url, { WebSocket: sockets.WebSocket, lazy: true })
    const wc = createQueryUtils(api, { prefix: 'wc' })
    const queryClient = testQueryClient()

    function Page() {
      const live = useQuery(wc.feed.liveOptions(undefined, { initialData: { n: 41 } }))
      const streamed = useQuery(wc.feed.streamedOptions(undefined, { initialData: [{ n: 1 }, { n: 2 }], lastEventId: 'feed.2' }))
      const typing = useSubscription(wc.feed.subscriptionOptions())
      const state = useConnectionState(api)
      return (
        <p>
          live {live.data?.n} ({live.status}), streamed {streamed.data?.map((t) => t.n).join(',')}, subscription {typing.status}, connection {state}
        </p>
      )
    }
    const html = renderToString(
      <QueryClientProvider client={queryClient}>
        <Page />
      </QueryClientProvider>,
    )
    expect(html.replaceAll('<!-- -->', '')).toBe('<p>live 41 (success), streamed 1,2, subscription connecting, connection idle</p>')

    // Prefetching runs the query functions: on the server they give the initial data back, and subscribe to nothing.
    const prefetching = testQueryClient()
    await prefetching.prefetchQuery(wc.feed.liveOptions(undefined, { initialData: { n: 7 } }))
    await prefetching.prefetchQuery(wc.feed.streamedOptions(undefined, { initialValue: [{ n: 0 }] }))
    expect(prefetching.getQueryData(wc.feed.queryKey(undefined, 'live'))).toEqual({ n: 7 })
    expect(prefetching.getQueryData(wc.feed.queryKey(undefined, 'streamed'))).toEqual([{ n: 0 }])
    expect(dehydrate(prefetching).queries.map((q) => q.state.status)).toEqual(['success', 'success'])

    await sleep(50)
    expect(sockets.sockets).toHaveLength(0)
    expect(api.$connection.state).toBe('idle')
    expect(server.stats().connections).toBe(0)
    expect(test.seen.opened).toBe(0)
  })
})
