import { createChannel } from '@wirecall/server'
import { describe, expect, it } from 'vitest'
import { sleep, waitUntil } from '../../../tests/helpers/async'
import { twoNodes } from './nodes'
import { sequence, subscriber } from './subscriber'
import type { RedisChannelBackendOptions } from '@wirecall/redis'

/**
 * The Redis channel backend's resume rule, decided by one script: the
 * events after an id, or why they cannot be replayed (`unknown-id`,
 * `stream-reset`, `position-lost`, `trimmed`, `too-far-behind`), on a real
 * redis-server on 127.0.0.1; and what a channel subscriber resuming with
 * such an id receives.
 */

describe('the resume rule (read after an id)', () => {
  /** Ids `epoch.ms-seq`: the same with another part changed. */
  const parts = (id: string) => {
    const match = /^([a-z0-9]+)\.(\d+)-(\d+)$/.exec(id)
    if (match === null) throw new Error(`not a Redis backend id: ${id}`)
    return { epoch: match[1]!, ms: Number(match[2]), seq: Number(match[3]) }
  }

  async function published(count: number, options: Omit<RedisChannelBackendOptions, 'client'> = {}, history = 1_000) {
    const nodes = await twoNodes(options)
    const ids: string[] = []
    for (const n of sequence(count)) ids.push(await nodes.publisher.publish('feed', `,"data":${n}`, history))
    return { ...nodes, ids }
  }

  it('replays the events after a known id, in pages of `limit`, the newest id giving none', async () => {
    const { node, ids } = await published(10)
    const page = await node.read('feed', ids[2]!, 3)
    expect(page).toEqual({ kind: 'events', events: ids.slice(3, 6).map((id, i) => ({ id, fields: `,"data":${i + 4}` })) })
    const rest = await node.read('feed', ids[5]!, 100)
    expect(rest.kind === 'events' && rest.events.map((event) => event.id)).toEqual(ids.slice(6))
    expect(await node.read('feed', ids[9]!, 100)).toEqual({ kind: 'events', events: [] })
  })

  it.each([
    ['an in-memory channel’s id', 'abc.5'],
    ['an empty id', ''],
    ['no epoch', '1700000000000-0'],
    ['an upper-case epoch', 'ABC.1-0'],
    ['a half stream id', 'abc.17-'],
    ['junk', 'x'.repeat(300)],
  ])('%s: unknown-id, never an error', async (_what, id) => {
    const { node } = await published(3)
    expect(await node.read('feed', id, 10)).toEqual({ kind: 'resync', reason: 'unknown-id' })
  })

  it('an id of the stream’s epoch that it does not hold, between two events (a write lost in a failover, then newer ones): position-lost', async () => {
    const { node, publisher } = await twoNodes()
    const ids: string[] = []
    for (const n of sequence(3)) {
      ids.push(await publisher.publish('feed', `,"data":${n}`, 100))
      // Each event in its own millisecond, so that there is room between two ids.
      await sleep(3)
    }
    const { epoch, ms, seq } = parts(ids[1]!)
    expect(parts(ids[2]!).ms).toBeGreaterThan(ms)
    expect(await node.read('feed', `${epoch}.${ms}-${seq + 1_000}`, 10)).toEqual({ kind: 'resync', reason: 'position-lost' })
  })

  it('another epoch, or a stream that is gone: stream-reset', async () => {
    const { redis, node, ids } = await published(3)
    const { ms, seq } = parts(ids[1]!)
    expect(await node.read('feed', `zzzzzzzz.${ms}-${seq}`, 10)).toEqual({ kind: 'resync', reason: 'stream-reset' })
    expect(await node.read('other', ids[1]!, 10)).toEqual({ kind: 'resync', reason: 'stream-reset' })
    await redis.command('DEL', 'wirecall:{feed}:s', 'wirecall:{feed}:m')
    expect(await node.read('feed', ids[1]!, 10)).toEqual({ kind: 'resync', reason: 'stream-reset' })
  })

  it('an id past the stream’s newest (writes lost in a failover): position-lost', async () => {
    const { node, ids } = await published(3)
    const { epoch, ms, seq } = parts(ids[2]!)
    expect(await node.read('feed', `${epoch}.${ms}-${seq + 1}`, 10)).toEqual({ kind: 'resync', reason: 'position-lost' })
    expect(await node.read('feed', `${epoch}.${ms + 60_000}-0`, 10)).toEqual({ kind: 'resync', reason: 'position-lost' })
  })

  it('further behind than maxReplay: too-far-behind; exactly maxReplay behind: replayed', async () => {
    const { node, ids } = await published(20, { maxReplay: 5 })
    expect(await node.read('feed', ids[0]!, 100)).toEqual({ kind: 'resync', reason: 'too-far-behind' })
    expect(await node.read('feed', ids[13]!, 100)).toEqual({ kind: 'resync', reason: 'too-far-behind' })
    const replay = await node.read('feed', ids[14]!, 100)
    expect(replay.kind === 'events' && replay.events.map((event) => event.id)).toEqual(ids.slice(15))
  })

  it('an id no longer in the stream (trimmed): trimmed', async () => {
    const { node, ids } = await published(300, {}, 10)
    expect(await node.read('feed', ids[0]!, 10)).toEqual({ kind: 'resync', reason: 'trimmed' })
    // Still stored (MAXLEN ~ keeps whole nodes), yet further back than the history publishers keep: trimmed as well.
    expect(await node.read('feed', ids[280]!, 10)).toEqual({ kind: 'resync', reason: 'trimmed' })
    const recent = await node.read('feed', ids[295]!, 10)
    expect(recent.kind === 'events' && recent.events.map((event) => event.id)).toEqual(ids.slice(296))
  })

  it('an id of this backend sent to an in-memory channel: a resync (unknown-id), never an error', async () => {
    const { ids } = await published(1)
    const memory = createChannel<number>({ history: 10 })
    memory.publish(1)
    const resumed = subscriber<number>((signal) => memory.subscribe({ lastEventId: ids[0]!, signal }))
    await resumed.ready
    memory.publish(2)
    await waitUntil(() => resumed.data.includes(2), 'the live event')
    expect(resumed).toMatchObject({ resyncs: [{ reason: 'unknown-id', afterEvents: 0 }], data: [2], failure: undefined })
  })

  it('stores each event as the channel encoded it, once, with its count and epoch', async () => {
    const { redis, publisher } = await twoNodes()
    const channel = createChannel<{ text: string; at: Date }>({ backend: publisher, name: 'chat', history: 10 })
    const id = await channel.publish({ text: 'hi', at: new Date(0) })
    const [[entryId, fields]] = (await redis.command('XRANGE', 'wirecall:{chat}:s', '-', '+')) as [[string, string[]]]
    expect(id).toBe(`${String(await redis.command('HGET', 'wirecall:{chat}:m', 'e'))}.${entryId}`)
    expect(fields[0]).toBe('n')
    expect(fields[1]).toBe('1')
    expect(fields[2]).toBe('d')
    // The message fields, encoded by the publisher (superjson keeps the Date's type in meta): every node and subscriber sends them as they are.
    expect(fields[3]).toMatch(/^,"data":\{"text":"hi","at":"1970-01-01T00:00:00.000Z"\}/)
    expect(fields[3]).toContain('Date')
    expect(fields.slice(4)).toEqual(['e', id.slice(0, id.indexOf('.'))])
  })

  it('a channel subscriber resuming with an id of another backend, or of another epoch, gets the resync reason, then live events', async () => {
    const { node, publisher, ids } = await published(3)
    const on = createChannel<number>({ backend: node, name: 'feed', history: 1_000 })
    const from = createChannel<number>({ backend: publisher, name: 'feed', history: 1_000 })
    const { ms, seq } = parts(ids[1]!)
    const foreign = subscriber<number>((signal) => on.subscribe({ lastEventId: 'abc.5', signal }))
    const reset = subscriber<number>((signal) => on.subscribe({ lastEventId: `zzzzzzzz.${ms}-${seq}`, signal }))
    const resumed = subscriber<number>((signal) => on.subscribe({ lastEventId: ids[0]!, signal }))
    await Promise.all([foreign.ready, reset.ready, resumed.ready])
    await from.publish(4)
    await waitUntil(() => [foreign, reset, resumed].every((s) => s.data.includes(4)), 'the live event')
    expect(foreign).toMatchObject({ resyncs: [{ reason: 'unknown-id', afterEvents: 0 }], data: [4] })
    expect(reset).toMatchObject({ resyncs: [{ reason: 'stream-reset', afterEvents: 0 }], data: [4] })
    expect(resumed).toMatchObject({ resyncs: [], data: [2, 3, 4] })
  })
})
