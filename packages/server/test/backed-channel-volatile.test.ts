import { describe, expect, it } from 'vitest'
import { isResync, isVolatile, type ChannelEvent } from '@wirecall/core'
import { createChannel, memoryChannelBackend, type ChannelBackend, type TailListener } from '../src/index'
import { within } from '../../../tests/helpers/async'

/**
 * Volatile publishes on a channel with a backend, against the in-process
 * `memoryChannelBackend()` (two channels of one name are two nodes): they
 * cross nodes through `broadcast`, are never stored, keep publish order,
 * and a volatile event that overtakes the stored event its publisher had
 * seen is held until that event arrives.
 */

type Item = ChannelEvent<number>
const label = (item: Item): string => (isResync(item) ? 'resync' : isVolatile(item) ? `v${item.data}` : `t${item.data}`)

async function drain(iterator: AsyncIterator<Item>): Promise<string[]> {
  const out: string[] = []
  for (;;) {
    const next = await Promise.race([iterator.next(), new Promise<'idle'>((resolve) => setTimeout(() => resolve('idle'), 30))])
    if (next === 'idle' || next.done === true) return out
    out.push(label(next.value))
  }
}

/** Starts an iterator and waits until its position is known (the backend answered). */
async function started(iterable: AsyncIterable<Item>): Promise<AsyncIterator<Item>> {
  const iterator = iterable[Symbol.asyncIterator]()
  await within(Promise.resolve((iterator as unknown as Record<symbol, Promise<unknown> | undefined>)[Symbol.for('wirecall.ready')]), 'the tail to start')
  return iterator
}

describe('volatile publishes with a backend', () => {
  it('reach the subscribers of another node in publish order, resolve to undefined, and are never stored', async () => {
    const backend = memoryChannelBackend()
    const publisher = createChannel<number>({ backend, name: 'typing', history: 10 })
    const node = createChannel<number>({ backend, name: 'typing', history: 10 })
    const iterator = await started(node.subscribe())
    const expected: string[] = []
    const ids: string[] = []
    for (let n = 1; n <= 12; n++) {
      if (n % 3 === 0) {
        ids.push(await publisher.publish(n))
        expected.push(`t${n}`)
      } else {
        expect(await publisher.publish(n, { volatile: true })).toBeUndefined()
        expected.push(`v${n}`)
      }
    }
    expect(await drain(iterator)).toEqual(expected)
    expect(publisher.lastEventId).toBe(ids.at(-1))
    // A resume on either node replays stored events only.
    expect(await drain(await started(publisher.subscribe({ lastEventId: ids[0]! })))).toEqual(['t6', 't9', 't12'])
    expect(await drain(await started(node.subscribe({ lastEventId: ids[0]! })))).toEqual(['t6', 't9', 't12'])
    node.close()
    publisher.close()
  })

  it('a volatile event that arrives before the stored event its publisher had seen waits for it', async () => {
    const inner = memoryChannelBackend()
    let listener: TailListener | undefined
    // A backend whose broadcast overtakes its stored events: the volatile event is handed over at once, the events 30 ms later.
    const racing: ChannelBackend = {
      ...inner,
      tail(stream, l) {
        listener = l
        // The inner backend delivers the events only (late); this one delivers the volatile events (early).
        const events: TailListener = { started: (position) => l.started(position), reset: (reason, position) => l.reset(reason, position), events: (entries) => void setTimeout(() => l.events(entries), 30) }
        return inner.tail(stream, events)
      },
      broadcast(_stream, fields, after) {
        listener?.volatile?.(fields, after)
        return Promise.resolve()
      },
    }
    const publisher = createChannel<number>({ backend: inner, name: 'room', history: 10 })
    const node = createChannel<number>({ backend: racing, name: 'room', history: 10 })
    const iterator = await started(node.subscribe())
    const first = await publisher.publish(1)
    // Sent after t1, received before it: held until t1 arrives.
    await racing.broadcast!('room', ',"data":2', first)
    await publisher.publish(3)
    const got = await drain(iterator)
    expect(got).toEqual(['t1', 'v2', 't3'])
    node.close()
    publisher.close()
  })

  it('rejects with NOT_IMPLEMENTED on a backend without broadcast', async () => {
    const { broadcast: _unused, ...withoutBroadcast } = memoryChannelBackend()
    void _unused
    const channel = createChannel<number>({ backend: withoutBroadcast, name: 'x' })
    await expect(channel.publish(1, { volatile: true })).rejects.toMatchObject({ code: 'NOT_IMPLEMENTED' })
    channel.close()
  })

  it('lists members and counts skips per channel', async () => {
    const backend = memoryChannelBackend()
    const channel = createChannel<number, string>({ backend, name: 'm', maxLag: 4 })
    const iterator = await started(channel.subscribe({ member: 'ada' }))
    await started(channel.topic('t').subscribe({ member: 'bob' }))
    expect(channel.members()).toEqual(['ada'])
    expect(channel.topic('t').members()).toEqual(['bob'])
    for (let n = 1; n <= 10; n++) await channel.publish(n, { volatile: true })
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(await drain(iterator)).toEqual(['v7', 'v8', 'v9', 'v10'])
    expect(channel.volatileSkips).toBe(6)
    await iterator.return!()
    expect(channel.members()).toEqual([])
    channel.close()
    expect(channel.topic('t').members()).toEqual([])
  })
})
