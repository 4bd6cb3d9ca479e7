import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import type { ChannelEvent } from '@wirecall/core'
import type { Channels, Msg } from './fixture'
import { startPump } from './pump'
import { endAll, publishRange, range, readCount, readUntil, type Seen } from './read'

/** Resuming after an id: exactly the missing events, then live ones, with no gap and no duplicate, even while events are being published. */
export function describeResume(channels: Channels): void {
  describe('resume after an id', () => {
    it('from every id the history holds replays exactly the missing events, then live ones', async () => {
      const channel = channels.make({ history: 20 })
      const ids = await publishRange(channel, 1, 30)
      const iterators = new Map(range(10, 30).map((k) => [k, channel.subscribe({ lastEventId: ids[k] })[Symbol.asyncIterator]()]))
      const replays = await Promise.all([...iterators].map(([k, iterator]) => readCount(iterator, 30 - k, `the replay after ${k}`)))
      await publishRange(channel, 31, 32, ids)
      const lives = await Promise.all([...iterators.values()].map((iterator) => readCount(iterator, 2, 'the live events')))
      ;[...iterators.keys()].forEach((k, i) => expect([...replays[i]!, ...lives[i]!], `resumed after ${k}`).toEqual(range(k + 1, 32)))
      await endAll(iterators.values())
      expect(channel.subscriberCount).toBe(0)
    })

    it('from the newest id replays nothing, then goes live', async () => {
      const channel = channels.make({ history: 5 })
      const ids = await publishRange(channel, 1, 3)
      const iterator = channel.subscribe({ lastEventId: ids[3] })[Symbol.asyncIterator]()
      const reading = readCount(iterator, 1, 'the live event')
      await publishRange(channel, 4, 4)
      expect(await reading).toEqual([4])
      await iterator.return?.()
    })

    it('a replay longer than a backend page hands over to live events with no gap, while events are published', async () => {
      const channel = channels.make({ history: 2_000 })
      const ids = await publishRange(channel, 1, 700)
      // A live subscriber keeps this node's tail running, so the handover meets a moving ring.
      const live = channel.subscribe({ lastEventId: ids[700] })[Symbol.asyncIterator]()
      const iterator = channel.subscribe({ lastEventId: ids[1] })[Symbol.asyncIterator]()
      const pump = startPump(channel, 700, ids, { max: 1_500 })
      const got = await readUntil(iterator, (_, all) => all.length >= 800, 'the replay and some live events', 15_000)
      const last = await pump.stop()
      if (got.at(-1) !== last) got.push(...(await readUntil(iterator, (value) => value === last, 'the last event', 10_000)))
      expect(got).toEqual(range(2, last))
      expect(await readUntil(live, (value) => value === last, 'the live subscriber')).toEqual(range(701, last))
      await Promise.all([iterator.return?.(), live.return?.()])
    })

    it('a chain of unsubscribe-then-resume during a stream of publishes sees every event once', async () => {
      const channel = channels.make({ history: 1_000 })
      const ids = await publishRange(channel, 1, 5)
      const pump = startPump(channel, 5, ids)
      const chain: Seen[] = []
      let lastEventId = ids[5]
      for (let link = 0; link < 12; link++) {
        const iterator = channel.subscribe({ lastEventId })[Symbol.asyncIterator]()
        const part = await readCount(iterator, 5, `link ${link}`)
        await iterator.return?.()
        chain.push(...part)
        const newest = part.at(-1)
        expect(typeof newest).toBe('number')
        lastEventId = ids[newest as number]
      }
      const last = await pump.stop()
      const iterator = channel.subscribe({ lastEventId })[Symbol.asyncIterator]()
      const end = chain.at(-1) as number
      if (end < last) chain.push(...(await readUntil(iterator, (value) => value === last, 'the last link')))
      await iterator.return?.()
      expect(chain).toEqual(range(6, last))
      expect(channel.subscriberCount).toBe(0)
    })

    it('property: subscribers resuming from any kept id while events are published see exactly the rest, in order', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 30 }),
          fc.array(fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), burst: fc.integer({ min: 0, max: 8 }) }), { minLength: 1, maxLength: 6 }),
          async (initial, steps) => {
            const channel = channels.make({ name: `p${Math.random().toString(36).slice(2, 8)}`, history: 500 })
            const ids = await publishRange(channel, 1, initial)
            const controller = new AbortController()
            const subscribers: { after: number; iterator: AsyncIterator<ChannelEvent<Msg>> }[] = []
            let last = initial
            for (const step of steps) {
              // A resume from a kept id, not awaited: its backend read races the publishes below.
              const after = Math.min(last, Math.floor(step.at * (last + 1)))
              const lastEventId = after === 0 ? ids[1] : ids[after]
              const from = after === 0 ? 1 : after
              subscribers.push({ after: from, iterator: channel.subscribe({ lastEventId, signal: controller.signal })[Symbol.asyncIterator]() })
              await publishRange(channel, last + 1, last + step.burst, ids)
              last += step.burst
            }
            await publishRange(channel, last + 1, last + 1, ids)
            last += 1
            try {
              for (const { after, iterator } of subscribers) {
                expect(await readUntil(iterator, (value) => value === last || typeof value === 'string', `the events after ${after}`)).toEqual(range(after + 1, last))
              }
            } finally {
              controller.abort()
              channel.close()
            }
          },
        ),
        { numRuns: 25 },
      )
    })

    it('on another node of the same stream: its ids resume there exactly (shared), or get unknown-id (one stream per channel)', async () => {
      const nodeA = channels.make({ name: 'shared', history: 100 })
      const nodeB = channels.make({ name: 'shared', history: 100 })
      const ids = await publishRange(nodeA, 1, 10)
      const iterator = nodeB.subscribe({ lastEventId: ids[4] })[Symbol.asyncIterator]()
      if (channels.behaviour.shared) {
        expect(await readCount(iterator, 6, 'the replay on node B')).toEqual(range(5, 10))
        // Published on B, delivered on A, and the other way round.
        const onA = nodeA.subscribe({ lastEventId: ids[10] })[Symbol.asyncIterator]()
        await publishRange(nodeB, 11, 11)
        await publishRange(nodeA, 12, 12)
        expect(await readCount(onA, 2, 'node A')).toEqual([11, 12])
        expect(await readCount(iterator, 2, 'node B')).toEqual([11, 12])
        await onA.return?.()
      } else {
        expect(await readCount(iterator, 1, 'the resync')).toEqual(['resync:unknown-id'])
        await publishRange(nodeB, 11, 11)
        expect(await readCount(iterator, 1, 'a live event')).toEqual([11])
      }
      await iterator.return?.()
    })
  })
}

