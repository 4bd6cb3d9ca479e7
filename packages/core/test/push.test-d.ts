import { EventEmitter } from 'node:events'
import { describe, expectTypeOf, it } from 'vitest'
import {
  createChannel,
  fromCallback,
  fromEmitter,
  fromEventTarget,
  initRpc,
  type PushOptions,
  type ResyncSignal,
  type ChannelEvent,
  type inferRouterOutputs,
} from '@wirecall/core'

type Order = { id: string }
const orders = new EventEmitter()

describe('push adapter types', () => {
  it('include the resync signal only when the overflow policy can drop events', () => {
    expectTypeOf(fromEmitter<Order>(orders, 'created')).toEqualTypeOf<AsyncIterable<Order | ResyncSignal>>()
    expectTypeOf(fromEmitter<Order>(orders, 'created', { overflow: 'drop-oldest' })).toEqualTypeOf<AsyncIterable<Order | ResyncSignal>>()
    expectTypeOf(fromEmitter<Order>(orders, 'created', { overflow: 'error', maxBuffer: 10 })).toEqualTypeOf<AsyncIterable<Order>>()
    expectTypeOf(fromCallback<number>(() => {}, { overflow: 'error' })).toEqualTypeOf<AsyncIterable<number>>()
    expectTypeOf(fromCallback<number>(() => {})).toEqualTypeOf<AsyncIterable<number | ResyncSignal>>()
    expectTypeOf(fromEventTarget<Event>(new EventTarget(), 'x', { overflow: 'error' })).toEqualTypeOf<AsyncIterable<Event>>()
    // A policy only known at run time keeps the signal in the type.
    const options: PushOptions = {}
    expectTypeOf(fromEmitter<Order>(orders, 'created', options)).toEqualTypeOf<AsyncIterable<Order | ResyncSignal>>()
  })

  it('types the sink from the event type', () => {
    fromCallback<number>((sink) => {
      expectTypeOf(sink.push).parameter(0).toEqualTypeOf<number>()
      // @ts-expect-error a string is not a number event
      sink.push('1')
    })
  })

  it('flow into the client type of a subscription', () => {
    const rpc = initRpc.create()
    const router = rpc.router({
      lossy: rpc.procedure.subscription(({ signal }) => fromEmitter<Order>(orders, 'created', { signal })),
      strict: rpc.procedure.subscription(({ signal }) => fromEmitter<Order>(orders, 'created', { signal, overflow: 'error' })),
      feed: rpc.procedure.subscription(({ signal }) => createChannel<Order>().subscribe({ signal })),
    })
    type Out = inferRouterOutputs<typeof router>
    expectTypeOf<Out['lossy']>().toEqualTypeOf<Order | ResyncSignal>()
    expectTypeOf<Out['strict']>().toEqualTypeOf<Order>()
    expectTypeOf<Out['feed']>().toEqualTypeOf<Order | ResyncSignal>()
    expectTypeOf(createChannel<Order>().subscribe()).toEqualTypeOf<AsyncIterable<ChannelEvent<Order>>>()
  })
})
