import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { createChannel, initRpc, resync, tracked, type ResyncSignal, type inferRouterOutputs } from '@wirecall/core'
import { createRpcClient, type Subscription, type SubscriptionHandlers, type SubscriptionIterable } from '@wirecall/client'

const rpc = initRpc.create()
const channel = createChannel<{ text: string }>({ history: 10 })
const router = rpc.router({
  ticks: rpc.procedure.input(z.object({ every: z.number() })).subscription(async function* ({ input, lastEventId }) {
    expectTypeOf(lastEventId).toEqualTypeOf<string | undefined>()
    yield tracked('1', { n: input.every, at: new Date() })
  }),
  plain: rpc.procedure.subscription(async function* () {
    yield 1
    yield 2
  }),
  feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
  manual: rpc.procedure.subscription(async function* () {
    yield resync()
    yield tracked('a', 'text')
  }),
  checked: rpc.procedure.output(z.object({ ok: z.boolean() })).subscription(async function* () {
    yield { ok: true }
    yield tracked('x', { ok: false })
  }),
  greet: rpc.procedure.query(() => 'hi'),
  save: rpc.procedure.mutation(() => true),
})
type AppRouter = typeof router
declare const api: ReturnType<typeof createRpcClient<AppRouter>>

describe('subscription types', () => {
  it('infers the data inside tracked(), not the wrapper', () => {
    api.ticks.subscribe({ every: 1 }, {
      onData: (t) => {
        expectTypeOf(t).toEqualTypeOf<{ n: number; at: Date }>()
        expectTypeOf(t.at).not.toBeAny()
      },
    })
    expectTypeOf(api.ticks.subscribe({ every: 1 })).toEqualTypeOf<SubscriptionIterable<{ n: number; at: Date }>>()
    expectTypeOf(api.plain.subscribe()).toEqualTypeOf<SubscriptionIterable<1 | 2>>()
  })

  it('returns a handle with the callback form', () => {
    const sub = api.ticks.subscribe({ every: 1 }, { onError: (e) => expectTypeOf(e.code).toBeString() })
    expectTypeOf(sub).toEqualTypeOf<Subscription>()
    expectTypeOf(sub.unsubscribe).toEqualTypeOf<() => void>()
    expectTypeOf(sub.state).toEqualTypeOf<'pending' | 'started' | 'ended'>()
  })

  it('keeps the resync signal in the iterator only when the server can send it', () => {
    expectTypeOf(api.feed.subscribe()).toEqualTypeOf<SubscriptionIterable<{ text: string } | ResyncSignal>>()
    expectTypeOf(api.manual.subscribe()).toEqualTypeOf<SubscriptionIterable<string | ResyncSignal>>()
    api.feed.subscribe(undefined, { onData: (m) => expectTypeOf(m).toEqualTypeOf<{ text: string }>(), onResync: () => {} })
    expectTypeOf<inferRouterOutputs<AppRouter>['feed']>().toEqualTypeOf<{ text: string } | ResyncSignal>()
  })

  it('uses the output schema for the event type', () => {
    expectTypeOf(api.checked.subscribe()).toEqualTypeOf<SubscriptionIterable<{ ok: boolean }>>()
  })

  it('rejects the wrong method for the procedure kind', () => {
    // @ts-expect-error a query has no subscribe
    api.greet.subscribe()
    // @ts-expect-error a mutation has no subscribe
    api.save.subscribe()
    // @ts-expect-error a subscription has no query
    api.ticks.query({ every: 1 })
    // @ts-expect-error a subscription has no mutate
    api.plain.mutate()
    // @ts-expect-error input is required and typed
    api.ticks.subscribe({ every: 'x' })
  })

  it('refuses a wrong handler, and handlers that might all be missing', () => {
    // @ts-expect-error onData receives { n, at }, not a string
    api.ticks.subscribe({ every: 1 }, { onData: (t: string) => t })
    // @ts-expect-error onError is a function
    api.ticks.subscribe({ every: 1 }, { onData: () => {}, onError: 5 })
    const handlers: SubscriptionHandlers<{ n: number; at: Date }> = {}
    // @ts-expect-error neither form: the handler form needs at least one callback for sure, the iterator form none
    api.ticks.subscribe({ every: 1 }, handlers)
    expectTypeOf(api.ticks.subscribe({ every: 1 }, { signal: new AbortController().signal })).toEqualTypeOf<
      SubscriptionIterable<{ n: number; at: Date }>
    >()
  })

  it('checks what a subscription with an output schema may yield', () => {
    rpc.procedure
      .output(z.object({ ok: z.boolean() }))
      // @ts-expect-error yields something other than the declared output
      .subscription(async function* () {
        yield { ok: 'yes' }
      })
  })
})
