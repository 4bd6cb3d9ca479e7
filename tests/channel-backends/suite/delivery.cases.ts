import { describe, expect, it } from 'vitest'
import { isResync } from '@wirecall/core'
import { waitUntil, within } from '../../helpers/async'
import type { Channels } from './fixture'
import { endAll, publishRange, range, readCount, readUntil, settlesWithin } from './read'

/** Order, fan-out, the snapshot pattern, topics, and how iterations end (close, deleteTopic, abort, return). */
export function describeDelivery(channels: Channels): void {
  describe('delivery', () => {
    it('delivers every event in order to many subscribers, data intact (Date revived)', async () => {
      const channel = channels.make({ history: 100 })
      const [start] = await publishRange(channel, 0, 0)
      const iterators = Array.from({ length: 20 }, () => channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]())
      const publishing = publishRange(channel, 1, 50)
      const got = await Promise.all(iterators.map((iterator, i) => readCount(iterator, 50, `subscriber ${i}`)))
      await publishing
      for (const log of got) expect(log).toEqual(range(1, 50))
      const one = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const first = await within(one.next(), 'the first replayed event')
      expect(first.done).toBe(false)
      if (first.done !== true && !isResync(first.value)) {
        expect(first.value.data).toEqual({ n: 1, at: new Date(Date.UTC(2024, 0, 1) + 1000) })
        expect(first.value.data.at).toBeInstanceOf(Date)
      }
      await endAll([...iterators, one])
      expect(channel.subscriberCount).toBe(0)
    })

    it('publish resolves to the id it stored, and lastEventId is the newest one', async () => {
      const channel = channels.make({ history: 10 })
      const ids = await publishRange(channel, 1, 5)
      expect(new Set(ids.slice(1)).size).toBe(5)
      for (const id of ids.slice(1)) expect(typeof id).toBe('string')
      expect(channel.lastEventId).toBe(ids[5])
      // The envelopes carry the same ids.
      const iterator = channel.subscribe({ lastEventId: ids[2] })[Symbol.asyncIterator]()
      const envelopes = []
      for (let i = 0; i < 3; i++) envelopes.push(await within(iterator.next(), 'a replayed event'))
      expect(envelopes.map((r) => (r.done === true || isResync(r.value) ? undefined : r.value.id))).toEqual(ids.slice(3, 6))
      await iterator.return?.()
    })

    it('the snapshot pattern: nothing published between taking the position and reading is missed', async () => {
      const channel = channels.make({ history: 100 })
      await publishRange(channel, 1, 3)
      if (channels.behaviour.positionTakenAt === 'subscribe') {
        // The ring fixes the position at subscribe(): iterate later, miss nothing.
        const events = channel.subscribe()
        await publishRange(channel, 4, 6)
        const iterator = events[Symbol.asyncIterator]()
        await publishRange(channel, 7, 8)
        expect(await readCount(iterator, 5, 'what was published after subscribe()')).toEqual(range(4, 8))
        await iterator.return?.()
      }
      // Every kind: the position read before the snapshot, resumed after it (what a client's lastEventId is).
      const position = channel.lastEventId
      await publishRange(channel, 9, 12)
      const iterator = channel.subscribe({ lastEventId: position })[Symbol.asyncIterator]()
      await publishRange(channel, 13, 14)
      expect(await readCount(iterator, 6, 'what was published after the position')).toEqual(range(9, 14))
      await iterator.return?.()
    })

    it('a slow subscriber does not hold back a fast one', async () => {
      const channel = channels.make({ history: 100, maxLag: 10 })
      const [start] = await publishRange(channel, 0, 0)
      const slow = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const fast = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const reading = readCount(fast, 30, 'the fast subscriber')
      await publishRange(channel, 1, 30)
      expect(await reading).toEqual(range(1, 30))
      // Within the history and the ring, the slow one loses nothing either.
      expect(await readCount(slow, 30, 'the slow one')).toEqual(range(1, 30))
      await Promise.all([slow.return?.(), fast.return?.()])
    })
  })

  describe('topics', () => {
    it('are separate streams: each delivers and resumes its own events only', async () => {
      const channel = channels.make({ history: 100 })
      const a = channel.topic('a')
      const b = channel.topic('b')
      expect(channel.topic('a')).toBe(a)
      const [startA] = await publishRange(a, 0, 0)
      const [startB] = await publishRange(b, 100, 100).then((ids) => [ids[100]])
      const [startParent] = await publishRange(channel, 1000, 1000).then((ids) => [ids[1000]])
      const inA = a.subscribe({ lastEventId: startA })[Symbol.asyncIterator]()
      const inB = b.subscribe({ lastEventId: startB })[Symbol.asyncIterator]()
      const inParent = channel.subscribe({ lastEventId: startParent })[Symbol.asyncIterator]()
      for (let n = 1; n <= 5; n++) {
        await a.publish({ n, at: new Date(0) })
        await b.publish({ n: 100 + n, at: new Date(0) })
      }
      await channel.publish({ n: 1001, at: new Date(0) })
      expect(await readCount(inA, 5, 'topic a')).toEqual(range(1, 5))
      expect(await readCount(inB, 5, 'topic b')).toEqual(range(101, 105))
      expect(await readCount(inParent, 1, 'the parent')).toEqual([1001])
      // Nothing of another stream follows.
      const more = inA.next()
      expect(await settlesWithin(more, 100)).toBe(false)
      await Promise.all([inA.return?.(), inB.return?.(), inParent.return?.()])
      await within(more, 'the pending next() to end')
    })

    it('an id of one topic resumed on another is a resync, not an error and not a replay', async () => {
      const channel = channels.make({ history: 100 })
      const idsB = await publishRange(channel.topic('b'), 1, 5)
      await publishRange(channel.topic('a'), 1, 5)
      const iterator = channel.topic('a').subscribe({ lastEventId: idsB[3] })[Symbol.asyncIterator]()
      const first = await readCount(iterator, 1, 'the resync')
      expect(channels.behaviour.foreignIdReasons.map((reason) => `resync:${reason}`)).toContain(first[0])
      await iterator.return?.()
    })

    it('deleteTopic ends the local subscribers of that topic only', async () => {
      const channel = channels.make({ history: 100 })
      const doomed = channel.topic('doomed')
      const kept = channel.topic('kept')
      const [startDoomed] = await publishRange(doomed, 0, 0)
      const [startKept] = await publishRange(kept, 0, 0)
      const inDoomed = doomed.subscribe({ lastEventId: startDoomed })[Symbol.asyncIterator]()
      const inKept = kept.subscribe({ lastEventId: startKept })[Symbol.asyncIterator]()
      const pending = inDoomed.next()
      await waitUntil(() => doomed.subscriberCount === 1 && kept.subscriberCount === 1, 'both subscribers to register')
      await channel.deleteTopic('doomed')
      expect(await within(pending, 'the doomed subscriber to end')).toEqual({ done: true, value: undefined })
      expect(doomed.subscriberCount).toBe(0)
      await kept.publish({ n: 1, at: new Date(0) })
      expect(await readCount(inKept, 1, 'the kept topic')).toEqual([1])
      await inKept.return?.()
    })

    it('deleteTopic on one node: the same topic on another node is told stream-reset and follows the new stream (shared only)', async () => {
      const nodeA = channels.make({ name: 'rooms', history: 100 })
      const nodeB = channels.make({ name: 'rooms', history: 100 })
      const [start] = await publishRange(nodeA.topic('t'), 0, 0)
      const onB = nodeB.topic('t').subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      await publishRange(nodeA.topic('t'), 1, 1)
      expect(await readCount(onB, 1, 'an event on node B')).toEqual(channels.behaviour.shared ? [1] : ['resync:unknown-id'])
      await nodeA.deleteTopic('t')
      if (channels.behaviour.shared) {
        // A backend may notice the deletion only once the stream is written again, and then go on from its newest event (a resync
        // may skip): one reset, then a contiguous run of the new stream's events up to the newest.
        await publishRange(nodeA.topic('t'), 10, 10)
        expect(await readCount(onB, 1, 'the reset on node B')).toEqual(['resync:stream-reset'])
        await publishRange(nodeA.topic('t'), 11, 11)
        const rest = await readUntil(onB, (value) => value === 11, 'the new stream on node B')
        expect(rest).toEqual(range(12 - rest.length, 11))
      } else {
        // One stream per channel object: node B's topic is its own, untouched.
        await publishRange(nodeB.topic('t'), 10, 10)
        expect(await readCount(onB, 1, 'node B’s own topic')).toEqual([10])
      }
      await onB.return?.()
    })

    it('after deleteTopic, the topic starts afresh: an old id resyncs', async () => {
      const channel = channels.make({ history: 100 })
      const old = await publishRange(channel.topic('t'), 1, 3)
      await channel.deleteTopic('t')
      const fresh = channel.topic('t')
      await publishRange(fresh, 10, 10)
      const iterator = fresh.subscribe({ lastEventId: old[2] })[Symbol.asyncIterator]()
      const first = await readCount(iterator, 1, 'the resync')
      expect(first[0]).toMatch(/^resync:/)
      await fresh.publish({ n: 11, at: new Date(0) })
      expect(await readCount(iterator, 1, 'a live event')).toEqual([11])
      await iterator.return?.()
    })
  })

  describe('ending an iteration', () => {
    it('close() ends every iteration, pending or not, and later subscribers end at once', async () => {
      const channel = channels.make({ history: 10 })
      const [start] = await publishRange(channel, 0, 0)
      const waiting = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const idle = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const topic = channel.topic('t').subscribe()[Symbol.asyncIterator]()
      const pending = waiting.next()
      const pendingTopic = topic.next()
      expect(await settlesWithin(pending, 50)).toBe(false)
      channel.close()
      expect(await within(pending, 'the pending next()')).toEqual({ done: true, value: undefined })
      expect(await within(pendingTopic, 'the topic subscriber')).toEqual({ done: true, value: undefined })
      expect(await within(idle.next(), 'the idle one')).toEqual({ done: true, value: undefined })
      expect(channel.subscriberCount).toBe(0)
      const later = channel.subscribe()[Symbol.asyncIterator]()
      expect(await within(later.next(), 'a subscriber after close()')).toEqual({ done: true, value: undefined })
      channel.close() // idempotent
    })

    it('an aborted signal ends a pending next() and drops subscriberCount', async () => {
      const channel = channels.make({ history: 10 })
      const [start] = await publishRange(channel, 0, 0)
      const controller = new AbortController()
      const iterator = channel.subscribe({ lastEventId: start, signal: controller.signal })[Symbol.asyncIterator]()
      const pending = iterator.next()
      await waitUntil(() => channel.subscriberCount === 1, 'the subscriber to register')
      expect(await settlesWithin(pending, 50)).toBe(false)
      controller.abort()
      expect(await within(pending, 'the aborted next()')).toEqual({ done: true, value: undefined })
      await waitUntil(() => channel.subscriberCount === 0, 'the subscriber to be dropped')
      await channel.publish({ n: 1, at: new Date(0) })
      expect(await within(iterator.next(), 'next() after the abort')).toEqual({ done: true, value: undefined })
    })

    it('ending an iteration at once, before the backend answered, settles its pending next() (return, abort, close)', async () => {
      const channel = channels.make({ history: 10 })
      const ids = await publishRange(channel, 1, 3)
      const returned = channel.subscribe({ lastEventId: ids[1] })[Symbol.asyncIterator]()
      const pendingReturned = returned.next()
      const returning = returned.return?.()
      const controller = new AbortController()
      const aborted = channel.subscribe({ lastEventId: ids[1], signal: controller.signal })[Symbol.asyncIterator]()
      const pendingAborted = aborted.next()
      controller.abort()
      const topic = channel.topic('t')
      const closed = topic.subscribe()[Symbol.asyncIterator]()
      const pendingClosed = closed.next()
      topic.close()
      const cases = [
        { what: 'return()', iterator: returned, pending: pendingReturned },
        { what: 'abort', iterator: aborted, pending: pendingAborted },
        { what: 'close()', iterator: closed, pending: pendingClosed },
      ]
      for (const { what, iterator, pending } of cases) {
        // A replayed event may have been ready first; then the iteration is done right after it.
        const result = await within(pending, `the pending next() after ${what}`)
        if (result.done !== true) expect(await within(iterator.next(), `the next() after ${what}`)).toEqual({ done: true, value: undefined })
      }
      await within(Promise.resolve(returning), 'return()')
      await waitUntil(() => channel.subscriberCount === 0 && topic.subscriberCount === 0, 'every subscriber to be dropped')
    })

    it('an already-aborted signal yields nothing, not even a resync, and registers no subscriber', async () => {
      const channel = channels.make({ history: 10 })
      await publishRange(channel, 1, 3)
      const iterator = channel.subscribe({ lastEventId: 'garbage', signal: AbortSignal.abort() })[Symbol.asyncIterator]()
      expect(await within(iterator.next(), 'the aborted iteration')).toEqual({ done: true, value: undefined })
      expect(channel.subscriberCount).toBe(0)
    })

    it('return() and for-await break end the iteration and drop the subscriber', async () => {
      const channel = channels.make({ history: 10 })
      const [start] = await publishRange(channel, 0, 0)
      const iterator = channel.subscribe({ lastEventId: start })[Symbol.asyncIterator]()
      const pending = iterator.next()
      await waitUntil(() => channel.subscriberCount === 1, 'the subscriber to register')
      await iterator.return?.()
      expect(await within(pending, 'the pending next()')).toEqual({ done: true, value: undefined })
      expect(channel.subscriberCount).toBe(0)

      const got: number[] = []
      const loop = (async () => {
        for await (const event of channel.subscribe({ lastEventId: start })) {
          if (isResync(event)) throw new Error('unexpected resync')
          got.push(event.data.n)
          if (event.data.n === 2) break
        }
      })()
      await publishRange(channel, 1, 2)
      await within(loop, 'the loop to break')
      expect(got).toEqual([1, 2])
      await waitUntil(() => channel.subscriberCount === 0, 'the loop to unregister')
    })
  })
}
