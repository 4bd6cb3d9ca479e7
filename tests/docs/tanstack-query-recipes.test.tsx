// @vitest-environment happy-dom
import {
  QueryClient,
  QueryClientProvider,
  QueryObserver,
  skipToken,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query'
import { act, fireEvent, render, screen } from '@testing-library/react'
import { useState } from 'react'
import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { z } from 'zod'
import { createChannel, initRpc } from '@wirecall/server'
import { createQueryUtils, queryKeyHashFn } from '@wirecall/tanstack-query'
import { useConnectionState, useSubscription } from '@wirecall/tanstack-query/react'
import { connectClient, startServer, waitUntil } from '../helpers/harness'
import { trackedSockets } from '../integration/tanstack-query/react-harness'
import { snippetLinesNotRun } from './snippet-lines'

/**
 * Runs the recipes of docs/tanstack-query.md for real: its router on a
 * server on 127.0.0.1, its components rendered with React 19 in a DOM
 * (happy-dom), each checked to do what the guide says. The guide's code is
 * copied here line for line (the client's URL aside, which the harness
 * gives); the last test fails when a line of the guide is no longer here
 * or in tanstack-query-ssr-recipe.test.tsx, so the two cannot drift.
 */

interface Post {
  id: string
  title: string
}
interface Message {
  id: number
  text: string
  at: Date
}

/** server/router.ts */
function docServer() {
  const rpc = initRpc.create()
  const posts: Post[] = []
  let sent = 0
  const prices = createChannel<{ symbol: string; price: number }>({ history: 1 })
  const messages = createChannel<Message>({ history: 1_000 })
  const typing = createChannel<string[]>()

  const appRouter = rpc.router({
    post: {
      list: rpc.procedure.query(() => [...posts]),
      byId: rpc.procedure.input(z.object({ id: z.string() })).query(({ input }) => posts.find((p) => p.id === input.id) ?? null),
      add: rpc.procedure.input(z.object({ title: z.string().min(1) })).mutation(({ input }) => {
        const post = { id: String(posts.length + 1), title: input.title }
        posts.push(post)
        return post
      }),
    },
    balance: rpc.procedure.input(z.object({ account: z.bigint() })).query(({ input }) => input.account * 100n),
    prices: rpc.procedure
      .input(z.object({ symbol: z.string() }))
      .subscription(({ input, lastEventId, signal }) => prices.topic(input.symbol).subscribe({ lastEventId, signal })),
    chat: {
      send: rpc.procedure
        .input(z.object({ room: z.string(), text: z.string().min(1) }))
        .mutation(({ input }) => messages.topic(input.room).publish({ id: ++sent, text: input.text, at: new Date() })),
      messages: rpc.procedure
        .input(z.object({ room: z.string() }))
        .subscription(({ input, lastEventId, signal }) => messages.topic(input.room).subscribe({ lastEventId, signal })),
      typing: rpc.procedure.input(z.object({ room: z.string() })).subscription(({ input, signal }) => typing.topic(input.room).subscribe({ signal })),
    },
  })
  return { appRouter, prices, messages, typing, posts }
}

type AppRouter = ReturnType<typeof docServer>['appRouter']

/** client.ts and every component of the guide, for a server at `url`. */
function docApp(url: string) {
  const sockets = trackedSockets()
  const api = connectClient<AppRouter>(url, {
    lazy: typeof window === 'undefined', // server-side rendering: no socket unless something is used
    WebSocket: sockets.WebSocket,
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
  })
  const wc = createQueryUtils(api, { prefix: 'wc' })
  const queryClient = new QueryClient({ defaultOptions: { queries: { queryKeyHashFn } } })
  onTestFinished(() => queryClient.clear())

  function Post({ id }: { id: string }) {
    const post = useQuery(wc.post.byId.queryOptions({ id }))
    if (post.isPending) return <p>Loading…</p>
    if (post.isError) return <p>Failed: {post.error.code}</p>
    return <h1>{post.data?.title ?? 'No such post'}</h1>
  }

  function FindPost() {
    const [id, setId] = useState('')
    const post = useQuery(wc.post.byId.queryOptions(id === '' ? skipToken : { id }))
    return (
      <label>
        Post id <input value={id} onChange={(e) => setId(e.target.value)} />
        <output>{post.data?.title ?? ''}</output>
      </label>
    )
  }

  function NewPost() {
    const queryClient = useQueryClient()
    const add = useMutation(
      wc.post.add.mutationOptions({
        idempotent: true,
        onSuccess: () => queryClient.invalidateQueries({ queryKey: wc.post.list.queryKey() }),
      }),
    )
    return (
      <button disabled={add.isPending} onClick={() => add.mutate({ title: 'Hello' })}>
        Add a post
      </button>
    )
  }

  function Posts() {
    const posts = useQuery(wc.post.list.queryOptions())
    return <ul>{posts.data?.map((post) => <li key={post.id}>{post.title}</li>)}</ul>
  }

  function Price({ symbol }: { symbol: string }) {
    const price = useQuery(wc.prices.liveOptions({ symbol }))
    return <span>{price.data === undefined ? '…' : price.data.price.toFixed(2)}</span>
  }

  function Messages({ room }: { room: string }) {
    const messages = useQuery(wc.chat.messages.streamedOptions({ room }, { maxItems: 500 }))
    return <ol>{messages.data?.map((m) => <li key={m.id}>{m.text}</li>)}</ol>
  }

  function Unread({ room }: { room: string }) {
    const unread = useQuery(wc.chat.messages.streamedOptions({ room }, { reducer: (count: number) => count + 1, initialValue: 0 }))
    return <b>{unread.data}</b>
  }

  function PriceBoard() {
    const acme = useQuery(wc.prices.liveOptions({ symbol: 'ACME' }, { invalidate: [wc.post.list.queryKey()] }))
    return <p className={acme.isStale ? 'stale' : 'fresh'}>{acme.data?.price}</p>
  }

  function Feed({ room }: { room: string }) {
    const [missed, setMissed] = useState(0)
    const messages = useQuery(
      wc.chat.messages.streamedOptions(
        { room },
        {
          onResync: (reason, queryClient) => {
            setMissed((n) => n + 1)
            void queryClient.invalidateQueries({ queryKey: reason.queryKey })
          },
        },
      ),
    )
    return <p>{missed > 0 ? `Reloaded ${missed} time(s)` : `${messages.data?.length ?? 0} messages`}</p>
  }

  function Typing({ room }: { room: string }) {
    const typing = useSubscription(wc.chat.typing.subscriptionOptions({ room }, { onStatusChange: (status) => console.info('typing:', status) }))
    if (typing.status === 'error') return <button onClick={typing.reset}>{typing.error?.code}: retry</button>
    if (typing.status !== 'live') return <small>{typing.status}…</small>
    return <small>{typing.data?.length ? `${typing.data.join(', ')} typing…` : ''}</small>
  }

  function Badge() {
    const state = useConnectionState(api)
    return <span className={`badge ${state}`}>{state}</span>
  }

  function App() {
    return (
      <main>
        <Badge />
        <Price symbol="ACME" />
        <Posts />
        <NewPost />
        <FindPost />
        <Messages room="general" />
        <Typing room="general" />
      </main>
    )
  }

  function LivePrice({ symbol, price }: { symbol: string; price: number }) {
    const live = useQuery(wc.prices.liveOptions({ symbol }, { initialData: { symbol, price } }))
    return <span>{live.data.price.toFixed(2)}</span>
  }

  const roomOptions = (room: string, history: Message[], lastEventId: string) =>
    wc.chat.messages.streamedOptions({ room }, { initialData: history, lastEventId })

  const refreshPost = (id: string) => queryClient.invalidateQueries({ queryKey: wc.post.byId.queryKey({ id }) }) // one post
  const refreshPosts = () => queryClient.invalidateQueries({ queryKey: wc.post.key() }) // every post query, any input
  const refreshAll = () => queryClient.invalidateQueries({ queryKey: wc.key() }) // everything of this client

  const cachedBalance = (account: bigint) => queryClient.getQueryData(wc.balance.queryKey({ account }))
  const loadBalance = (account: bigint) => queryClient.fetchQuery(wc.balance.queryOptions({ account }))

  function watchPrice(symbol: string, show: (price: number) => void): () => void {
    const observer = new QueryObserver(queryClient, wc.prices.liveOptions({ symbol }))
    return observer.subscribe((result) => {
      if (result.data !== undefined) show(result.data.price)
    })
  }

  /** Renders `ui` as main.tsx renders <App />; unmounted after the test. */
  function show(ui: React.ReactNode) {
    const view = render(<QueryClientProvider client={queryClient}>{ui}</QueryClientProvider>)
    onTestFinished(() => act(() => view.unmount()))
    return view
  }
  const mainTsx = () =>
    render(
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>,
    )

  return {
    api,
    wc,
    queryClient,
    sockets,
    show,
    mainTsx,
    components: { Post, FindPost, NewPost, Posts, Price, Messages, Unread, PriceBoard, Feed, Typing, Badge, LivePrice },
    roomOptions,
    refreshPost,
    refreshPosts,
    refreshAll,
    cachedBalance,
    loadBalance,
    watchPrice,
  }
}

async function setup() {
  const server = docServer()
  const { url } = await startServer({ router: server.appRouter })
  const app = docApp(url)
  await waitUntil(() => app.api.$connection.state === 'open', 'the connection')
  return { ...server, ...app }
}

// React's act() warnings are for updates a test forgets to await; here they come from the network on purpose.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false

const text = (container: HTMLElement) => container.textContent ?? ''

describe('guide: set up', () => {
  it('main.tsx renders the App of the guide: every part of it works on one connection', async () => {
    const { mainTsx, prices, typing, api, posts } = await setup()
    posts.push({ id: '1', title: 'First' })
    const view = mainTsx()
    onTestFinished(() => act(() => view.unmount()))
    await waitUntil(() => text(view.container).includes('First'), 'the posts')
    prices.topic('ACME').publish({ symbol: 'ACME', price: 12.5 })
    typing.topic('general').publish(['bob'])
    await waitUntil(() => text(view.container).includes('12.50') && text(view.container).includes('bob typing…'), 'the live parts')
    expect(view.container.querySelector('.badge')!.textContent).toBe('open')
    await act(() => api.chat.send.mutate({ room: 'general', text: 'hi all' }))
    await waitUntil(() => view.container.querySelector('ol')!.textContent === 'hi all', 'the message')
  })
})

describe('recipe: load a post, and cancel it when the user leaves', () => {
  it('shows the title, or says there is none', async () => {
    const { show, components, posts } = await setup()
    posts.push({ id: '1', title: 'Hello, world' })
    const { Post } = components
    const view = show(
      <>
        <Post id="1" />
        <Post id="2" />
      </>,
    )
    expect(text(view.container)).toBe('Loading…Loading…')
    await waitUntil(() => text(view.container) === 'Hello, worldNo such post', 'both answers')
  })
})

describe('recipe: wait for an input before querying', () => {
  it('makes no call until there is an id, then shows the post', async () => {
    const { show, components, posts, sockets } = await setup()
    posts.push({ id: '7', title: 'Seven' })
    const view = show(<components.FindPost />)
    expect(sockets.sent.filter((f) => f.type === 'call')).toEqual([])
    fireEvent.change(view.container.querySelector('input')!, { target: { value: '7' } })
    await waitUntil(() => view.container.querySelector('output')!.textContent === 'Seven', 'the post')
    expect(sockets.sent.filter((f) => f.type === 'call')).toHaveLength(1)
  })
})

describe('recipe: add a post, safely retried, and refresh the list', () => {
  it('adds with an idempotency key per click, and the list refetches', async () => {
    const { show, components, sockets } = await setup()
    const view = show(
      <>
        <components.NewPost />
        <components.Posts />
      </>,
    )
    await waitUntil(() => sockets.sent.some((f) => f.path === 'post.list'), 'the list')
    fireEvent.click(screen.getByText('Add a post'))
    await waitUntil(() => view.container.querySelectorAll('li').length === 1, 'the new post in the list')
    fireEvent.click(screen.getByText('Add a post'))
    await waitUntil(() => view.container.querySelectorAll('li').length === 2, 'the second')
    const keys = sockets.sent.filter((f) => f.path === 'post.add').map((f) => f.idempotencyKey)
    expect(keys).toHaveLength(2)
    expect(new Set(keys).size).toBe(2)
    expect(keys.every((key) => typeof key === 'string')).toBe(true)
  })
})

describe('recipe: show a live price that survives reconnects', () => {
  it('shows each new price; a dropped connection resets nothing and refetches nothing', async () => {
    const { show, components, prices, sockets, queryClient, wc, api } = await setup()
    const view = show(<components.Price symbol="ACME" />)
    expect(text(view.container)).toBe('…')
    await waitUntil(() => prices.topic('ACME').subscriberCount === 1, 'the subscription')
    prices.topic('ACME').publish({ symbol: 'ACME', price: 10 })
    await waitUntil(() => text(view.container) === '10.00', 'the price')
    sockets.refuse(true) // the client stays away until the test lets it back
    sockets.drop()
    await waitUntil(() => api.$connection.state === 'reconnecting' && prices.topic('ACME').subscriberCount === 0, 'both ends to notice')
    expect(text(view.container)).toBe('10.00')
    sockets.refuse(false)
    await waitUntil(() => api.$connection.state === 'open' && prices.topic('ACME').subscriberCount === 1, 'the resubscribe')
    prices.topic('ACME').publish({ symbol: 'ACME', price: 11 })
    await waitUntil(() => text(view.container) === '11.00', 'the next price')
    expect(queryClient.getQueryState(wc.prices.queryKey({ symbol: 'ACME' }, 'live'))).toMatchObject({ status: 'success', fetchStatus: 'fetching', fetchFailureCount: 0 })
  })
})

describe('recipe: keep the last 500 messages of a chat room', () => {
  it('keeps the newest 500, and catches up after a drop with each message once, in order', async () => {
    const { show, components, messages, api, sockets } = await setup()
    const view = show(<components.Messages room="general" />)
    await waitUntil(() => messages.topic('general').subscriberCount === 1, 'the subscription')
    for (let i = 1; i <= 502; i++) messages.topic('general').publish({ id: i, text: `m${i}`, at: new Date() })
    await waitUntil(() => view.container.querySelector('li:last-child')?.textContent === 'm502', 'the messages')
    const items = () => Array.from(view.container.querySelectorAll('li'), (li) => li.textContent)
    expect(items()).toHaveLength(500)
    expect(items()[0]).toBe('m3')
    sockets.refuse(true)
    sockets.drop()
    await waitUntil(() => api.$connection.state === 'reconnecting' && messages.topic('general').subscriberCount === 0, 'both ends to notice')
    messages.topic('general').publish({ id: 503, text: 'm503', at: new Date() }) // while away
    sockets.refuse(false)
    await waitUntil(() => api.$connection.state === 'open' && messages.topic('general').subscriberCount === 1, 'the reconnect')
    await api.chat.send.mutate({ room: 'general', text: 'm504' })
    await waitUntil(() => items().at(-1) === 'm504', 'the catch-up')
    expect(items().slice(-3)).toEqual(['m502', 'm503', 'm504'])
    expect(items()).toHaveLength(500)
  })
})

describe('recipe: count events instead of keeping them', () => {
  it('folds each message into a count', async () => {
    const { show, components, api, messages } = await setup()
    const view = show(<components.Unread room="general" />)
    await waitUntil(() => messages.topic('general').subscriberCount === 1, 'the subscription')
    expect(text(view.container)).toBe('0')
    for (const message of ['a', 'b', 'c']) await api.chat.send.mutate({ room: 'general', text: message })
    await waitUntil(() => text(view.container) === '3', 'a count of 3')
  })
})

describe('recipe: reload what a feed patches when events were missed', () => {
  it('by default: keeps the price, marks it stale, refetches the configured key; fresh again with the next price', async () => {
    const { show, components, prices, sockets, queryClient, wc, api } = await setup()
    const view = show(
      <>
        <components.PriceBoard />
        <components.Posts />
      </>,
    )
    const listFetches = () => queryClient.getQueryState(wc.post.list.queryKey())?.dataUpdateCount ?? 0
    await waitUntil(() => prices.topic('ACME').subscriberCount === 1 && listFetches() === 1, 'the subscription and the list')
    prices.topic('ACME').publish({ symbol: 'ACME', price: 1 })
    await waitUntil(() => view.container.querySelector('p')?.textContent === '1', 'the first price')
    expect(view.container.querySelector('p')!.className).toBe('fresh')
    sockets.drop()
    prices.topic('ACME').publish({ symbol: 'ACME', price: 2 })
    prices.topic('ACME').publish({ symbol: 'ACME', price: 3 }) // history is 1: price 2 is gone, a resync follows
    await waitUntil(() => listFetches() === 2, 'the list refetched')
    await waitUntil(() => view.container.querySelector('p')!.className === 'stale', 'the price marked stale')
    expect(view.container.querySelector('p')!.textContent).toBe('1') // kept
    await waitUntil(() => api.$connection.state === 'open', 'the reconnect')
    prices.topic('ACME').publish({ symbol: 'ACME', price: 4 })
    await waitUntil(() => view.container.querySelector('p')!.textContent === '4', 'the next price')
    expect(view.container.querySelector('p')!.className).toBe('fresh')
  })

  it('onResync replaces the default: here it counts, and starts the feed over', async () => {
    const { show, components, messages, sockets, api } = await setup()
    const view = show(<components.Feed room="general" />)
    await waitUntil(() => messages.topic('general').subscriberCount === 1, 'the subscription')
    await api.chat.send.mutate({ room: 'general', text: 'first' })
    await waitUntil(() => text(view.container) === '1 messages', 'one message')
    sockets.drop()
    for (let i = 0; i < 1_001; i++) messages.topic('general').publish({ id: 1_000 + i, text: 'x', at: new Date() }) // more than the history
    await waitUntil(() => text(view.container) === 'Reloaded 1 time(s)', 'the resync')
    await waitUntil(() => messages.topic('general').subscriberCount === 1 && api.$connection.state === 'open', 'the feed started over')
  })
})

describe('recipe: show who is typing, without caching it', () => {
  it('shows the status until live, then who is typing; an ended subscription offers a retry', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {})
    onTestFinished(() => info.mockRestore())
    const { show, components, typing, api } = await setup()
    const view = show(<components.Typing room="general" />)
    expect(text(view.container)).toBe('connecting…')
    await waitUntil(() => text(view.container) === '', 'live, nobody typing')
    typing.topic('general').publish(['ada', 'bob'])
    await waitUntil(() => text(view.container) === 'ada, bob typing…', 'who is typing')
    await act(() => api.$connection.close())
    await waitUntil(() => text(view.container) === 'CANCELLED: retry', 'the error and its retry button')
    expect(info.mock.calls.map((call) => call[1])).toEqual(['connecting', 'live', 'error'])
  })
})

describe('recipe: show the connection state', () => {
  it('the badge follows the client', async () => {
    const { show, components, sockets, api } = await setup()
    const view = show(<components.Badge />)
    expect(text(view.container)).toBe('open')
    sockets.refuse(true)
    sockets.drop()
    await waitUntil(() => text(view.container) === 'reconnecting', 'the drop')
    sockets.refuse(false)
    await waitUntil(() => text(view.container) === 'open', 'open again')
    await act(() => api.$connection.close())
    expect(view.container.querySelector('.badge')!.className).toBe('badge closed')
  })
})

describe('recipe: render on the server (in the browser)', () => {
  it('LivePrice shows the rendered price, then the live ones', async () => {
    const { show, components, prices } = await setup()
    const view = show(<components.LivePrice symbol="ACME" price={9.5} />)
    expect(text(view.container)).toBe('9.50')
    await waitUntil(() => prices.topic('ACME').subscriberCount === 1, 'the subscription')
    prices.topic('ACME').publish({ symbol: 'ACME', price: 9.75 })
    await waitUntil(() => text(view.container) === '9.75', 'the next price')
  })

  it('a list rendered on the server resumes after its newest event: no gap, nothing twice', async () => {
    const { queryClient, roomOptions, messages, api } = await setup()
    const room = messages.topic('a')
    const history = [1, 2].map((id) => ({ id, text: `m${id}`, at: new Date() }))
    for (const message of history) room.publish(message)
    const lastEventId = room.lastEventId!
    room.publish({ id: 3, text: 'm3', at: new Date() }) // after the snapshot
    const observer = new QueryObserver(queryClient, roomOptions('a', history, lastEventId))
    const seen: number[][] = []
    const stop = observer.subscribe((result) => seen.push((result.data ?? []).map((m) => m.id)))
    onTestFinished(stop)
    await waitUntil(() => room.subscriberCount === 1 && api.$connection.state === 'open', 'the subscription')
    room.publish({ id: 4, text: 'm4', at: new Date() })
    await waitUntil(() => seen.at(-1)?.at(-1) === 4, 'the live message')
    expect(seen.at(-1)).toEqual([1, 2, 3, 4])
  })
})

describe('recipe: invalidate everything under a path', () => {
  it('one post, every post query, everything of the client', async () => {
    const { queryClient, wc, posts, refreshPost, refreshPosts, refreshAll } = await setup()
    posts.push({ id: '1', title: 'a' }, { id: '2', title: 'b' })
    await Promise.all([
      queryClient.fetchQuery(wc.post.byId.queryOptions({ id: '1' })),
      queryClient.fetchQuery(wc.post.byId.queryOptions({ id: '2' })),
      queryClient.fetchQuery(wc.post.list.queryOptions()),
      queryClient.fetchQuery(wc.balance.queryOptions({ account: 1n })),
    ])
    const invalidated = () =>
      queryClient
        .getQueryCache()
        .getAll()
        .filter((q) => q.state.isInvalidated)
        .map((q) => q.queryKey.slice(1, -1).join('.') + (q.queryKey.length > 3 ? ` ${JSON.stringify(q.queryKey.at(-1), (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}` : ''))
    await refreshPost('1')
    expect(invalidated()).toEqual(['post.byId {"input":{"id":"1"},"type":"query"}'])
    await refreshPosts()
    expect(invalidated()).toHaveLength(3)
    await refreshAll()
    expect(invalidated()).toHaveLength(4)
  })
})

describe('recipe: use a BigInt, Map or Set in an input', () => {
  it('each account gets its own entry, and getQueryData finds it by key', async () => {
    const { queryClient, cachedBalance, loadBalance } = await setup()
    expect(await loadBalance(1n)).toBe(100n)
    expect(await loadBalance(2n)).toBe(200n)
    expect(cachedBalance(1n)).toBe(100n)
    expect(cachedBalance(2n)).toBe(200n)
    expect(cachedBalance(3n)).toBeUndefined()
    expect(queryClient.getQueryCache().getAll()).toHaveLength(2)
  })
})

describe('recipe: use it without React', () => {
  it('a QueryObserver takes the same options', async () => {
    const { watchPrice, prices } = await setup()
    const shown: number[] = []
    const stop = watchPrice('ACME', (price) => shown.push(price))
    onTestFinished(stop)
    await waitUntil(() => prices.topic('ACME').subscriberCount === 1, 'the subscription')
    prices.topic('ACME').publish({ symbol: 'ACME', price: 3 })
    await waitUntil(() => shown.at(-1) === 3, 'the price')
    stop()
    await waitUntil(() => prices.topic('ACME').subscriberCount === 0, 'the unsubscribe')
  })
})

describe('the guide and this file', () => {
  const notRunHere = [
    /\bcreateRpcClient</, // connectClient(url) in the tests
    /^url: 'ws:\/\/localhost:3000\/rpc',$/,
    /^createRoot\(document\.getElementById\('root'\)!\)\.render\($/, // main.tsx: render() in the tests
    /^type AppRouter = typeof appRouter$/,
  ]

  it('every line of every TypeScript snippet runs in this file or in the SSR recipe test', () => {
    const { snippets, missing } = snippetLinesNotRun('docs/tanstack-query.md', ['tanstack-query-recipes.test.tsx', 'tanstack-query-ssr-recipe.test.tsx'], notRunHere)
    expect(snippets).toBeGreaterThan(15)
    expect(missing).toEqual([])
  })
})
