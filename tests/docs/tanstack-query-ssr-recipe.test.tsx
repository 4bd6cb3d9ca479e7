// @vitest-environment node
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query'
import { renderToString } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { createChannel, initRpc } from '@wirecall/server'
import { createQueryUtils } from '@wirecall/tanstack-query'
import { z } from 'zod'
import { connectClient, sleep, startServer } from '../helpers/harness'

/**
 * The server-rendering recipe of docs/tanstack-query.md, in Node with no
 * DOM, as a server renders: `renderPrice` renders the price it is given,
 * and nothing connects (the guide's client is `lazy` where there is no
 * `window`). The guide's lines are checked against this file and
 * tanstack-query-recipes.test.tsx there.
 */

function priceServer() {
  const rpc = initRpc.create()
  const prices = createChannel<{ symbol: string; price: number }>({ history: 1 })
  const appRouter = rpc.router({
    prices: rpc.procedure
      .input(z.object({ symbol: z.string() }))
      .subscription(({ input, lastEventId, signal }) => prices.topic(input.symbol).subscribe({ lastEventId, signal })),
  })
  return { appRouter, prices }
}

describe('recipe: render on the server', () => {
  it('renders the given price, and opens no socket', async () => {
    const { appRouter } = priceServer()
    const { url, server } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url, {
      lazy: typeof window === 'undefined', // server-side rendering: no socket unless something is used
    })
    const wc = createQueryUtils(api, { prefix: 'wc' })

    function LivePrice({ symbol, price }: { symbol: string; price: number }) {
      const live = useQuery(wc.prices.liveOptions({ symbol }, { initialData: { symbol, price } }))
      return <span>{live.data.price.toFixed(2)}</span>
    }

    function renderPrice(symbol: string, price: number): string {
      return renderToString(
        <QueryClientProvider client={new QueryClient()}>
          <LivePrice symbol={symbol} price={price} />
        </QueryClientProvider>,
      )
    }

    expect(renderPrice('ACME', 12.345)).toBe('<span>12.35</span>')
    // Prefetching runs the query function: on the server it gives the initial data back, and subscribes to nothing.
    const queryClient = new QueryClient()
    await queryClient.prefetchQuery(wc.prices.liveOptions({ symbol: 'ACME' }, { initialData: { symbol: 'ACME', price: 1 } }))
    expect(queryClient.getQueryData(wc.prices.queryKey({ symbol: 'ACME' }, 'live'))).toEqual({ symbol: 'ACME', price: 1 })
    queryClient.clear()

    await sleep(30)
    expect(api.$connection.state).toBe('idle')
    expect(server.stats().connections).toBe(0)
  })
})
