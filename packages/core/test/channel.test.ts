import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { collectGarbage, settle, track, within, type Tracker } from '../../../tests/helpers/async'
import { createChannel, isResync, isTracked, type Channel, type ChannelEvent, type TrackedEnvelope } from '@wirecall/core'

type Item<T> = ChannelEvent<T>
type Iter<T> = AsyncIterator<Item<T>>

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

function iter<T>(channel: Channel<T>, options?: Parameters<Channel<T>['subscribe']>[0]): Iter<T> {
  return channel.subscribe(options)[Symbol.asyncIterator]()
}

/** What a pulled item is, as a short label: 'resync', 'done' or the envelope's id. */
function label<T>(result: IteratorResult<Item<T>>): string {
  if (result.done === true) return 'done'
  if (isResync(result.value)) return 'resync'
  if (isTracked(result.value)) return result.value.id
  throw new Error(`unexpected value ${String(result.value)}`)
}

/** Pulls exactly `count` items (each pull bounded). */
async function pull<T>(iterator: Iter<T>, count: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < count; i++) out.push(label(await within(iterator.next(), `next() #${i}`, 2_000)))
  return out
}

/** Asserts that `next()` is pending (nothing to deliver); returns its tracker. */
async function expectPending<T>(iterator: Iter<T>): Promise<Tracker<Item<T>>> {
  const tracker = track(iterator.next())
  await settle()
  expect(tracker.settled).toBe(false)
  return tracker
}

const seqOf = (id: string): number => Number(id.slice(id.lastIndexOf('.') + 1))
const epochOf = (id: string): string => id.slice(0, id.lastIndexOf('.'))

function publishMany(channel: Channel<number>, count: number, from = 0): string[] {
  const ids: string[] = []
  for (let i = 0; i < count; i++) ids.push(channel.publish(from + i))
  return ids
}


// ---------------------------------------------------------------------------

describe('createChannel: publish and ids', () => {
  it('returns an id per publish and exposes the newest one as lastEventId', () => {
    const channel = createChannel<number>()
    expect(channel.lastEventId).toBeUndefined()
    const first = channel.publish(1)
    expect(typeof first).toBe('string')
    expect(first.length).toBeGreaterThan(0)
    expect(channel.lastEventId).toBe(first)
    const second = channel.publish(2)
    expect(channel.lastEventId).toBe(second)
    expect(second).not.toBe(first)
  })

  it('issues unique, increasing ids within a channel', () => {
    const channel = createChannel<number>()
    const ids = publishMany(channel, 200)
    expect(new Set(ids).size).toBe(ids.length)
    const epochs = new Set(ids.map(epochOf))
    expect(epochs.size).toBe(1)
    for (let i = 1; i < ids.length; i++) {
      expect(Number.isSafeInteger(seqOf(ids[i]!))).toBe(true)
      expect(seqOf(ids[i]!)).toBeGreaterThan(seqOf(ids[i - 1]!))
    }
    expect(channel.lastEventId).toBe(ids.at(-1))
  })

  it('prefixes ids with the epoch option, and resumes ids of that epoch', async () => {
    const channel = createChannel<number>({ epoch: 'v7', history: 10 })
    const ids = publishMany(channel, 5)
    for (const id of ids) expect(id.startsWith('v7.')).toBe(true)
    const it = iter(channel, { lastEventId: ids[2] })
    expect(await pull(it, 2)).toEqual(ids.slice(3))
    await it.return!()
  })

  it('resumes ids of an epoch that itself contains dots', async () => {
    const channel = createChannel<number>({ epoch: 'deploy.2024.06', history: 10 })
    const ids = publishMany(channel, 4)
    for (const id of ids) expect(id.startsWith('deploy.2024.06.')).toBe(true)
    const it = iter(channel, { lastEventId: ids[1] })
    expect(await pull(it, 2)).toEqual(ids.slice(2))
    await it.return!()
  })

  it('gives two channels without an epoch different id spaces: an id from one resyncs on the other', async () => {
    const a = createChannel<number>({ history: 100 })
    const b = createChannel<number>({ history: 100 })
    const idsA = publishMany(a, 10)
    const idsB = publishMany(b, 10)
    expect(epochOf(idsA[0]!)).not.toBe(epochOf(idsB[0]!))
    for (const id of idsA) expect(idsB).not.toContain(id)

    const it = iter(b, { lastEventId: idsA[4] })
    expect(await pull(it, 1)).toEqual(['resync'])
    const pending = await expectPending(it)
    const live = b.publish(99)
    expect(label(await within(pending.promise))).toBe(live)
    await it.return!()
  })

  it('gives two channels with the same epoch the same id format (ids are the epoch and a sequence)', () => {
    const a = createChannel<number>({ epoch: 'same' })
    const b = createChannel<number>({ epoch: 'same' })
    expect(a.publish(1)).toBe(b.publish(1))
  })
})

describe('channel.subscribe: replay and resume', () => {
  it('without lastEventId goes live only: nothing published before is delivered', async () => {
    const channel = createChannel<number>({ history: 100 })
    publishMany(channel, 5)
    const it = iter(channel)
    const pending = await expectPending(it)
    const id = channel.publish(5)
    const result = await within(pending.promise)
    expect(label(result)).toBe(id)
    expect(result.value).toMatchObject({ id, data: 5 })
    await it.return!()
  })

  it('replays nothing when lastEventId is the newest id, then goes live', async () => {
    const channel = createChannel<number>({ history: 10 })
    const ids = publishMany(channel, 5)
    const it = iter(channel, { lastEventId: ids.at(-1) })
    const pending = await expectPending(it)
    const live = channel.publish(5)
    expect(label(await within(pending.promise))).toBe(live)
    await it.return!()
  })

  it('with history 0, the newest id still resumes without a resync', async () => {
    const channel = createChannel<number>({ history: 0 })
    const ids = publishMany(channel, 3)
    const it = iter(channel, { lastEventId: ids.at(-1) })
    const pending = await expectPending(it)
    const live = channel.publish(3)
    expect(label(await within(pending.promise))).toBe(live)
    const older = iter(channel, { lastEventId: ids[1] })
    expect(await pull(older, 1)).toEqual(['resync'])
    await it.return!()
    await older.return!()
  })

  it('history 100, 150 published: resuming from the 50th replays exactly the last 100 events, then live', async () => {
    const channel = createChannel<number>({ history: 100 })
    const ids = publishMany(channel, 150)
    const it = iter(channel, { lastEventId: ids[49] })
    const replay = await pull(it, 100)
    expect(replay).toEqual(ids.slice(50))
    const pending = await expectPending(it)
    const live = channel.publish(150)
    expect(label(await within(pending.promise))).toBe(live)
    await it.return!()
  })

  it('history 100, 150 published: resuming from the 49th is out of the window and resyncs, then live only', async () => {
    const channel = createChannel<number>({ history: 100 })
    const ids = publishMany(channel, 150)
    const it = iter(channel, { lastEventId: ids[48] })
    expect(await pull(it, 1)).toEqual(['resync'])
    const pending = await expectPending(it)
    const live = channel.publish(150)
    expect(label(await within(pending.promise))).toBe(live)
    await it.return!()
  })

  it('for every id published, resumes inside the history window and resyncs outside it', async () => {
    const history = 10
    const channel = createChannel<number>({ history })
    const ids = publishMany(channel, 30)
    for (let k = 0; k < ids.length; k++) {
      const it = iter(channel, { lastEventId: ids[k] })
      const inWindow = ids.length - (k + 1) <= history
      if (inWindow) {
        const expected = ids.slice(k + 1)
        expect(await pull(it, expected.length)).toEqual(expected)
      } else {
        expect(await pull(it, 1)).toEqual(['resync'])
      }
      // Either way, nothing else is queued: the next item is the next live event.
      await expectPending(it)
      await it.return!()
      expect(channel.subscriberCount).toBe(0)
    }
  })

  it('has no gap and no duplicate between replay and live events published during the replay', async () => {
    const channel = createChannel<number>({ history: 20 })
    const ids = publishMany(channel, 10)
    const it = iter(channel, { lastEventId: ids[4] })
    const got = await pull(it, 2)
    const more = publishMany(channel, 3, 10)
    got.push(...(await pull(it, 6)))
    expect(got).toEqual([...ids.slice(5), ...more])
    await expectPending(it)
    await it.return!()
  })

  it('delivers the published data inside the envelopes', async () => {
    const channel = createChannel<{ n: number }>({ history: 5 })
    const first = channel.publish({ n: 1 })
    channel.publish({ n: 2 })
    const it = iter(channel, { lastEventId: first })
    const result = await within(it.next())
    expect(result.done).toBe(false)
    expect(isTracked(result.value)).toBe(true)
    expect((result.value as TrackedEnvelope<{ n: number }>).data).toEqual({ n: 2 })
    await it.return!()
  })

  const bogusIds: [string, string][] = [
    ['the empty string', ''],
    ['no dot', 'x'],
    ['an epoch without sequence', 'e.'],
    ['a negative sequence', 'e.-1'],
    ['an exponent', 'e.1e3'],
    ['a fraction', 'e.1.5'],
    ['a sign', 'e.+3'],
    ['hex', 'e.0x3'],
    ['whitespace', 'e. 3'],
    ['a leading space', ' e.3'],
    ['NaN', 'e.NaN'],
    ['Infinity', 'e.Infinity'],
    ['another epoch', 'other.3'],
    ['a differently cased epoch', 'E.3'],
    ['an id from the future', 'e.11'],
    ['an id far in the future', 'e.999999'],
    ['a huge 16-digit number', `e.${'9'.repeat(16)}`],
    ['a beyond-safe-integer number', 'e.9007199254740993'],
    ['a 400-digit number', `e.${'9'.repeat(400)}`],
    ['only a dot', '.'],
    ['just the epoch', 'e'],
    // Not as the channel writes ids (String(n)): not an id it gave, even where the number is one.
    ['leading zeros (e.1 written e.00001)', 'e.00001'],
    ['a leading zero on the newest id (e.10 written e.010)', 'e.010'],
    ['zero written twice', 'e.00'],
  ]

  it.each(bogusIds)('lastEventId = %s → one resync first, then live only', async (_name, lastEventId) => {
    const channel = createChannel<number>({ epoch: 'e', history: 100 })
    publishMany(channel, 10)
    const it = iter(channel, { lastEventId })
    expect(await pull(it, 1)).toEqual(['resync'])
    const pending = await expectPending(it)
    const live = channel.publish(10)
    expect(live).toBe('e.11')
    expect(label(await within(pending.promise))).toBe(live)
    const next = channel.publish(11)
    expect(await pull(it, 1)).toEqual([next])
    await it.return!()
  })

  it('resumes from the canonical form only: e.1 replays from event 2, e.01 and e.00001 resync', async () => {
    const channel = createChannel<number>({ epoch: 'e', history: 100 })
    publishMany(channel, 3)
    const canonical = iter(channel, { lastEventId: 'e.1' })
    expect(await pull(canonical, 2)).toEqual(['e.2', 'e.3'])
    await canonical.return!()
    for (const lastEventId of ['e.01', 'e.00001']) {
      const padded = iter(channel, { lastEventId })
      expect(await pull(padded, 1)).toEqual(['resync'])
      await expectPending(padded)
      await padded.return!()
    }
  })

  it('e.0, the position before the first publish, is canonical: it resumes without a resync', async () => {
    const channel = createChannel<number>({ epoch: 'e', history: 100 })
    const it = iter(channel, { lastEventId: 'e.0' })
    const pending = await expectPending(it)
    const first = channel.publish(0)
    expect(label(await within(pending.promise))).toBe(first)
    await it.return!()
  })

  it('resyncs for any lastEventId before the first publish, except that nothing is replayed', async () => {
    const channel = createChannel<number>({ epoch: 'e', history: 100 })
    const it = iter(channel, { lastEventId: 'e.1' })
    expect(await pull(it, 1)).toEqual(['resync'])
    const pending = await expectPending(it)
    const live = channel.publish(0)
    expect(label(await within(pending.promise))).toBe(live)
    await it.return!()
  })
})

describe('channel: maxLag', () => {
  it('a subscriber exactly maxLag events behind still gets every event', async () => {
    const channel = createChannel<number>({ maxLag: 5 })
    const it = iter(channel)
    const ids = publishMany(channel, 5)
    expect(await pull(it, 5)).toEqual(ids)
    await expectPending(it)
    await it.return!()
  })

  it('a subscriber more than maxLag behind gets one resync and is skipped to the newest event', async () => {
    const channel = createChannel<number>({ maxLag: 5 })
    const it = iter(channel)
    publishMany(channel, 6)
    expect(await pull(it, 1)).toEqual(['resync'])
    // skipped to the newest: nothing of the backlog follows, only new events
    const pending = await expectPending(it)
    const live = channel.publish(6)
    expect(label(await within(pending.promise))).toBe(live)
    const more = publishMany(channel, 3, 7)
    expect(await pull(it, 3)).toEqual(more)
    await it.return!()
  })

  it('a subscriber that lags partway through its backlog resyncs then and continues with new events', async () => {
    const channel = createChannel<number>({ maxLag: 4 })
    const it = iter(channel)
    const ids = publishMany(channel, 3)
    expect(await pull(it, 1)).toEqual([ids[0]])
    publishMany(channel, 4, 3) // now 6 behind
    expect(await pull(it, 1)).toEqual(['resync'])
    const pending = await expectPending(it)
    const fresh = publishMany(channel, 2, 7)
    expect(label(await within(pending.promise))).toBe(fresh[0])
    expect(await pull(it, 1)).toEqual([fresh[1]])
    await it.return!()
  })

  it('a slow subscriber does not hold back a fast one', async () => {
    const channel = createChannel<number>({ maxLag: 3 })
    const slow = iter(channel)
    const fast = iter(channel)
    const got: string[] = []
    const ids: string[] = []
    for (let i = 0; i < 10; i++) {
      ids.push(channel.publish(i))
      got.push(...(await pull(fast, 1)))
    }
    expect(got).toEqual(ids)
    expect(await pull(slow, 1)).toEqual(['resync'])
    await expectPending(slow)
    await slow.return!()
    await fast.return!()
  })

  it('an unresumable lastEventId plus lagging past maxLag before the first pull gives ONE resync, then live', async () => {
    const channel = createChannel<number>({ maxLag: 2, history: 1 })
    publishMany(channel, 3)
    const it = iter(channel, { lastEventId: 'not-an-id' })
    publishMany(channel, 5, 3) // 5 > maxLag behind before the first pull
    expect(await pull(it, 1)).toEqual(['resync'])
    // the state reload that the resync asks for covers the skipped events too: no second resync
    const pending = await expectPending(it)
    const live = channel.publish(8)
    expect(label(await within(pending.promise))).toBe(live)
    await it.return!()
  })

  it('keeps max(history, maxLag) events: a history larger than maxLag is fully replayable', async () => {
    const channel = createChannel<number>({ history: 8, maxLag: 3 })
    const ids = publishMany(channel, 20)
    const it = iter(channel, { lastEventId: ids[11] })
    expect(await pull(it, 8)).toEqual(ids.slice(12))
    await expectPending(it)
    await it.return!()
  })

  it('keeps max(history, maxLag) events: a maxLag larger than history is fully deliverable to a live subscriber', async () => {
    const channel = createChannel<number>({ history: 2, maxLag: 7 })
    const it = iter(channel)
    const ids = publishMany(channel, 7)
    expect(await pull(it, 7)).toEqual(ids)
    // ...but history stays 2 for resuming
    const late = iter(channel, { lastEventId: ids[3] })
    expect(await pull(late, 1)).toEqual(['resync'])
    await it.return!()
    await late.return!()
  })

  it('releases events that fell out of the ring, even with a subscriber that never pulls', async () => {
    const history = 3
    const maxLag = 5
    const channel = createChannel<{ n: number; pad: number[] }>({ history, maxLag })
    const stalled = iter(channel) // never pulls
    const refs: WeakRef<object>[] = []
    for (let i = 0; i < 200; i++) {
      const data = { n: i, pad: new Array<number>(64).fill(i) }
      refs.push(new WeakRef(data))
      channel.publish(data)
    }
    await collectGarbage()
    const alive = refs.map((ref) => ref.deref() !== undefined)
    const kept = Math.max(history, maxLag)
    expect(alive.slice(0, refs.length - kept).filter(Boolean)).toHaveLength(0)
    expect(alive.slice(refs.length - kept).every(Boolean)).toBe(true)
    expect(await pull(stalled, 1)).toEqual(['resync'])
    await stalled.return!()
  })
})

describe('channel: signal and return()', () => {
  it('aborting ends a pending next() with done and removes the subscriber', async () => {
    const channel = createChannel<number>()
    const controller = new AbortController()
    const it = iter(channel, { signal: controller.signal })
    expect(channel.subscriberCount).toBe(1)
    const pending = await expectPending(it)
    controller.abort()
    expect(await within(pending.promise)).toEqual({ done: true, value: undefined })
    expect(channel.subscriberCount).toBe(0)
    channel.publish(1)
    expect(await within(it.next())).toMatchObject({ done: true })
  })

  it('aborting while not pulling ends the iteration and removes the subscriber at once', async () => {
    const channel = createChannel<number>({ history: 5 })
    const controller = new AbortController()
    const it = iter(channel, { signal: controller.signal })
    channel.publish(1)
    controller.abort()
    expect(channel.subscriberCount).toBe(0)
    expect(await within(it.next())).toMatchObject({ done: true })
  })

  it('an already-aborted signal yields nothing and never registers a subscriber', async () => {
    const channel = createChannel<number>({ history: 10 })
    const ids = publishMany(channel, 5)
    const controller = new AbortController()
    controller.abort()
    const it = iter(channel, { signal: controller.signal, lastEventId: ids[0] })
    expect(channel.subscriberCount).toBe(0)
    expect(await within(it.next())).toMatchObject({ done: true })
    channel.publish(5)
    expect(await within(it.next())).toMatchObject({ done: true })
    expect(channel.subscriberCount).toBe(0)
  })

  it('an already-aborted signal with a bogus lastEventId yields no resync either', async () => {
    const channel = createChannel<number>()
    const it = iter(channel, { signal: AbortSignal.abort(), lastEventId: 'nope' })
    expect(await within(it.next())).toMatchObject({ done: true })
  })

  it('return() ends the iteration and removes the subscriber', async () => {
    const channel = createChannel<number>({ history: 5 })
    const it = iter(channel)
    expect(channel.subscriberCount).toBe(1)
    channel.publish(1)
    expect(await within(it.return!())).toMatchObject({ done: true })
    expect(channel.subscriberCount).toBe(0)
    expect(await within(it.next())).toMatchObject({ done: true })
    // idempotent
    expect(await within(it.return!())).toMatchObject({ done: true })
    expect(channel.subscriberCount).toBe(0)
  })

  it('return() while next() is pending resolves that next() with done', async () => {
    const channel = createChannel<number>()
    const it = iter(channel)
    const pending = await expectPending(it)
    await within(it.return!())
    expect(await within(pending.promise)).toMatchObject({ done: true })
    expect(channel.subscriberCount).toBe(0)
  })

  it('return() detaches from the signal: aborting later is harmless', async () => {
    const channel = createChannel<number>()
    const controller = new AbortController()
    const it = iter(channel, { signal: controller.signal })
    await within(it.return!())
    controller.abort()
    expect(channel.subscriberCount).toBe(0)
    expect(await within(it.next())).toMatchObject({ done: true })
  })

  it('each iterator of one subscribe() result is its own subscriber', async () => {
    const channel = createChannel<number>()
    const iterable = channel.subscribe()
    const a = iterable[Symbol.asyncIterator]()
    const b = iterable[Symbol.asyncIterator]()
    expect(channel.subscriberCount).toBe(2)
    const id = channel.publish(1)
    expect(await pull(a, 1)).toEqual([id])
    expect(await pull(b, 1)).toEqual([id])
    await a.return!()
    expect(channel.subscriberCount).toBe(1)
    await b.return!()
    expect(channel.subscriberCount).toBe(0)
  })

  it('concurrent next() calls each settle, in order (none is lost)', async () => {
    const channel = createChannel<number>()
    const it = iter(channel)
    const first = track(it.next())
    const second = track(it.next())
    await settle()
    const a = channel.publish(1)
    await settle()
    const b = channel.publish(2)
    await settle()
    await within(it.return!())
    await settle()
    expect(first.settled).toBe(true)
    expect(second.settled).toBe(true)
    expect(first.result && label(first.result)).toBe(a)
    expect(second.result && label(second.result)).toBe(b)
  })
})

describe('channel: for await', () => {
  it('works with for await and break, which removes the subscriber', async () => {
    const channel = createChannel<number>({ history: 10 })
    const ids = publishMany(channel, 6)
    const seen: string[] = []
    const run = (async () => {
      for await (const item of channel.subscribe({ lastEventId: ids[0] })) {
        if (isTracked(item)) seen.push(item.id)
        if (seen.length === 3) break
        if (seen.length > 50) throw new Error('runaway loop')
      }
    })()
    await within(run)
    expect(seen).toEqual(ids.slice(1, 4))
    expect(channel.subscriberCount).toBe(0)
  })

  it('a for await loop waiting for live events ends when the signal aborts', async () => {
    const channel = createChannel<number>()
    const controller = new AbortController()
    const seen: unknown[] = []
    const run = (async () => {
      for await (const item of channel.subscribe({ signal: controller.signal })) {
        seen.push(isTracked(item) ? item.data : item)
        if (seen.length > 50) throw new Error('runaway loop')
      }
    })()
    await settle()
    channel.publish(1)
    channel.publish(2)
    await settle()
    controller.abort()
    await within(run)
    expect(seen).toEqual([1, 2])
    expect(channel.subscriberCount).toBe(0)
  })
})

describe('channel.close()', () => {
  it('ends every subscriber, pending or not, and removes them', async () => {
    const channel = createChannel<number>({ history: 10 })
    const waiting = iter(channel)
    const behind = iter(channel)
    const pending = await expectPending(waiting)
    const ids = publishMany(channel, 1)
    expect(label(await within(pending.promise))).toBe(ids[0])
    const pending2 = await expectPending(waiting)
    channel.publish(1) // behind now has two unread events
    channel.close()
    expect(await within(pending2.promise)).toMatchObject({ done: true })
    expect(await within(behind.next())).toMatchObject({ done: true })
    expect(await within(waiting.next())).toMatchObject({ done: true })
    expect(channel.subscriberCount).toBe(0)
  })

  it('leaves no subscriber registered right after close(), even one that never pulls again', () => {
    const channel = createChannel<number>()
    const controller = new AbortController()
    iter(channel)
    iter(channel, { signal: controller.signal })
    expect(channel.subscriberCount).toBe(2)
    channel.close()
    expect(channel.subscriberCount).toBe(0)
  })

  it('later publishes reach nobody, and later subscribers end at once', async () => {
    const channel = createChannel<number>({ history: 10 })
    const it = iter(channel)
    channel.close()
    channel.publish(1)
    expect(await within(it.next())).toMatchObject({ done: true })
    const late = iter(channel, { lastEventId: channel.lastEventId })
    expect(channel.subscriberCount).toBe(0)
    expect(await within(late.next())).toMatchObject({ done: true })
    const bogus = iter(channel, { lastEventId: 'bogus' })
    expect(await within(bogus.next())).toMatchObject({ done: true })
  })

  it('is idempotent', async () => {
    const channel = createChannel<number>()
    const it = iter(channel)
    channel.close()
    channel.close()
    expect(await within(it.next())).toMatchObject({ done: true })
  })
})

describe('channel.topic()', () => {
  it('returns the same channel object for the same key, and different ones for different keys', () => {
    const channel = createChannel<number>()
    const a = channel.topic('a')
    expect(channel.topic('a')).toBe(a)
    expect(channel.topic('b')).not.toBe(a)
    expect(a).not.toBe(channel)
  })

  it('isolates topics from each other and from the parent', async () => {
    const channel = createChannel<string>()
    const a = channel.topic('a')
    const b = channel.topic('b')
    const onA = iter(a)
    const onB = iter(b)
    const onParent = iter(channel)
    const idA = a.publish('to a')
    expect(await pull(onA, 1)).toEqual([idA])
    await expectPending(onB)
    await expectPending(onParent)
    expect(a.subscriberCount).toBe(1)
    expect(b.subscriberCount).toBe(1)
    expect(channel.subscriberCount).toBe(1)
    const idParent = channel.publish('to parent')
    // onParent's pending next() now gets the parent event; onB's still waits
    await settle()
    expect(b.lastEventId).toBeUndefined()
    expect(channel.lastEventId).toBe(idParent)
    await onA.return!()
    await onB.return!()
    await onParent.return!()
  })

  it('has per-topic ids and resume, with the same options (history)', async () => {
    const channel = createChannel<number>({ history: 3 })
    const a = channel.topic('a')
    const b = channel.topic('b')
    const idsA = publishMany(a, 6)
    const idsB = publishMany(b, 6)
    for (const id of idsA) expect(idsB).not.toContain(id)
    // history 3 applies to the topic
    const resumed = iter(a, { lastEventId: idsA[2] })
    expect(await pull(resumed, 3)).toEqual(idsA.slice(3))
    const tooOld = iter(a, { lastEventId: idsA[1] })
    expect(await pull(tooOld, 1)).toEqual(['resync'])
    // an id of another topic resyncs
    const foreign = iter(a, { lastEventId: idsB[4] })
    expect(await pull(foreign, 1)).toEqual(['resync'])
    await expectPending(foreign)
    for (const it of [resumed, tooOld, foreign]) await it.return!()
  })

  it('with an epoch option, topics still get ids distinct from the parent and each other', () => {
    const channel = createChannel<number>({ epoch: 'e' })
    const ids = [channel.publish(1), channel.topic('a').publish(1), channel.topic('b').publish(1)]
    expect(new Set(ids).size).toBe(3)
  })

  it('deleteTopic ends that topic’s subscribers only', async () => {
    const channel = createChannel<number>()
    const a = channel.topic('a')
    const b = channel.topic('b')
    const onA = iter(a)
    const onB = iter(b)
    const pendingA = await expectPending(onA)
    channel.deleteTopic('a')
    expect(await within(pendingA.promise)).toMatchObject({ done: true })
    expect(a.subscriberCount).toBe(0)
    const idB = b.publish(1)
    expect(await pull(onB, 1)).toEqual([idB])
    expect(channel.topic('a')).not.toBe(a)
    channel.deleteTopic('does-not-exist')
    await onB.return!()
  })

  it('after deleteTopic, the recreated topic has a fresh history: old ids resync', async () => {
    const channel = createChannel<number>({ history: 100 })
    const oldIds = publishMany(channel.topic('room'), 5)
    channel.deleteTopic('room')
    const fresh = channel.topic('room')
    publishMany(fresh, 8)
    const it = iter(fresh, { lastEventId: oldIds[1] })
    expect(await pull(it, 1)).toEqual(['resync'])
    await it.return!()
  })

  it('after deleteTopic, the recreated topic does not resume ids of the deleted one, even with an epoch option', async () => {
    const channel = createChannel<number>({ history: 100, epoch: 'stable' })
    const oldIds = publishMany(channel.topic('room'), 5)
    channel.deleteTopic('room')
    const fresh = channel.topic('room')
    const newIds = publishMany(fresh, 8)
    // the old id names an event of the deleted topic: resuming from it on the new one would
    // replay the wrong events (a silent gap/duplicate), so it must resync
    const it = iter(fresh, { lastEventId: oldIds[1] })
    const first = await pull(it, 1)
    expect(first).toEqual(['resync'])
    expect(newIds).not.toContain(oldIds[1])
    await it.return!()
  })

  it('closing the parent ends topic subscribers', async () => {
    const channel = createChannel<number>()
    const a = channel.topic('a')
    const onA = iter(a)
    const pending = await expectPending(onA)
    channel.close()
    expect(await within(pending.promise)).toMatchObject({ done: true })
    a.publish(1)
    expect(await within(onA.next())).toMatchObject({ done: true })
    expect(await within(iter(a).next())).toMatchObject({ done: true })
  })

  it('a closed parent hands out closed topics only', async () => {
    const channel = createChannel<number>()
    channel.topic('a')
    channel.close()
    const later = channel.topic('b')
    const it = iter(later)
    later.publish(1)
    expect(await within(it.next())).toMatchObject({ done: true })
    expect(later.subscriberCount).toBe(0)
  })
})

describe('channel: fan-out', () => {
  it('many subscribers receive the same envelope object for each event', async () => {
    const channel = createChannel<{ n: number }>({ history: 10 })
    const subscribers = Array.from({ length: 25 }, () => iter(channel))
    expect(channel.subscriberCount).toBe(25)
    const first = channel.publish({ n: 0 })
    for (let i = 1; i < 5; i++) channel.publish({ n: i })
    const received: Item<{ n: number }>[][] = []
    for (const it of subscribers) {
      const items: Item<{ n: number }>[] = []
      for (let i = 0; i < 5; i++) {
        const r = await within(it.next())
        expect(r.done).toBe(false)
        items.push(r.value as Item<{ n: number }>)
      }
      received.push(items)
    }
    for (const items of received.slice(1)) {
      for (let i = 0; i < 5; i++) expect(items[i]).toBe(received[0]![i])
    }
    expect(received[0]!.map((e) => (e as TrackedEnvelope<{ n: number }>).data.n)).toEqual([0, 1, 2, 3, 4])
    // a resuming subscriber replays the very same stored envelopes
    const late = iter(channel, { lastEventId: first })
    for (let i = 1; i < 5; i++) expect((await within(late.next())).value).toBe(received[0]![i])
    for (const it of [...subscribers, late]) await it.return!()
    expect(channel.subscriberCount).toBe(0)
  })
})

// ---------------------------------------------------------------------------
// model-based property test
// ---------------------------------------------------------------------------

type From = 'none' | 'future' | 'foreign' | number
type Command =
  | { k: 'publish'; count: number }
  | { k: 'subscribe'; from: From }
  | { k: 'pull'; sub: number }
  | { k: 'abort'; sub: number }
  | { k: 'return'; sub: number }

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 4 }).map((count): Command => ({ k: 'publish', count })) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        { weight: 1, arbitrary: fc.constant<From>('none') },
        { weight: 4, arbitrary: fc.nat(12) },
        { weight: 1, arbitrary: fc.constant<From>('future') },
        { weight: 1, arbitrary: fc.constant<From>('foreign') },
      )
      .map((from): Command => ({ k: 'subscribe', from })),
  },
  { weight: 6, arbitrary: fc.nat(7).map((sub): Command => ({ k: 'pull', sub })) },
  { weight: 1, arbitrary: fc.nat(7).map((sub): Command => ({ k: 'abort', sub })) },
  { weight: 1, arbitrary: fc.nat(7).map((sub): Command => ({ k: 'return', sub })) },
)

interface ModelSub {
  it: Iter<number>
  controller: AbortController
  /** seq of the last event delivered or skipped */
  cursor: number
  /** a resync is owed (lastEventId out of the window at subscribe time) */
  owesResync: boolean
  ended: boolean
  /** the outstanding next(), if any, and whether the model says it must still be waiting */
  outstanding: Tracker<Item<number>> | undefined
  waiting: boolean
  expected: string[]
  received: string[]
}

describe('channel: model-based property', () => {
  it('every subscriber gets (resync | replay) + every later event, no gap, no duplicate, resync when lagging', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(commandArb, { minLength: 1, maxLength: 40 }),
        async (history, extraLag, commands) => {
          // history ≤ maxLag: here the two limits agree on what "lagging" means
          const maxLag = Math.max(1, history + extraLag)
          const channel = createChannel<number>({ history, maxLag, epoch: 'm' })
          const ids: string[] = []
          const envelopes = new Map<string, unknown>()
          const subs: ModelSub[] = []

          /** What the next pull must deliver, per the contract; 'wait' if nothing is due yet. */
          const modelPull = (sub: ModelSub): string => {
            if (sub.ended) return 'done'
            const newest = ids.length
            if (newest - sub.cursor > maxLag) {
              sub.cursor = newest
              sub.owesResync = false
              return 'resync'
            }
            if (sub.owesResync) {
              sub.owesResync = false
              return 'resync'
            }
            if (sub.cursor < newest) {
              sub.cursor++
              return ids[sub.cursor - 1]!
            }
            return 'wait'
          }

          const end = (sub: ModelSub) => {
            if (sub.waiting) {
              sub.expected.push('done')
              sub.waiting = false
            }
            sub.ended = true
          }

          const observe = (sub: ModelSub, tracker: Tracker<Item<number>>) => {
            if (tracker.error !== undefined) {
              sub.received.push(`error:${String(tracker.error)}`)
              return
            }
            const result = tracker.result!
            const got = label(result)
            if (result.done !== true && isTracked(result.value)) {
              expect(result.value.data).toBe(seqOf(result.value.id) - 1)
              const known = envelopes.get(got)
              if (known === undefined) envelopes.set(got, result.value)
              else expect(result.value).toBe(known) // one stored envelope per event
            }
            sub.received.push(got)
          }

          for (const command of commands) {
            const live = subs.filter((s) => !s.ended)
            switch (command.k) {
              case 'publish': {
                // a burst: published synchronously, so a waiting next() wakes only after all of them
                for (let i = 0; i < command.count; i++) ids.push(channel.publish(ids.length))
                for (const sub of subs) {
                  if (sub.waiting) {
                    sub.waiting = false
                    sub.expected.push(modelPull(sub))
                  }
                }
                break
              }
              case 'subscribe': {
                const newest = ids.length
                let lastEventId: string | undefined
                let cursor = newest
                let owesResync = false
                if (command.from === 'future') {
                  lastEventId = `m.${newest + 1}`
                  owesResync = true
                } else if (command.from === 'foreign') {
                  lastEventId = `other.${newest}`
                  owesResync = true
                } else if (command.from !== 'none' && newest > 0) {
                  const seq = newest - (command.from % newest) // 1..newest
                  lastEventId = ids[seq - 1]
                  if (newest - seq <= history) cursor = seq
                  else owesResync = true
                }
                const controller = new AbortController()
                const it = iter(channel, { lastEventId, signal: controller.signal })
                subs.push({
                  it,
                  controller,
                  cursor,
                  owesResync,
                  ended: false,
                  outstanding: undefined,
                  waiting: false,
                  expected: [],
                  received: [],
                })
                break
              }
              case 'pull': {
                if (subs.length === 0) break
                const sub = subs[command.sub % subs.length]!
                if (sub.outstanding !== undefined) break
                sub.outstanding = track(sub.it.next())
                const next = modelPull(sub)
                if (next === 'wait') sub.waiting = true
                else sub.expected.push(next)
                break
              }
              case 'abort':
              case 'return': {
                if (live.length === 0) break
                const sub = live[command.sub % live.length]!
                if (command.k === 'abort') sub.controller.abort()
                else void sub.it.return!()
                end(sub)
                break
              }
            }
            await settle(2)
            for (const sub of subs) {
              const tracker = sub.outstanding
              if (tracker === undefined) continue
              if (sub.waiting) {
                expect(tracker.settled, 'a next() with nothing due must still be pending').toBe(false)
              } else {
                expect(tracker.settled, 'a next() with something due must have settled').toBe(true)
                observe(sub, tracker)
                sub.outstanding = undefined
              }
            }
            expect(channel.subscriberCount).toBe(subs.filter((s) => !s.ended).length)
          }

          for (const sub of subs) {
            if (!sub.ended) {
              sub.controller.abort()
              end(sub)
            }
          }
          await settle(2)
          for (const sub of subs) {
            if (sub.outstanding !== undefined) {
              expect(sub.outstanding.settled).toBe(true)
              observe(sub, sub.outstanding)
              sub.outstanding = undefined
            }
          }
          expect(channel.subscriberCount).toBe(0)
          for (const sub of subs) expect(sub.received).toEqual(sub.expected)
        },
      ),
      {
        numRuns: 200,
        // regression case, always checked: an unresumable lastEventId, then more than maxLag
        // events before the first pull
        examples: [[0, 0, [{ k: 'subscribe', from: 'foreign' }, { k: 'publish', count: 2 }, { k: 'pull', sub: 0 }, { k: 'pull', sub: 0 }]]],
      },
    )
  })
})

describe('the position is taken when subscribe() is called', () => {
  it('delivers what is published between subscribe() and the first pull', async () => {
    const channel = createChannel<number>()
    const events = channel.subscribe()
    const ids = publishMany(channel, 3)
    const iterator = events[Symbol.asyncIterator]()
    expect(await pull(iterator, 3)).toEqual(ids)
    await iterator.return!()
  })

  it('resolves lastEventId at subscribe() time too: a resume that was possible then still replays', async () => {
    const channel = createChannel<number>({ history: 2, maxLag: 10 })
    const ids = publishMany(channel, 3)
    const events = channel.subscribe({ lastEventId: ids[1] })
    const later = publishMany(channel, 2, 3) // the history window moves on before iteration starts
    expect(await pull(events[Symbol.asyncIterator](), 3)).toEqual([ids[2], ...later])
  })

  it('gives a resync, not a gap, when more than the ring held was published before the first pull', async () => {
    const channel = createChannel<number>({ maxLag: 3 })
    const events = channel.subscribe()
    const ids = publishMany(channel, 10)
    const iterator = events[Symbol.asyncIterator]()
    expect(await pull(iterator, 1)).toEqual(['resync'])
    const next = publishMany(channel, 1, 10)
    expect(await pull(iterator, 1)).toEqual(next)
    expect(ids).toHaveLength(10)
    await iterator.return!()
  })

  it('registers no subscriber until iteration starts', () => {
    const channel = createChannel<number>()
    channel.subscribe()
    expect(channel.subscriberCount).toBe(0)
  })
})

describe('maxTopics', () => {
  it('forgets the least recently used idle topic past the bound', async () => {
    const channel = createChannel<number>({ history: 10, maxTopics: 2 })
    const a = channel.topic('a')
    const oldId = a.publish(1)
    channel.topic('b')
    channel.topic('a') // a is now more recent than b
    channel.topic('c') // evicts b
    expect(channel.topic('a')).toBe(a)
    // a survives with its history
    const newId = a.publish(2)
    expect(await pull(iter(a, { lastEventId: oldId }), 1)).toEqual([newId])
    const evictedB = channel.topic('b') // re-created; evicts the idle least recent (c)
    expect(evictedB.lastEventId).toBeUndefined()
  })

  it('never evicts a topic that has subscribers, and a re-created topic resyncs old ids', async () => {
    const channel = createChannel<number>({ history: 10, maxTopics: 1 })
    const busy = channel.topic('busy')
    const busyIterator = iter(busy)
    const pending = track(busyIterator.next())
    const quiet = channel.topic('quiet') // over the bound, but 'busy' has a subscriber
    expect(channel.topic('busy')).toBe(busy)
    const quietId = quiet.publish(7)
    channel.topic('other') // evicts 'quiet' (idle), not 'busy'
    busy.publish(1)
    await settle()
    expect(pending.settled).toBe(true)
    expect(label(pending.result!)).toBe(busy.lastEventId)
    const recreated = channel.topic('quiet')
    expect(recreated).not.toBe(quiet)
    expect(await pull(iter(recreated, { lastEventId: quietId }), 1)).toEqual(['resync'])
    await busyIterator.return!()
  })

  it('closes an evicted topic: iterating a stale reference to it ends at once', async () => {
    const channel = createChannel<number>({ maxTopics: 1 })
    const first = channel.topic('first')
    channel.topic('second')
    expect(await pull(iter(first), 1)).toEqual(['done'])
  })
})
