// A front end in another repository: it has the generated api.d.ts beside
// this file, @wirecall/client and TypeScript, and nothing of the server.
// consumer.test.ts copies this file next to a freshly generated api.d.ts in
// a package outside the workspace and compiles it under strict,
// exactOptionalPropertyTypes and noUncheckedIndexedAccess. tsc reports an
// unused `@ts-expect-error`, so a clean compile proves that each one below
// fires. This file is excluded from the repository's own typecheck: its
// `./api.js` exists only in that package.
import { createRpcClient, isResync, isRpcError, type RpcClient } from '@wirecall/client'
import type { AppApi } from './api.js'

/** `true` only for `any`: the generated types must never collapse to it. */
type IsAny<T> = 0 extends 1 & T ? true : false
type Status = 'pending' | 'paid' | 'shipped'

export const api: RpcClient<AppApi> = createRpcClient<AppApi>({
  url: 'wss://shop.example/rpc',
  lazy: true,
  connectionParams: async () => ({ token: 'secret' }),
})

declare function reload(): void

export async function browse(signal: AbortSignal): Promise<number> {
  const health = await api.system.health.query()
  const startedAt: Date = health.startedAt
  const ok: true = health.ok
  const healthNotAny: IsAny<typeof health> = false

  const product = await api.catalog.products.get.query({ id: '0b6a5c3e-6f59-4a8e-9c55-0f3c7a1e2d4b' }, { signal, timeoutMs: 5_000 })
  const productNotAny: IsAny<typeof product> = false
  const price: bigint = product.priceCents
  const tags: Set<string> = product.tags
  const pages: string | undefined = product.attributes.get('pages')
  const host: string = product.homepage.host
  const year: number = product.createdAt.getFullYear()
  const description: string | undefined = product.description
  const category: 'books' | 'games' | 'music' = product.category

  const everything = await api.catalog.products.list.query()
  const books = await api.catalog.products.list.query({ category: 'books', createdAfter: new Date(0), limit: 10 })
  const firstBook = books[0]
  const firstName: string | undefined = firstBook?.name

  const found = await api.catalog.products.search.query({ text: 'book', tags: new Set(['new']) })
  const pattern: RegExp = found.pattern
  const total: bigint = found.total

  const tree = await api.catalog.categories.query()
  const count = (node: typeof tree): number => 1 + node.children.reduce((sum, child) => sum + count(child), 0)
  const slugs: string[] = tree.children.map((child) => child.slug)

  // An idempotent mutation: the client sends a key (its own here) and may retry it.
  const order = await api.orders.place.mutate(
    { productId: product.id, quantity: 2, giftNote: 'for Ada', deliverAfter: new Date(86_400_000) },
    { idempotencyKey: 'form-42', timeoutMs: 10_000, signal },
  )
  const orderNotAny: IsAny<typeof order> = false
  const orderTotal: bigint = order.totalCents
  const status: Status = order.status
  const lines: Map<string, number> = order.lines
  // A plain mutation the caller marks safe to re-send.
  const cancelled = await api.orders.cancel.mutate({ orderId: order.orderId }, { idempotent: true })
  const cancelledAt: Date = cancelled.cancelledAt
  await api.session.touch.mutate()

  // Handler form, with resume from an earlier event.
  const watching = api.orders.watch.subscribe(
    { orderId: order.orderId },
    {
      lastEventId: 'o-1:1',
      signal,
      onStarted: ({ resumed }) => resumed || reload(),
      onData: (event) => {
        const at: Date = event.at
        const now: Status = event.status
        void [at, now]
      },
      onError: (error) => console.error(error.code, error.message),
      onComplete: () => console.log('delivered'),
    },
  )
  const resumeFrom: string | undefined = watching.lastEventId
  watching.unsubscribe()

  // A subscription that can resync: the handler form gets onResync...
  const prices = api.catalog.prices.subscribe({ productIds: [product.id] }, { onData: (tick) => console.log(tick.priceCents + 1n), onResync: reload })
  prices.unsubscribe()
  // ...the iterator form gets the signal in the stream.
  for await (const tick of api.catalog.prices.subscribe({ productIds: [product.id] }, { signal })) {
    if (isResync(tick)) {
      reload()
      continue
    }
    const latest: bigint = tick.priceCents
    const tickAt: Date = tick.at
    void [latest, tickAt]
    break
  }
  for await (const now of api.system.clock.subscribe()) {
    const ms: number = now.getTime()
    void ms
    break
  }

  api.$connection.on('resync', ({ path }) => console.log('resync', path))
  const state: 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed' = api.$connection.state

  try {
    await api.orders.place.mutate({ productId: product.id, quantity: 1 })
  } catch (error) {
    if (isRpcError(error) && error.code === 'CONFLICT') reload()
  }

  // ---- What the compiler must refuse ----------------------------------------

  // @ts-expect-error wrong input type: id is a string
  await api.catalog.products.get.query({ id: 42 })
  // @ts-expect-error missing field: id
  await api.catalog.products.get.query({})
  // @ts-expect-error missing input
  await api.catalog.products.get.query()
  // @ts-expect-error unknown input field
  await api.catalog.products.get.query({ id: 'x', include: 'reviews' })
  // @ts-expect-error a category outside the enum
  await api.catalog.products.list.query({ category: 'films' })
  // @ts-expect-error limit is a number
  await api.catalog.products.list.query({ limit: '10' })
  // @ts-expect-error a procedure without input takes none
  await api.system.health.query({ verbose: true })
  // @ts-expect-error missing field: quantity
  await api.orders.place.mutate({ productId: product.id })
  // @ts-expect-error deliverAfter is a Date, not a string
  await api.orders.place.mutate({ productId: product.id, quantity: 1, deliverAfter: '2027-01-01' })
  // @ts-expect-error tags is a Set
  await api.catalog.products.search.query({ text: 'b', tags: ['new'] })
  // @ts-expect-error wrong output use: name is a string
  const wrongName: number = product.name
  // @ts-expect-error a bigint has no toFixed
  product.priceCents.toFixed(2)
  // @ts-expect-error a Set has no push
  product.tags.push('sale')
  // @ts-expect-error a URL is not a string
  product.homepage.startsWith('https')
  // @ts-expect-error description is optional
  const sure: string = product.description
  // @ts-expect-error noUncheckedIndexedAccess: there may be no first product
  const firstId: string = everything[0].id
  // @ts-expect-error the enum became a union of its values, and this is none of them
  if (order.status === 'lost') reload()
  // @ts-expect-error a mutation that returns nothing
  const touched: string = await api.session.touch.mutate()
  // @ts-expect-error a child of the recursive tree is a node, not a string
  const childName: string = tree.children[0]?.children
  // @ts-expect-error query on a subscription path
  await api.orders.watch.query({ orderId: 'o-1' })
  // @ts-expect-error mutate on a query
  await api.catalog.products.get.mutate({ id: 'x' })
  // @ts-expect-error query on a mutation
  await api.orders.place.query({ productId: 'x', quantity: 1 })
  // @ts-expect-error subscribe on a query
  api.catalog.categories.subscribe(undefined, { onData: () => {} })
  // @ts-expect-error unknown path
  await api.catalog.products.remove.mutate({ id: 'x' })
  // @ts-expect-error unknown namespace
  await api.admin.users.query()
  // @ts-expect-error a namespace is not a procedure
  await api.catalog.query()
  // @ts-expect-error idempotency options on a query
  await api.catalog.products.get.query({ id: 'x' }, { idempotencyKey: 'k' })
  // @ts-expect-error timeoutMs is a number of milliseconds
  await api.catalog.products.get.query({ id: 'x' }, { timeoutMs: '5s' })
  // @ts-expect-error an idempotency key is a string
  await api.orders.place.mutate({ productId: 'x', quantity: 1 }, { idempotencyKey: 42 })
  // @ts-expect-error wrong onData parameter: events are order events
  api.orders.watch.subscribe({ orderId: 'o-1' }, { onData: (event: string) => console.log(event) })
  // @ts-expect-error an event's status is one of three
  api.orders.watch.subscribe({ orderId: 'o-1' }, { onData: (event) => event.status === 'lost' && reload() })
  // @ts-expect-error lastEventId is a string
  api.orders.watch.subscribe({ orderId: 'o-1' }, { lastEventId: 7, onData: () => {} })
  // @ts-expect-error productIds is an array
  api.catalog.prices.subscribe({ productIds: 'p-1' }, { onData: () => {} })
  // @ts-expect-error the iterator form yields resync signals too: check isResync first
  for await (const tick of api.catalog.prices.subscribe({ productIds: ['p-1'] })) console.log(tick.priceCents)
  // @ts-expect-error the clock's events are Dates
  api.system.clock.subscribe(undefined, { onData: (now: string) => console.log(now) })
  // @ts-expect-error the handle's lastEventId may be undefined
  console.log(watching.lastEventId.length)
  // @ts-expect-error no such connection state
  if (api.$connection.state === 'connected') reload()

  void [startedAt, ok, healthNotAny, productNotAny, price, tags, pages, host, year, description, category, firstName, pattern, total, slugs]
  void [orderNotAny, orderTotal, lines, cancelledAt, resumeFrom, state, wrongName, sure, firstId, touched, childName]
  return count(tree) + books.length
}
