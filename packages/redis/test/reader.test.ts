import { isRpcError } from '@wirecall/core'
import { createChannel } from '@wirecall/server'
import { describe, expect, it } from 'vitest'
import { sleep, waitUntil, within } from '../../../tests/helpers/async'
import { connect, connectionsNamed, monitor, startRedis, type RedisServer } from './fixture'
import { backendOn, twoNodes } from './nodes'
import { recordTail } from './tail-recorder'
import { sequence, subscriber } from './subscriber'

/**
 * The Redis channel backend's live side: one multiplexed blocking reader per
 * node, re-armed at once when the set of streams changes, resuming after a
 * blip without loss, and telling its tails when a stream was lost or
 * trimmed under it. Real redis-server on 127.0.0.1, real node-redis clients.
 */

/** Whether a connection named `name` is blocked in a command now (`CLIENT LIST` flag `b`). */
async function blocked(redis: RedisServer, name: string): Promise<boolean> {
  return (await connectionsNamed(redis, name)).some((info) => (info['flags'] ?? '').includes('b'))
}

async function waitBlocked(redis: RedisServer, name: string): Promise<void> {
  const deadline = Date.now() + 3_000
  while (!(await blocked(redis, name))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${name}'s reader to block in XREAD`)
    await sleep(5)
  }
}

/** The reader's own connection of the node named `name`: the one whose last command was XREAD. */
async function readerConnection(redis: RedisServer, name: string): Promise<Readonly<Record<string, string>>> {
  const readers = (await connectionsNamed(redis, name)).filter((info) => info['cmd'] === 'xread')
  expect(readers).toHaveLength(1)
  return readers[0]!
}

describe('one multiplexed reader per node', () => {
  it('follows 500 topics over one blocking connection: the node holds readers + 1 connections, one of them in XREAD', async () => {
    const { redis, node, publisher } = await twoNodes({ blockMs: 5_000 })
    const tails = sequence(500).map((i) => recordTail(node, `feed:${i}`))
    await within(Promise.all(tails.map((tail) => tail.started)), '500 tails to start', 10_000)
    await waitBlocked(redis, 'node-a')

    expect(node.tailedStreams).toBe(500)
    expect(node.readerConnections).toBe(1)
    const connections = await connectionsNamed(redis, 'node-a')
    // The command client and one reader, whatever the number of streams.
    expect(connections.length).toBeLessThanOrEqual(1 + 1)
    expect(connections.filter((info) => info['cmd'] === 'xread')).toHaveLength(1)

    // The one XREAD covers them all: the last topic followed gets its event.
    await publisher.publish('feed:500', ',"data":500', 100)
    await publisher.publish('feed:1', ',"data":1', 100)
    await waitUntil(() => tails[499]!.events.length === 1 && tails[0]!.events.length === 1, 'the events of feed:1 and feed:500')
    expect(tails[499]!.events[0]!.fields).toBe(',"data":500')
    expect(tails.slice(1, 499).every((tail) => tail.events.length === 0)).toBe(true)
  })

  it('with readers: 3, spreads 200 topics over at most 3 blocking connections', async () => {
    const { redis, node } = await twoNodes({ readers: 3, blockMs: 5_000 })
    const tails = sequence(200).map((i) => recordTail(node, `room:${i}`))
    await within(Promise.all(tails.map((tail) => tail.started)), '200 tails to start', 10_000)
    await waitUntil(() => node.readerConnections === 3, 'three readers')
    const connections = await connectionsNamed(redis, 'node-a')
    expect(connections.length).toBeLessThanOrEqual(3 + 1)
    expect(node.tailedStreams).toBe(200)
  })

  it('reads a stream added while the reader is blocked within a few ms, not after blockMs', async () => {
    const { redis, node, publisher } = await twoNodes({ blockMs: 5_000 })
    const first = recordTail(node, 'first')
    await first.started
    await waitBlocked(redis, 'node-a')

    const added = recordTail(node, 'added')
    await within(added.started, 'the added tail to start')
    const sent = performance.now()
    await publisher.publish('added', ',"data":"hello"', 100)
    await waitUntil(() => added.events.length === 1, 'the event of the added stream', 2_000)
    expect(added.arrivals[0]! - sent).toBeLessThan(500)
    expect(added.events[0]!.fields).toBe(',"data":"hello"')
    expect(first.events).toEqual([])
  })

  it('stops naming a stream in XREAD once its last tail closes; with none left it tails nothing and blocks nowhere within 1 s', async () => {
    const { redis, node, publisher } = await twoNodes({ blockMs: 5_000 })
    const keep = recordTail(node, 'keep')
    const leave = recordTail(node, 'leave')
    const leaveToo = recordTail(node, 'leave')
    await Promise.all([keep.started, leave.started, leaveToo.started])
    await waitBlocked(redis, 'node-a')
    const watched = await monitor(redis)
    const streamKey = (name: string) => `"wirecall:{${name}}:s"`

    // One of two tails of the stream goes: it is still read.
    leaveToo.close()
    await sleep(50)
    expect(node.tailedStreams).toBe(2)

    leave.close()
    expect(node.tailedStreams).toBe(1)
    const mark = watched.lines.length
    await waitUntil(() => watched.commands('XREAD', mark).length > 0, 'the XREAD re-armed over the streams left', 1_000)
    const rearmed = watched.commands('XREAD', mark)
    expect(rearmed.every((line) => line.includes(streamKey('keep')) && !line.includes(streamKey('leave')))).toBe(true)
    // The other stream is still delivered.
    await publisher.publish('keep', ',"data":1', 100)
    await publisher.publish('leave', ',"data":1', 100)
    await waitUntil(() => keep.events.length === 1, 'the event of the stream still followed')
    // The XREAD issued after that delivery is blocked, and MONITOR has shown it, before the last tail goes.
    await waitBlocked(redis, 'node-a')
    await sleep(50)

    keep.close()
    expect(node.tailedStreams).toBe(0)
    const last = watched.lines.length
    await sleep(1_000)
    expect(await blocked(redis, 'node-a')).toBe(false)
    expect(watched.commands('XREAD', last).filter((line) => line.includes(streamKey('keep')) || line.includes(streamKey('leave')))).toEqual([])
    expect(leave.events).toEqual([])
  })
})

describe('channel subscribers and the reader', () => {
  it('every channel subscriber leaving (signals aborted): the node tails nothing and no connection of it is blocked within 1 s', async () => {
    const { redis, node } = await twoNodes({ blockMs: 5_000 })
    const chat = createChannel<number>({ backend: node, name: 'chat', history: 10 })
    const subscribers = [
      subscriber<number>((signal) => chat.subscribe({ signal })),
      subscriber<number>((signal) => chat.subscribe({ signal })),
      subscriber<number>((signal) => chat.topic('room-1').subscribe({ signal })),
    ]
    await Promise.all(subscribers.map((s) => s.ready))
    await waitBlocked(redis, 'node-a')
    expect(node.tailedStreams).toBe(2)

    const left = performance.now()
    await Promise.all(subscribers.map((s) => s.stop()))
    expect(node.tailedStreams).toBe(0)
    while (await blocked(redis, 'node-a')) {
      if (performance.now() - left > 1_000) throw new Error('the reader is still blocked in XREAD 1 s after every subscriber left')
      await sleep(10)
    }
  })
})

describe('after a Redis blip', () => {
  /** Kills every connection of the node named `name` (the reader's and the command client's), by id: the publisher keeps its own. */
  const killNode = async (redis: RedisServer, name: string) => {
    for (const info of await connectionsNamed(redis, name)) await redis.command('CLIENT', 'KILL', 'ID', info['id']!)
  }

  it.each([
    ['CLIENT KILL of the node’s connections', (redis: RedisServer) => killNode(redis, 'node-a')],
    ['DEBUG SLEEP 1', (redis: RedisServer) => redis.command('DEBUG', 'SLEEP', '1')],
  ])('%s: every event published before, during and after it reaches every subscriber once, with no resync', async (_what, blip) => {
    const { redis, node, publisher } = await twoNodes({ blockMs: 1_000 })
    const on = createChannel<number>({ backend: node, name: 'feed', history: 1_000 })
    const from = createChannel<number>({ backend: publisher, name: 'feed', history: 1_000 })
    const subscribers = [subscriber<number>((signal) => on.subscribe({ signal })), subscriber<number>((signal) => on.subscribe({ signal }))]
    await Promise.all(subscribers.map((s) => s.ready))

    for (const n of sequence(20)) await from.publish(n)
    await waitUntil(() => subscribers.every((s) => s.data.length === 20), 'the events before the blip')
    const during = blip(redis)
    // Published while the node is cut off (or Redis is asleep): they queue in the publisher's client.
    const published = Promise.all(sequence(20, 21).map((n) => from.publish(n)))
    await during
    await within(published, 'the publishes made during the blip', 5_000)
    for (const n of sequence(20, 41)) await from.publish(n)

    await waitUntil(() => subscribers.every((s) => s.data.length >= 60), 'every event after the blip', 5_000)
    await sleep(100)
    for (const s of subscribers) {
      expect(s.data).toEqual(sequence(60))
      expect(s.resyncs).toEqual([])
      expect(s.failure).toBeUndefined()
    }
  })
})

describe('streams lost or trimmed under the reader', () => {
  it('FLUSHALL with subscribers tailing, then a publish: every subscriber gets stream-reset, then the new stream’s events', async () => {
    const { redis, node, publisher } = await twoNodes({ blockMs: 1_000 })
    const on = createChannel<number>({ backend: node, name: 'feed', history: 100 })
    const from = createChannel<number>({ backend: publisher, name: 'feed', history: 100 })
    const subscribers = [subscriber<number>((signal) => on.subscribe({ signal })), subscriber<number>((signal) => on.subscribe({ signal }))]
    const tail = recordTail(node, 'feed')
    await Promise.all([...subscribers.map((s) => s.ready), tail.started])
    for (const n of sequence(5)) await from.publish(n)
    await waitUntil(() => subscribers.every((s) => s.data.length === 5), 'the first stream’s events')

    await redis.command('FLUSHALL')
    // A new stream's first id is past the old newest only once Redis's clock has moved on.
    await sleep(5)
    await from.publish(100)
    await waitUntil(() => subscribers.every((s) => s.resyncs.length === 1), 'stream-reset on every subscriber', 5_000)
    for (const n of [101, 102]) await from.publish(n)
    await waitUntil(() => subscribers.every((s) => s.data.includes(102)), 'the new stream’s later events')

    for (const s of subscribers) {
      expect(s.resyncs).toEqual([{ reason: 'stream-reset', afterEvents: 5 }])
      expect(s.data.slice(0, 5)).toEqual(sequence(5))
      // Nothing of the old stream after the reset; the new one's events in order, none twice.
      expect(s.data.slice(5).filter((n) => n < 100)).toEqual([])
      expect(s.data.slice(-2)).toEqual([101, 102])
      expect(new Set(s.data).size).toBe(s.data.length)
    }
    // The backend's tail: the reset, then the new stream from its first event.
    await waitUntil(() => tail.events.length === 8, 'the new stream’s events on the tail')
    expect(tail.resets).toMatchObject([{ reason: 'stream-reset', afterEvents: 5 }])
    expect(tail.events.map((event) => Number(event.fields.slice(8)))).toEqual([1, 2, 3, 4, 5, 100, 101, 102])
  })

  it('events trimmed before the reader read them (its connection down while 300 are published into history 10): the tail gets trimmed then the survivors; a subscriber gets trimmed, then live events', async () => {
    const redis = await startRedis()
    // The node reconnects only after 300 ms: long enough for the stream to move on without it.
    const client = await connect(redis, 'node-a', () => 300)
    const node = backendOn(client, { blockMs: 1_000 })
    const publisher = backendOn(await connect(redis, 'publisher'))
    const on = createChannel<number>({ backend: node, name: 'feed', history: 10 })
    const from = createChannel<number>({ backend: publisher, name: 'feed', history: 10 })
    const paused = subscriber<number>((signal) => on.subscribe({ signal }))
    const tail = recordTail(node, 'feed')
    await Promise.all([paused.ready, tail.started])
    await from.publish(1)
    await waitUntil(() => paused.data.length === 1 && tail.events.length === 1, 'the first event')
    await waitBlocked(redis, 'node-a')

    await redis.command('CLIENT', 'KILL', 'ID', (await readerConnection(redis, 'node-a'))['id']!)
    await Promise.all(sequence(300, 2).map((n) => from.publish(n)))
    // MAXLEN ~ trims whole nodes of 100 entries: the oldest event kept is past 2.
    const [[, oldest]] = (await redis.command('XRANGE', 'wirecall:{feed}:s', '-', '+', 'COUNT', '1')) as [[string, string[]]]
    const firstKept = Number(oldest[1])
    expect(firstKept).toBeGreaterThan(2)

    // The tail: told of the gap, then every event the stream still holds, in order.
    await waitUntil(() => tail.events.length > 1 && tail.events.at(-1)!.fields === ',"data":301', 'the events the stream still holds', 5_000)
    expect(tail.resets).toEqual([{ reason: 'trimmed', position: tail.events[0]!.id, afterEvents: 1 }])
    expect(tail.events.slice(1).map((event) => Number(event.fields.slice(8)))).toEqual(sequence(301 - firstKept + 1, firstKept))

    // A subscriber: the resync, then (as after any resync) live from the newest on.
    await waitUntil(() => paused.resyncs.length === 1, 'the resync of the subscriber')
    await from.publish(302)
    await waitUntil(() => paused.data.includes(302), 'a live event after the resync')
    expect(paused.resyncs).toEqual([{ reason: 'trimmed', afterEvents: 1 }])
    expect(paused.data[0]).toBe(1)
    expect(paused.data.at(-1)).toBe(302)
    const after = paused.data.slice(1)
    expect(after).toEqual(sequence(after.length, after[0]))
  })

  it('a count that skips (events added and trimmed between two reads): the tail is reset with trimmed, then goes on', async () => {
    const { redis, node, publisher } = await twoNodes({ blockMs: 1_000 })
    const tail = recordTail(node, 'feed')
    await tail.started
    await publisher.publish('feed', ',"data":1', 10)
    await waitUntil(() => tail.events.length === 1, 'the first event')
    // As if four events were published and trimmed before this node read them: the count moves on, the stream keeps none of them.
    await redis.command('HINCRBY', 'wirecall:{feed}:m', 'n', '4')
    await publisher.publish('feed', ',"data":6', 10)
    await publisher.publish('feed', ',"data":7', 10)
    await waitUntil(() => tail.events.length === 3, 'the events after the gap')
    expect(tail.events.map((event) => event.fields)).toEqual([',"data":1', ',"data":6', ',"data":7'])
    expect(tail.resets).toHaveLength(1)
    expect(tail.resets[0]).toMatchObject({ reason: 'trimmed', afterEvents: 1, position: tail.events[0]!.id })
  })
})

describe('a quiet stream outliving its expiry', () => {
  /** Waits until the meta hash (the epoch) of `stream` has expired. */
  async function expired(redis: RedisServer, stream: string): Promise<void> {
    const deadline = Date.now() + 3_000
    while ((await redis.command('EXISTS', `wirecall:{${stream}}:m`)) !== 0) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the meta hash of ${stream} to expire`)
      await sleep(50)
    }
  }

  it('a stream tailed but not published to for longer than historyTtlMs, then published to: the tail is reset (stream-reset), and every id it hands out after resumes anywhere', async () => {
    const { redis, node, publisher } = await twoNodes({ historyTtlMs: 1_000 })
    const tail = recordTail(node, 'quiet')
    await tail.started
    // Its meta hash, and with it the epoch, expires while the node still tails it.
    await expired(redis, 'quiet')
    await publisher.publish('quiet', ',"data":1', 10)
    await waitUntil(() => tail.resets.length === 1, 'the reset')
    expect(tail.resets[0]!.reason).toBe('stream-reset')
    const second = await publisher.publish('quiet', ',"data":2', 10)
    await waitUntil(() => tail.events.some((event) => event.id === second), 'the second event, under the new epoch')
    for (const event of tail.events) expect((await node.read('quiet', event.id, 10)).kind, event.id).toBe('events')
  })

  it('a channel subscriber of a quiet stream that expired and began again: stream-reset, then events whose ids resume on another node with no resync', async () => {
    const { redis, node, publisher } = await twoNodes({ historyTtlMs: 1_000 })
    const on = createChannel<number>({ backend: node, name: 'quiet', history: 10 })
    const from = createChannel<number>({ backend: publisher, name: 'quiet', history: 10 })
    const listening = subscriber<number>((signal) => on.subscribe({ signal }))
    await listening.ready
    await expired(redis, 'quiet')
    await from.publish(1)
    await waitUntil(() => listening.resyncs.length === 1, 'the resync')
    await from.publish(2)
    await waitUntil(() => listening.data.includes(2), 'the event after the resync')
    expect(listening.resyncs).toEqual([{ reason: 'stream-reset', afterEvents: 0 }])
    const seen = listening.ids.at(-1)!
    await from.publish(3)
    // The client reconnects to the other node with the id it had seen when its connection dropped.
    const resumed = subscriber<number>((signal) => from.subscribe({ lastEventId: seen, signal }))
    await resumed.ready
    await from.publish(4)
    await waitUntil(() => resumed.data.includes(4), 'the resumed subscriber’s events')
    expect(resumed.resyncs).toEqual([])
    expect(resumed.data).toEqual([3, 4])
  })
})

describe('bounds', () => {
  it('keeps XLEN under history + 100 after 10,000 publishes', async () => {
    const { redis, publisher } = await twoNodes()
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(sequence(500).map((n) => publisher.publish('feed', `,"data":${batch * 500 + n}`, 100)))
    }
    const length = await redis.command('XLEN', 'wirecall:{feed}:s')
    expect(length).toBeGreaterThanOrEqual(100)
    expect(length).toBeLessThan(100 + 100)
    expect(await redis.command('HGET', 'wirecall:{feed}:m', 'n')).toBe('10000')
  })

  it('gives every key it writes an expiry: streams, meta hashes, and the meta of a stream only tailed', async () => {
    const { redis, node, publisher } = await twoNodes({ historyTtlMs: 60_000 })
    const tail = recordTail(node, 'tailed-only')
    await tail.started
    await publisher.publish('published', ',"data":1', 10)
    await publisher.publish('tailed-only', ',"data":1', 10)
    // A resume reads and writes nothing without an expiry either.
    expect((await node.read('published', await publisher.publish('published', ',"data":2', 10), 10)).kind).toBe('events')
    expect(await node.read('never-written', 'abcdefgh.1-0', 10)).toEqual({ kind: 'resync', reason: 'stream-reset' })
    await recordTail(node, 'never-published').started

    const keys = (await redis.command('KEYS', '*')) as string[]
    expect(keys.sort()).toEqual(
      ['never-published', 'published', 'tailed-only'].flatMap((name) => (name === 'never-published' ? [`wirecall:{${name}}:m`] : [`wirecall:{${name}}:m`, `wirecall:{${name}}:s`])).sort(),
    )
    for (const key of keys) {
      const ttl = (await redis.command('PTTL', key)) as number
      expect(ttl, key).toBeGreaterThan(0)
      expect(ttl, key).toBeLessThanOrEqual(60_000)
    }
  })

  it('refuses an event over maxEventBytes (counted in bytes) with PAYLOAD_TOO_LARGE and stores nothing', async () => {
    const { redis, publisher } = await twoNodes({ maxEventBytes: 100 })
    const refusal = async (fields: string) => publisher.publish('feed', fields, 10).then(() => undefined, (error: unknown) => error)

    const tooLong = await refusal('x'.repeat(101))
    expect(isRpcError(tooLong) && tooLong.code).toBe('PAYLOAD_TOO_LARGE')
    // 60 characters, 120 bytes in UTF-8.
    const tooManyBytes = await refusal('é'.repeat(60))
    expect(isRpcError(tooManyBytes) && tooManyBytes.code).toBe('PAYLOAD_TOO_LARGE')
    expect(await redis.command('EXISTS', 'wirecall:{feed}:s', 'wirecall:{feed}:m')).toBe(0)

    expect(await refusal('x'.repeat(100))).toBeUndefined()
    const channel = createChannel<string>({ backend: publisher, name: 'chat', history: 10 })
    const fromChannel = await channel.publish('y'.repeat(200)).then(() => undefined, (error: unknown) => error)
    expect(isRpcError(fromChannel) && fromChannel.code).toBe('PAYLOAD_TOO_LARGE')
    expect(await redis.command('XLEN', 'wirecall:{feed}:s')).toBe(1)
  })
})

describe('Redis down', () => {
  it('publish and read fail with OVERLOADED rather than wait for Redis to come back', async () => {
    const { redis, node, publisher, publisherClient, client } = await twoNodes()
    const id = await publisher.publish('feed', ',"data":1', 10)
    await redis.kill()
    await waitUntil(() => !publisherClient.isReady && !client.isReady, 'the client to see Redis gone')
    const published = await within(publisher.publish('feed', ',"data":2', 10).then(() => undefined, (error: unknown) => error), 'the publish while Redis is down')
    expect(isRpcError(published) && published.code).toBe('OVERLOADED')
    const read = await within(node.read('feed', id, 10).then(() => undefined, (error: unknown) => error), 'the read while Redis is down')
    expect(isRpcError(read) && read.code).toBe('OVERLOADED')
  })
})
