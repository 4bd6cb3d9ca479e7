import { describe, expect, it } from 'vitest'
import { createChannel, type ChannelEvent, type ResyncReason } from '@wirecall/core'
import type { Channels, Msg } from './fixture'
import { endAll, publishRange, range, readCount, readUntil } from './read'
import type { ConformanceChannel } from './types'

/** When a resume or a live subscriber cannot go on without a gap: one resync, with its reason, then live events; never an error. */
export function describeResync(channels: Channels): void {
  describe('resync', () => {
    it('trimmed: an id older than the history gets one resync, then live events; the oldest kept id still replays', async () => {
      const channel = channels.make({ history: 10 })
      // Far more than the history: a backend may keep somewhat more than asked (Redis `MAXLEN ~` keeps whole nodes of 100).
      const ids = await publishRange(channel, 1, 300)
      const old = channel.subscribe({ lastEventId: ids[1] })[Symbol.asyncIterator]()
      expect(await readCount(old, 1, 'the resync')).toEqual(['resync:trimmed'])
      const kept = channel.subscribe({ lastEventId: ids[290] })[Symbol.asyncIterator]()
      expect(await readCount(kept, 10, 'the replay of the newest 10')).toEqual(range(291, 300))
      await publishRange(channel, 301, 301)
      expect(await readCount(old, 1, 'a live event after the resync')).toEqual([301])
      expect(await readCount(kept, 1, 'a live event after the replay')).toEqual([301])
      await Promise.all([old.return?.(), kept.return?.()])
    })

    it('trimmed even while a live subscriber on this node has seen every event: the replay window is the history, not what the node holds', async () => {
      const channel = channels.make({ history: 10, maxLag: 1_000 })
      const [start] = await publishRange(channel, 0, 0)
      const live = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const ids = await publishRange(channel, 1, 300)
      expect(await readUntil(live, (value) => value === 300, 'the live subscriber')).toEqual(range(1, 300))
      const old = channel.subscribe({ lastEventId: ids[1] })[Symbol.asyncIterator]()
      expect(await readCount(old, 1, 'the resync')).toEqual(['resync:trimmed'])
      await Promise.all([old.return?.(), live.return?.()])
    })

    it('an id that is not this stream’s (malformed, another channel’s, another backend’s) is a resync, then live events', async () => {
      const channel = channels.make({ history: 100 })
      await publishRange(channel, 1, 5)
      const other = channels.make({ name: 'other', history: 100 })
      const otherIds = await publishRange(other, 1, 5)
      const ring = createChannel<unknown>({ history: 100 })
      const ringId = ring.publish(1)
      const { foreignIdReasons } = channels.behaviour
      const cases: Record<string, { id: string; reasons: readonly string[] }> = {
        garbage: { id: 'garbage', reasons: ['unknown-id'] },
        'garbage with a dot': { id: 'garbage.12', reasons: ['unknown-id', ...foreignIdReasons] },
        'not ascii': { id: 'ü.1', reasons: ['unknown-id', ...foreignIdReasons] },
        'a path': { id: '../../x', reasons: ['unknown-id', ...foreignIdReasons] },
        long: { id: '9'.repeat(900), reasons: ['unknown-id', ...foreignIdReasons] },
        'another channel’s': { id: otherIds[3]!, reasons: foreignIdReasons },
        'the in-memory ring’s': { id: ringId, reasons: ['unknown-id', ...foreignIdReasons] },
      }
      const iterators = Object.entries(cases).map(([name, { id, reasons }]) => ({ name, reasons, iterator: channel.subscribe({ lastEventId: id })[Symbol.asyncIterator]() }))
      for (const { name, reasons, iterator } of iterators) {
        const [first] = await readCount(iterator, 1, `the resync for ${name}`)
        expect(reasons.map((reason) => `resync:${reason}`), name).toContain(first)
      }
      await publishRange(channel, 6, 6)
      for (const { name, iterator } of iterators) expect(await readCount(iterator, 1, `a live event for ${name}`), name).toEqual([6])
      await endAll(iterators.map(({ iterator }) => iterator))
      ring.close()
    })

    it(`an id newer than the stream's newest gets its documented reason`, async () => {
      const { futureId, futureIdReason } = channels.behaviour
      const channel = channels.make({ history: 100 })
      const ids = await publishRange(channel, 1, 5)
      const iterator = channel.subscribe({ lastEventId: futureId(ids[5]!) })[Symbol.asyncIterator]()
      expect(await readCount(iterator, 1, 'the resync')).toEqual([`resync:${futureIdReason}`])
      await publishRange(channel, 6, 6)
      expect(await readCount(iterator, 1, 'a live event')).toEqual([6])
      await iterator.return?.()
    })

    it('a live subscriber more than maxLag behind: lagging resync (ring) or catch-up from the backend (backed)', async () => {
      const maxLag = 5
      const catchUp = channels.behaviour.slowSubscriber === 'catch-up'
      const channel = channels.make({ history: catchUp ? 100 : 0, maxLag })
      const [start] = await publishRange(channel, 0, 0)
      const iterator = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const reading = readCount(iterator, 1, 'the first event')
      await publishRange(channel, 1, 1)
      expect(await reading).toEqual([1])
      // Fifty events while it does not pull: ten times its maxLag.
      await publishRange(channel, 2, 51)
      if (catchUp) {
        expect(await readCount(iterator, 50, 'the catch-up')).toEqual(range(2, 51))
        await publishRange(channel, 52, 52)
        expect(await readCount(iterator, 1, 'a live event')).toEqual([52])
      } else {
        await expectOneResyncThenLive(channel, iterator, 'lagging', 52, maxLag)
      }
      await iterator.return?.()
    })

    it('a live subscriber behind more than the history too: one resync, then live events', async () => {
      const channel = channels.make({ history: 10, maxLag: 5 })
      const [start] = await publishRange(channel, 0, 0)
      const iterator = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const reading = readCount(iterator, 1, 'the first event')
      await publishRange(channel, 1, 1)
      expect(await reading).toEqual([1])
      await publishRange(channel, 2, 300)
      await expectOneResyncThenLive(channel, iterator, channels.behaviour.slowSubscriber === 'catch-up' ? 'trimmed' : 'lagging', 301, 300)
      await iterator.return?.()
    })
  })
}

/**
 * Reads the one resync a subscriber that fell behind is owed, then
 * publishes `sentinel` (published before, a subscriber skipped to the
 * newest event would skip it too) and reads up to it: whatever comes
 * between is a contiguous run of at most `most` of the newest events.
 */
async function expectOneResyncThenLive(
  channel: ConformanceChannel<Msg>,
  iterator: AsyncIterator<ChannelEvent<Msg>>,
  reason: ResyncReason,
  sentinel: number,
  most: number,
): Promise<void> {
  expect(await readCount(iterator, 1, 'the resync')).toEqual([`resync:${reason}`])
  await publishRange(channel, sentinel, sentinel)
  const rest = await readUntil(iterator, (value) => value === sentinel, 'the events after the resync')
  expect(rest.every((value) => typeof value === 'number')).toBe(true)
  expect(rest).toEqual(range(sentinel + 1 - rest.length, sentinel))
  expect(rest.length).toBeLessThanOrEqual(most + 1)
}
