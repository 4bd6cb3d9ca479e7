import { describe, expectTypeOf, it } from 'vitest'
import type { ChannelEvent } from '@wirecall/core'
import { createChannel, memoryChannelBackend, type BackedChannel, type Channel } from '../src/index'

describe('createChannel', () => {
  it('without a backend: the in-memory Channel, whose publish returns the id at once', () => {
    const channel = createChannel<{ text: string }>({ history: 10 })
    expectTypeOf(channel).toEqualTypeOf<Channel<{ text: string }>>()
    expectTypeOf(channel.publish({ text: 'a' })).toEqualTypeOf<string>()
    // A volatile event has no id.
    expectTypeOf(channel.publish({ text: 'a' }, { volatile: true })).toEqualTypeOf<undefined>()
    expectTypeOf(channel.publish({ text: 'a' }, { volatile: Math.random() > 0.5 })).toEqualTypeOf<string | undefined>()
  })

  it('with a backend (named or not): a BackedChannel, whose publish resolves to the id', () => {
    const backend = memoryChannelBackend()
    const named = createChannel<{ text: string }>({ backend, name: 'chat', history: 10 })
    expectTypeOf(named).toEqualTypeOf<BackedChannel<{ text: string }>>()
    expectTypeOf(named.publish({ text: 'a' })).toEqualTypeOf<Promise<string>>()
    expectTypeOf(named.publish({ text: 'a' }, { volatile: true })).toEqualTypeOf<Promise<undefined>>()
    expectTypeOf(named.deleteTopic).returns.toEqualTypeOf<Promise<void>>()
    expectTypeOf(named.topic('room')).toEqualTypeOf<BackedChannel<{ text: string }>>()
    // As DESIGN.md writes it: a backend and a history, no name.
    expectTypeOf(createChannel<number>({ history: 1_000, backend })).toEqualTypeOf<BackedChannel<number>>()
  })

  it('subscribers get the same envelopes (tracked and volatile) and resync signals from both', () => {
    const backend = memoryChannelBackend()
    expectTypeOf(createChannel<number>().subscribe()).toEqualTypeOf<AsyncIterable<ChannelEvent<number>>>()
    expectTypeOf(createChannel<number>({ backend }).subscribe()).toEqualTypeOf<AsyncIterable<ChannelEvent<number>>>()
  })

  it('members are typed by the second type parameter, for both kinds', () => {
    const backend = memoryChannelBackend()
    type Member = { name: string }
    const local = createChannel<number, Member>()
    local.subscribe({ member: { name: 'ada' } })
    // @ts-expect-error a member of another type
    local.subscribe({ member: 1 })
    expectTypeOf(local.members()).toEqualTypeOf<Member[]>()
    expectTypeOf(local.topic('a').members()).toEqualTypeOf<Member[]>()
    expectTypeOf(createChannel<number, Member>({ backend }).topic('a').members()).toEqualTypeOf<Member[]>()
    expectTypeOf(createChannel<number>().members()).toEqualTypeOf<unknown[]>()
  })

  it('a backed channel takes no epoch: its ids come from the backend', () => {
    const backend = memoryChannelBackend()
    // @ts-expect-error epoch is the in-memory channel's option
    createChannel<number>({ backend, epoch: 'e' })
  })
})
