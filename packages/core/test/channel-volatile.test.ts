import { describe, expect, it } from 'vitest'
import { createChannel, isResync, isTracked, isVolatile, type ChannelEvent, type ChannelInstrumentation, type ChannelPublishEvent } from '@wirecall/core'
import { within } from '../../../tests/helpers/async'

/**
 * The in-memory channel's volatile events and members, without a server:
 * what its iterators yield, in what order, what is kept and what counted.
 * (Skipping for a connection above the high-water mark is the server's:
 * tests/integration/volatile/.)
 */

type Item = ChannelEvent<number>

/** What a pulled item is: `t<n>` for a tracked event, `v<n>` for a volatile one, `resync`. */
const label = (item: Item): string => (isResync(item) ? 'resync' : isVolatile(item) ? `v${item.data}` : `t${item.data}`)

/** Pulls what is there now (each pull bounded by a short wait). */
async function drain(iterator: AsyncIterator<Item>): Promise<string[]> {
  const out: string[] = []
  for (;;) {
    const next = await Promise.race([iterator.next(), new Promise<'idle'>((resolve) => setTimeout(() => resolve('idle'), 20))])
    if (next === 'idle' || next.done === true) return out
    out.push(label(next.value))
  }
}

describe('volatile publishes on the in-memory channel', () => {
  it('are yielded in publish order with tracked events, without an id, and return undefined', async () => {
    const channel = createChannel<number>({ history: 5 })
    const iterator = channel.subscribe()[Symbol.asyncIterator]()
    const expected: string[] = []
    for (let n = 1; n <= 20; n++) {
      if (n % 4 === 0) {
        expect(typeof channel.publish(n)).toBe('string')
        expected.push(`t${n}`)
      } else {
        expect(channel.publish(n, { volatile: true })).toBeUndefined()
        expected.push(`v${n}`)
      }
    }
    const first = await within(iterator.next(), 'the first event')
    expect(first.done).toBe(false)
    expect(isVolatile(first.value)).toBe(true)
    expect(isTracked(first.value)).toBe(false)
    expect((first.value as { id?: unknown }).id).toBeUndefined()
    expect([label(first.value as Item), ...(await drain(iterator))]).toEqual(expected)
  })

  it('are never stored: not in the history, not the lastEventId, not replayed', async () => {
    const channel = createChannel<number>({ history: 2 })
    const a = channel.publish(1)
    channel.publish(2, { volatile: true })
    const b = channel.publish(3)
    for (let n = 4; n < 100; n++) channel.publish(n, { volatile: true })
    expect(channel.lastEventId).toBe(b)
    // History 2 still reaches back to `a`: the volatile ones took no place in it.
    expect(await drain(channel.subscribe({ lastEventId: a })[Symbol.asyncIterator]())).toEqual(['t3'])
    // Those published before a subscriber subscribed never reach it.
    expect(await drain(channel.subscribe()[Symbol.asyncIterator]())).toEqual([])
  })

  it('a subscriber more than maxLag volatile events behind skips the oldest, counted in volatileSkips', async () => {
    const channel = createChannel<number>({ maxLag: 10 })
    const iterator = channel.subscribe()[Symbol.asyncIterator]()
    for (let n = 1; n <= 25; n++) channel.publish(n, { volatile: true })
    channel.publish(26)
    expect(await drain(iterator)).toEqual([...Array.from({ length: 10 }, (_, i) => `v${16 + i}`), 't26'])
    expect(channel.volatileSkips).toBe(15)
  })

  it('a subscriber told to resync for lagging drops the volatile events from before its jump', async () => {
    const channel = createChannel<number>({ maxLag: 3 })
    const iterator = channel.subscribe()[Symbol.asyncIterator]()
    channel.publish(1, { volatile: true })
    for (let n = 2; n <= 10; n++) channel.publish(n)
    channel.publish(11, { volatile: true })
    // Its place was after t10, which the resync goes on from: still current.
    expect(await drain(iterator)).toEqual(['resync', 'v11'])
    expect(channel.volatileSkips).toBe(1)
  })

  it('topics publish volatile events of their own', async () => {
    const channel = createChannel<number>()
    const room = channel.topic('room')
    const inRoom = room.subscribe()[Symbol.asyncIterator]()
    const outside = channel.subscribe()[Symbol.asyncIterator]()
    expect(channel.topic('room').publish(1, { volatile: true })).toBeUndefined()
    expect(await drain(inRoom)).toEqual(['v1'])
    expect(await drain(outside)).toEqual([])
  })

  it('the instrumentation is told of a volatile publish, with no event id', () => {
    const seen: ChannelPublishEvent[] = []
    const hook: ChannelInstrumentation = { onPublish: (event) => void seen.push(event) }
    const channel = createChannel<number>({ name: 'typing', instrumentation: [hook] })
    channel.publish(1, { volatile: true })
    expect(seen).toEqual([{ channel: 'typing', topic: false, eventId: '', volatile: true, subscribers: 0 }])
  })

  it('a closed channel delivers nothing volatile', async () => {
    const channel = createChannel<number>()
    const iterator = channel.subscribe()[Symbol.asyncIterator]()
    channel.close()
    expect(channel.publish(1, { volatile: true })).toBeUndefined()
    expect(await within(iterator.next(), 'the end')).toEqual({ done: true, value: undefined })
  })
})

describe('members', () => {
  it('lists the member of each live subscriber once, in subscribe order, until it ends', async () => {
    const channel = createChannel<number, { name: string }>()
    const ada = { name: 'ada' }
    const bob = { name: 'bob' }
    const controller = new AbortController()
    const a = channel.subscribe({ member: ada })[Symbol.asyncIterator]()
    const b1 = channel.subscribe({ member: bob, signal: controller.signal })[Symbol.asyncIterator]()
    const b2 = channel.subscribe({ member: bob })[Symbol.asyncIterator]()
    channel.subscribe()[Symbol.asyncIterator]()
    expect(channel.members()).toEqual([ada, bob])
    controller.abort()
    expect(channel.members()).toEqual([ada, bob])
    await b2.return!()
    expect(channel.members()).toEqual([ada])
    await a.return!()
    expect(channel.members()).toEqual([])
    void b1
  })

  it('are per topic, and go when the topic is deleted or the channel closed', () => {
    const channel = createChannel<number, string>()
    channel.subscribe({ member: 'root' })[Symbol.asyncIterator]()
    channel.topic('a').subscribe({ member: 'in-a' })[Symbol.asyncIterator]()
    channel.topic('b').subscribe({ member: 'in-b' })[Symbol.asyncIterator]()
    expect(channel.members()).toEqual(['root'])
    expect(channel.topic('a').members()).toEqual(['in-a'])
    channel.deleteTopic('a')
    expect(channel.topic('a').members()).toEqual([])
    expect(channel.topic('b').members()).toEqual(['in-b'])
    channel.close()
    expect(channel.members()).toEqual([])
  })
})
