import { afterEach, describe, expect, it } from 'vitest'
import { memoryChannelBackend, type BackendEntry, type BackendTail, type ChannelBackend, type TailListener } from '@wirecall/server'
import { waitUntil } from '../helpers/async'

/**
 * `memoryChannelBackend()` on its own, below any channel: the resume rule
 * `read()` applies (one row per reason, in the order the rule checks
 * them), `compare()`, and what a tail reports.
 */

const fields = (n: number) => `,"data":${n}`

/** A backend with `count` events in `stream`, keeping `history`; resolves to their ids by number. */
async function filled(backend: ChannelBackend, stream: string, count: number, history: number): Promise<string[]> {
  const ids: string[] = []
  for (let n = 1; n <= count; n++) ids[n] = await backend.publish(stream, fields(n), history)
  return ids
}

/** `epoch.n` as this backend writes its ids. */
const withNumber = (id: string, n: number | string) => `${id.slice(0, id.lastIndexOf('.'))}.${n}`

const numbers = (entries: readonly BackendEntry[]) => entries.map((entry) => Number(entry.fields.slice(',"data":'.length)))

describe('memoryChannelBackend: the resume rule of read()', () => {
  // maxReplay 5, history 10, 20 events: 11..20 kept.
  const backend = memoryChannelBackend({ maxReplay: 5 })
  const ready = filled(backend, 's', 20, 10)

  const rows: [string, (ids: string[]) => string, number[] | string][] = [
    ['the newest id: nothing to replay', (ids) => ids[20]!, []],
    ['one behind', (ids) => ids[19]!, [20]],
    ['exactly maxReplay behind', (ids) => ids[15]!, [16, 17, 18, 19, 20]],
    ['maxReplay + 1 behind', (ids) => ids[14]!, 'too-far-behind'],
    ['the id just before the oldest kept (resumable, but too far behind)', (ids) => ids[10]!, 'too-far-behind'],
    ['older than the oldest kept', (ids) => ids[9]!, 'trimmed'],
    ['the position before the first event, trimmed since', (ids) => withNumber(ids[1]!, 0), 'trimmed'],
    ['newer than the newest (writes lost)', (ids) => withNumber(ids[20]!, 21), 'position-lost'],
    ['far newer', (ids) => withNumber(ids[20]!, 1e14), 'position-lost'],
    ['another epoch (the stream started again)', () => 'zz0.5', 'stream-reset'],
    ['garbage', () => 'garbage', 'unknown-id'],
    ['empty', () => '', 'unknown-id'],
    ['a leading zero (not how ids are written)', (ids) => withNumber(ids[15]!, '015'), 'unknown-id'],
    ['a negative number', (ids) => withNumber(ids[15]!, '-1'), 'unknown-id'],
    ['upper case epoch', (ids) => withNumber(ids[15]!.toUpperCase(), 15), 'unknown-id'],
    ['beyond 15 digits', (ids) => withNumber(ids[15]!, '1'.repeat(16)), 'unknown-id'],
  ]
  it.each(rows)('%s', async (_, idOf, expected) => {
    const ids = await ready
    const read = await backend.read('s', idOf(ids), 100)
    if (typeof expected === 'string') expect(read).toEqual({ kind: 'resync', reason: expected })
    else expect(read.kind === 'events' ? numbers(read.events) : read).toEqual(expected)
  })

  it('a stream that does not exist: stream-reset', async () => {
    const ids = await ready
    expect(await backend.read('missing', ids[15]!, 100)).toEqual({ kind: 'resync', reason: 'stream-reset' })
  })

  it('pages: at most `limit` events, oldest first, and at least one', async () => {
    const ids = await ready
    const two = await backend.read('s', ids[15]!, 2)
    expect(two.kind === 'events' && numbers(two.events)).toEqual([16, 17])
    const none = await backend.read('s', ids[15]!, 0)
    expect(none.kind === 'events' && numbers(none.events)).toEqual([16])
  })

  it('hands the fields back as they were stored, with the ids publish returned', async () => {
    const ids = await ready
    const read = await backend.read('s', ids[18]!, 100)
    expect(read).toEqual({ kind: 'events', events: [{ id: ids[19], fields: fields(19) }, { id: ids[20], fields: fields(20) }] })
  })

  it('after delete, the stream starts again: an old id is stream-reset', async () => {
    const other = memoryChannelBackend()
    const ids = await filled(other, 'd', 3, 10)
    await other.delete('d')
    expect(await other.read('d', ids[2]!, 100)).toEqual({ kind: 'resync', reason: 'stream-reset' })
    const fresh = await other.publish('d', fields(1), 10)
    expect(fresh).not.toBe(ids[1])
    expect(other.compare(fresh, ids[1]!)).toBeNaN()
  })

  it('with maxReplay 0, only the newest id resumes', async () => {
    const strict = memoryChannelBackend({ maxReplay: 0 })
    const ids = await filled(strict, 'z', 3, 10)
    expect(await strict.read('z', ids[3]!, 10)).toEqual({ kind: 'events', events: [] })
    expect(await strict.read('z', ids[2]!, 10)).toEqual({ kind: 'resync', reason: 'too-far-behind' })
  })

  it('history 0 still keeps the newest event', async () => {
    const none = memoryChannelBackend()
    const ids = await filled(none, 'h', 3, 0)
    expect(await none.read('h', ids[2]!, 10)).toEqual({ kind: 'events', events: [{ id: ids[3], fields: fields(3) }] })
    expect(await none.read('h', ids[1]!, 10)).toEqual({ kind: 'resync', reason: 'trimmed' })
  })
})

describe('memoryChannelBackend: compare()', () => {
  it('orders ids of one stream by their number, not as strings', async () => {
    const backend = memoryChannelBackend()
    const ids = await filled(backend, 'c', 12, 100)
    expect(backend.compare(ids[2]!, ids[10]!)).toBeLessThan(0)
    expect(backend.compare(ids[10]!, ids[2]!)).toBeGreaterThan(0)
    expect(backend.compare(ids[7]!, ids[7]!)).toBe(0)
    expect(backend.compare(withNumber(ids[1]!, 0), ids[1]!)).toBeLessThan(0)
  })

  it('is NaN across streams (epochs) and for ids it did not write', async () => {
    const backend = memoryChannelBackend()
    const a = await filled(backend, 'a', 2, 10)
    const b = await filled(backend, 'b', 2, 10)
    expect(backend.compare(a[1]!, b[1]!)).toBeNaN()
    expect(backend.compare(a[1]!, 'garbage')).toBeNaN()
    expect(backend.compare('garbage', 'garbage')).toBeNaN()
    expect(backend.compare(a[1]!, withNumber(a[1]!, '01'))).toBeNaN()
  })
})

describe('memoryChannelBackend: tail()', () => {
  const tails: BackendTail[] = []
  afterEach(() => {
    for (const tail of tails.splice(0)) tail.close()
  })

  /** A tail and everything it reported, in order. */
  function follow(backend: ChannelBackend, stream: string) {
    const log: string[] = []
    const listener: TailListener = {
      started: (position) => void log.push(`started ${position ?? '-'}`),
      events: (entries) => void log.push(...entries.map((entry) => entry.id)),
      reset: (reason, position) => void log.push(`reset ${reason} ${position ?? '-'}`),
    }
    const tail = backend.tail(stream, listener)
    tails.push(tail)
    return { log, tail }
  }

  it('starts after the newest event (the position before the first one on an empty stream), then reports each event once, in order', async () => {
    const backend = memoryChannelBackend()
    const empty = follow(backend, 'e')
    await waitUntil(() => empty.log.length === 1, 'the empty stream tail to start')
    expect(empty.log[0]).toMatch(/^started [a-z0-9]+\.0$/)
    const ids = await filled(backend, 't', 3, 10)
    const { log } = follow(backend, 't')
    await waitUntil(() => log.length === 1, 'the tail to start')
    expect(log).toEqual([`started ${ids[3]}`])
    const more = [await backend.publish('t', fields(4), 10), await backend.publish('t', fields(5), 10)]
    await waitUntil(() => log.length === 3, 'the two events')
    expect(log).toEqual([`started ${ids[3]}`, ...more])
    // The empty stream's start position resumes the events published since.
    const first = await backend.publish('e', fields(1), 10)
    const read = await backend.read('e', empty.log[0]!.slice('started '.length), 10)
    expect(read).toEqual({ kind: 'events', events: [{ id: first, fields: fields(1) }] })
  })

  it('reports nothing after close()', async () => {
    const backend = memoryChannelBackend()
    const { log, tail } = follow(backend, 'c')
    await waitUntil(() => log.length === 1, 'the tail to start')
    tail.close()
    await backend.publish('c', fields(1), 10)
    await new Promise((resolve) => setImmediate(resolve))
    expect(log).toHaveLength(1)
  })

  it('a tail closed before it started reports nothing at all', async () => {
    const backend = memoryChannelBackend()
    const { log, tail } = follow(backend, 'n')
    tail.close()
    await backend.publish('n', fields(1), 10)
    await new Promise((resolve) => setImmediate(resolve))
    expect(log).toEqual([])
  })

  it('a deleted stream resets its tails (stream-reset) to the new stream, which they go on following', async () => {
    const backend = memoryChannelBackend()
    await filled(backend, 'r', 2, 10)
    const { log } = follow(backend, 'r')
    await waitUntil(() => log.length === 1, 'the tail to start')
    await backend.delete('r')
    expect(log[1]).toMatch(/^reset stream-reset [a-z0-9]+\.0$/)
    const fresh = await backend.publish('r', fields(1), 10)
    await waitUntil(() => log.length === 3, 'the event of the new stream')
    expect(log[2]).toBe(fresh)
    expect(backend.compare(log[1]!.split(' ')[2]!, fresh)).toBeLessThan(0)
  })
})
