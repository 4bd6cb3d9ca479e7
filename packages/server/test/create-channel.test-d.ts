import { describe, expectTypeOf, it } from 'vitest'
import type { ResyncSignal, TrackedEnvelope } from '@wirecall/core'
import { createChannel, memoryChannelBackend, type BackedChannel, type Channel } from '../src/index'

describe('createChannel', () => {
  it('without a backend: the in-memory Channel, whose publish returns the id at once', () => {
    const channel = createChannel<{ text: string }>({ history: 10 })
    expectTypeOf(channel).toEqualTypeOf<Channel<{ text: string }>>()
    expectTypeOf(channel.publish).returns.toEqualTypeOf<string>()
  })

  it('with a backend (named or not): a BackedChannel, whose publish resolves to the id', () => {
    const backend = memoryChannelBackend()
    const named = createChannel<{ text: string }>({ backend, name: 'chat', history: 10 })
    expectTypeOf(named).toEqualTypeOf<BackedChannel<{ text: string }>>()
    expectTypeOf(named.publish).returns.toEqualTypeOf<Promise<string>>()
    expectTypeOf(named.deleteTopic).returns.toEqualTypeOf<Promise<void>>()
    expectTypeOf(named.topic('room')).toEqualTypeOf<BackedChannel<{ text: string }>>()
    // As DESIGN.md writes it: a backend and a history, no name.
    expectTypeOf(createChannel<number>({ history: 1_000, backend })).toEqualTypeOf<BackedChannel<number>>()
  })

  it('subscribers get the same envelopes and resync signals from both', () => {
    const backend = memoryChannelBackend()
    expectTypeOf(createChannel<number>().subscribe()).toEqualTypeOf<AsyncIterable<TrackedEnvelope<number> | ResyncSignal>>()
    expectTypeOf(createChannel<number>({ backend }).subscribe()).toEqualTypeOf<AsyncIterable<TrackedEnvelope<number> | ResyncSignal>>()
  })

  it('a backed channel takes no epoch: its ids come from the backend', () => {
    const backend = memoryChannelBackend()
    // @ts-expect-error epoch is the in-memory channel's option
    createChannel<number>({ backend, epoch: 'e' })
  })
})
