import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createChannel, initRpc, isResync, parseServerFrame, RpcError, withPosition, type Channel, type TrackedEnvelope } from '@wirecall/core'
import type { Subscription } from '@wirecall/client'
import { connectClient, readyPeer, sleep, startServer, waitUntil, within } from '../../helpers/harness'

/**
 * Resuming channel subscriptions over real sockets: a client that sends
 * `lastEventId` gets exactly what it missed (while the history holds it),
 * then live events, with no gap and no duplicate even while events are
 * being published; an id the history no longer covers gets one resync and
 * then live events only; topics are isolated; a subscriber that lags
 * past `maxLag` is told to resync; and `started` carries the stream
 * position, so a client that got no event yet can resume too.
 */

const rpc = initRpc.create()

interface Msg {
  seq: number
  text: string
  at: Date
}
const msg = (seq: number, room = ''): Msg => ({ seq, text: `${room}m${seq}`, at: new Date(Date.UTC(2024, 0, 1) + seq * 1000) })

function makeRouter(channel: Channel<Msg>) {
  return rpc.router({
    ping: rpc.procedure.query(() => 'pong'),
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
    room: rpc.procedure
      .input(z.object({ room: z.string() }))
      .subscription(({ input, lastEventId, signal }) => channel.topic(input.room).subscribe({ lastEventId, signal })),
  })
}

async function setup(channel: Channel<Msg>) {
  const router = makeRouter(channel)
  const { url, server } = await startServer({ router })
  const api = connectClient<typeof router>(url)
  return { api, server }
}

/** Publishes `from..to` (inclusive) and returns their ids, indexed by seq. */
function publishRange(channel: Channel<Msg>, from: number, to: number, ids: string[] = [], room = ''): string[] {
  for (let seq = from; seq <= to; seq++) ids[seq] = channel.publish(msg(seq, room))
  return ids
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)

/** A subscriber's view: every callback, in order. `-1` stands for a resync. */
interface Watch {
  sub: Subscription
  /** Sequence numbers of the events, and -1 for each resync, in arrival order. */
  log: number[]
  events: Msg[]
  errors: RpcError[]
  started: boolean
}

function watch(subscribe: (handlers: {
  onStarted: () => void
  onData: (m: Msg) => void
  onResync: () => void
  onError: (e: RpcError) => void
  onComplete: () => void
}) => Subscription): Watch {
  const w = { log: [], events: [], errors: [], started: false } as unknown as Watch
  w.sub = subscribe({
    onStarted: () => (w.started = true),
    onData: (m) => {
      w.log.push(m.seq)
      w.events.push(m)
    },
    onResync: () => w.log.push(-1),
    onError: (e) => w.errors.push(e),
    onComplete: () => w.errors.push(new RpcError('INTERNAL', 'unexpected complete')),
  })
  return w
}

describe('resume from every id the history holds', () => {
  it('each lastEventId from the oldest resumable to the newest replays exactly the missing events, in order, then live ones', async () => {
    const channel = createChannel<Msg>({ history: 100 })
    const ids = publishRange(channel, 1, 150)
    const { api } = await setup(channel)

    // With history 100 and 150 events, resuming after seq 50 needs 51..150: the oldest resumable id.
    const watches = new Map<number, Watch>()
    for (let k = 50; k <= 150; k++) {
      watches.set(k, watch((h) => api.feed.subscribe(undefined, { ...h, lastEventId: ids[k] })))
    }
    await waitUntil(
      () => [...watches].every(([k, w]) => w.log.length >= 150 - k && w.started),
      'every subscriber to catch up to seq 150',
      5_000,
    )
    publishRange(channel, 151, 153, ids)
    await waitUntil(() => [...watches].every(([k, w]) => w.log.length >= 153 - k), 'the live events', 5_000)
    // A round trip and a moment later, nothing more has arrived.
    expect(await api.ping.query()).toBe('pong')
    await sleep(20)

    for (const [k, w] of watches) {
      expect(w.errors).toEqual([])
      expect(w.log, `resumed after seq ${k}`).toEqual(range(k + 1, 153))
      expect(w.events).toEqual(range(k + 1, 153).map((seq) => msg(seq)))
      expect(w.events.every((e) => e.at instanceof Date)).toBe(true)
      expect(w.sub.lastEventId).toBe(ids[153])
      w.sub.unsubscribe()
    }
    await waitUntil(() => channel.subscriberCount === 0, 'the channel to forget every subscriber')
  })

  it('the iterator form replays the missing events and then goes live', async () => {
    const channel = createChannel<Msg>({ history: 100 })
    const ids = publishRange(channel, 1, 150)
    const { api } = await setup(channel)
    const iterable = api.feed.subscribe(undefined, { lastEventId: ids[145] })
    const got: number[] = []
    await within(
      (async () => {
        for await (const event of iterable) {
          if (isResync(event)) throw new Error('unexpected resync')
          got.push(event.seq)
          if (event.seq === 150) publishRange(channel, 151, 152, ids)
          if (event.seq === 152) break
        }
      })(),
      'the replay and the live events',
    )
    expect(got).toEqual(range(146, 152))
  })
})

describe('resume from an id the history does not hold', () => {
  it('gets exactly one resync first, then only live events: too old, garbage, another channel, the future', async () => {
    const channel = createChannel<Msg>({ history: 100 })
    const ids = publishRange(channel, 1, 150)
    const other = createChannel<Msg>({ history: 100 })
    const otherIds = publishRange(other, 1, 150)
    const epoch = ids[1]!.slice(0, ids[1]!.lastIndexOf('.'))
    const { api } = await setup(channel)

    const cases = {
      'the 49th of 150 (one too old)': ids[49]!,
      'the oldest': ids[1]!,
      garbage: 'garbage',
      'garbage with a dot': 'garbage.12',
      'the same seq from another channel': otherIds[120]!,
      'a future id of this channel': `${epoch}.999`,
      'a non-numeric seq of this channel': `${epoch}.x`,
    }
    const watches = Object.entries(cases).map(
      ([name, lastEventId]) => [name, watch((h) => api.feed.subscribe(undefined, { ...h, lastEventId }))] as const,
    )
    await waitUntil(() => watches.every(([, w]) => w.started && w.log.length >= 1), 'every subscription to start and resync')
    publishRange(channel, 151, 152, ids)
    await waitUntil(() => watches.every(([, w]) => w.log.length >= 3), 'the live events')
    expect(await api.ping.query()).toBe('pong')
    await sleep(20)
    for (const [name, w] of watches) {
      expect(w.errors, name).toEqual([])
      expect(w.log, name).toEqual([-1, 151, 152])
      expect(w.sub.state, name).toBe('started')
      w.sub.unsubscribe()
    }
  })

  it('iterator form: the first value is a resync (isResync), then live events', async () => {
    const channel = createChannel<Msg>({ history: 100 })
    const ids = publishRange(channel, 1, 150)
    const { api } = await setup(channel)
    const iterable = api.feed.subscribe(undefined, { lastEventId: ids[10] })
    const got: (number | 'resync')[] = []
    await within(
      (async () => {
        for await (const event of iterable) {
          if (isResync(event)) {
            got.push('resync')
            publishRange(channel, 151, 151, ids)
            continue
          }
          got.push(event.seq)
          break
        }
      })(),
      'the resync and a live event',
    )
    expect(got).toEqual(['resync', 151])
  })
})

describe('resume while events are being published', () => {
  it('a chain of unsubscribe-then-resume, and subscribers joining mid-stream, see a contiguous stream with no gap and no duplicate', async () => {
    const channel = createChannel<Msg>({ history: 100 })
    const ids = publishRange(channel, 1, 20)
    const { api } = await setup(channel)

    // A pump publishing a few events per turn of the event loop, bounded.
    const MAX = 20_000
    const PER_TURN = 3
    let seq = 20
    let pumping = true
    const pumpDone = new Promise<void>((resolve) => {
      const pump = () => {
        if (!pumping || seq >= MAX) return resolve()
        for (let i = 0; i < PER_TURN; i++) {
          seq++
          ids[seq] = channel.publish(msg(seq))
        }
        setImmediate(pump)
      }
      setImmediate(pump)
    })

    const segments: number[][] = []
    const resumeErrors: RpcError[] = []
    let lastEventId = ids[20]!
    /** Subscribers that joined mid-stream: from the id they resumed after (or live, with none). */
    const joiners: { after: number | undefined; w: Watch }[] = []
    for (let round = 0; round < 10; round++) {
      // One link of the chain: resume, take some events, unsubscribe.
      const segment: number[] = []
      const sub = api.feed.subscribe(undefined, {
        lastEventId,
        onData: (m) => segment.push(m.seq),
        onResync: () => segment.push(-1),
        onError: (e) => resumeErrors.push(e),
      })
      await waitUntil(() => segment.length >= 5, `round ${round} to receive events`)
      sub.unsubscribe()
      segments.push([...segment])
      lastEventId = sub.lastEventId!
      // Someone resuming from whatever is newest right now, someone a few events back
      // (replay and live overlap while the pump runs), and someone joining live.
      const snapshot = seq
      const behind = snapshot - 7
      joiners.push({ after: snapshot, w: watch((h) => api.feed.subscribe(undefined, { ...h, lastEventId: ids[snapshot] })) })
      joiners.push({ after: behind, w: watch((h) => api.feed.subscribe(undefined, { ...h, lastEventId: ids[behind] })) })
      joiners.push({ after: undefined, w: watch((h) => api.feed.subscribe(undefined, h)) })
    }
    // The last link stays subscribed until the end.
    const tail = watch((h) => api.feed.subscribe(undefined, { ...h, lastEventId }))
    await waitUntil(() => tail.log.length >= 5, 'the tail to receive events')
    pumping = false
    await within(pumpDone, 'the pump to stop')
    const final = seq
    expect(final).toBeLessThan(MAX) // the rounds finished while the pump was still going
    await waitUntil(
      () => [tail, ...joiners.map((j) => j.w)].every((w) => w.log.at(-1) === final),
      'every live subscriber to reach the last event',
      5_000,
    )
    expect(await api.ping.query()).toBe('pong')
    await sleep(20)

    expect(resumeErrors).toEqual([])
    // The chain: each link starts right after the previous one's last event, up to the final one.
    const chain = [...segments.flat(), ...tail.log]
    expect(chain).not.toContain(-1)
    expect(chain).toEqual(range(21, final))
    for (const { after, w } of joiners) {
      expect(w.errors).toEqual([])
      expect(w.log).not.toContain(-1)
      const first = after === undefined ? w.log[0]! : after + 1
      expect(w.log).toEqual(range(first, final))
    }
    for (const w of [tail, ...joiners.map((j) => j.w)]) w.sub.unsubscribe()
    await waitUntil(() => channel.subscriberCount === 0, 'the channel to forget every subscriber')
  })
})

describe('topics', () => {
  it('subscribers of room A never see room B events, and resume works per topic', async () => {
    const channel = createChannel<Msg>({ history: 100 })
    const { api } = await setup(channel)
    const roomA = channel.topic('A')
    const roomB = channel.topic('B')
    const inA = [0, 1, 2].map(() => watch((h) => api.room.subscribe({ room: 'A' }, h)))
    const inB = [0, 1, 2].map(() => watch((h) => api.room.subscribe({ room: 'B' }, h)))
    await waitUntil(() => [...inA, ...inB].every((w) => w.started), 'every room subscription to start')

    const idsA: string[] = []
    const idsB: string[] = []
    for (let seq = 1; seq <= 10; seq++) {
      idsA[seq] = roomA.publish(msg(seq, 'A'))
      idsB[seq] = roomB.publish(msg(100 + seq, 'B'))
    }
    await waitUntil(() => [...inA, ...inB].every((w) => w.log.length >= 10), 'ten events in each room')
    expect(await api.ping.query()).toBe('pong')
    await sleep(20)
    for (const w of inA) {
      expect(w.log).toEqual(range(1, 10))
      expect(w.events.every((e) => e.text.startsWith('A'))).toBe(true)
    }
    for (const w of inB) {
      expect(w.log).toEqual(range(101, 110))
      expect(w.events.every((e) => e.text.startsWith('B'))).toBe(true)
    }

    // Resume per topic: each replays its own room from its own id.
    const resumedA = watch((h) => api.room.subscribe({ room: 'A' }, { ...h, lastEventId: idsA[4] }))
    const resumedB = watch((h) => api.room.subscribe({ room: 'B' }, { ...h, lastEventId: idsB[7] }))
    // An id of room B is not an id of room A.
    const crossed = watch((h) => api.room.subscribe({ room: 'A' }, { ...h, lastEventId: idsB[9] }))
    await waitUntil(
      () => resumedA.log.length >= 6 && resumedB.log.length >= 3 && crossed.log.length >= 1 && crossed.started,
      'the replays and the resync',
    )
    roomA.publish(msg(11, 'A'))
    roomB.publish(msg(111, 'B'))
    await waitUntil(() => resumedA.log.length >= 7 && resumedB.log.length >= 4 && crossed.log.length >= 2, 'the live events')
    expect(await api.ping.query()).toBe('pong')
    await sleep(20)
    expect(resumedA.log).toEqual(range(5, 11))
    expect(resumedB.log).toEqual(range(108, 111))
    expect(crossed.log).toEqual([-1, 11])
    for (const w of [...inA, ...inB, resumedA, resumedB, crossed]) {
      expect(w.errors).toEqual([])
      w.sub.unsubscribe()
    }
    await waitUntil(() => roomA.subscriberCount === 0 && roomB.subscriberCount === 0, 'the rooms to forget their subscribers')
  })
})

describe('a lagging subscriber', () => {
  it('falling more than maxLag events behind gets one resync, is skipped ahead, and stays live', async () => {
    const maxLag = 5
    const channel = createChannel<Msg>({ history: 0, maxLag })
    const { api } = await setup(channel)
    const w = watch((h) => api.feed.subscribe(undefined, h))
    await waitUntil(() => w.started, 'the subscription to start')
    channel.publish(msg(1))
    await waitUntil(() => w.log.length === 1, 'the first event')
    // A burst in one tick: the server cannot pull in between, so its cursor falls 50 behind.
    for (let seq = 2; seq <= 51; seq++) channel.publish(msg(seq))
    await waitUntil(() => w.log.includes(-1), 'the resync')
    channel.publish(msg(52))
    await waitUntil(() => w.log.at(-1) === 52, 'a live event after the resync')
    expect(w.errors).toEqual([])
    expect(w.log[0]).toBe(1)
    expect(w.log.filter((s) => s === -1)).toHaveLength(1)
    const afterResync = w.log.slice(w.log.indexOf(-1) + 1)
    // Skipped ahead: at most maxLag of the burst, all recent, in order, then the live one.
    expect(afterResync.length).toBeLessThanOrEqual(maxLag + 1)
    expect(afterResync.every((s) => s > 51 - maxLag)).toBe(true)
    expect(afterResync).toEqual([...afterResync].sort((a, b) => a - b))
    expect(new Set(afterResync).size).toBe(afterResync.length)
    // Nothing of the burst was delivered before the resync.
    expect(w.log.slice(0, w.log.indexOf(-1))).toEqual([1])
    w.sub.unsubscribe()
  })
})

describe('stream position in started', () => {
  it('lets a client that never received an event resume without missing any', async () => {
    const channel = createChannel<number>({ history: 10 })
    channel.publish(0)
    const router = rpc.router({
      feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
    })
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)

    const first = api.feed.subscribe(undefined, { onData: () => {} })
    await waitUntil(() => first.state === 'started', 'started')
    expect(first.lastEventId).toBe(channel.lastEventId)
    first.unsubscribe()
    await waitUntil(() => channel.subscriberCount === 0, 'unsubscribed on the server')

    // Published while nobody listened: the next subscription resumes from the remembered position.
    channel.publish(1)
    channel.publish(2)
    const got: number[] = []
    const second = api.feed.subscribe(undefined, { lastEventId: first.lastEventId, onData: (n) => got.push(n) })
    await waitUntil(() => got.length === 2, 'the two missed events')
    channel.publish(3)
    await waitUntil(() => got.length === 3, 'the live event')
    expect(got).toEqual([1, 2, 3])
    second.unsubscribe()
  })

  it('is the newest event after a resync, so the next resume is not another resync', async () => {
    const channel = createChannel<number>({ history: 2 })
    const ids = [1, 2, 3, 4, 5].map((n) => channel.publish(n))
    const router = rpc.router({
      feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
    })
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    let resyncs = 0
    const sub = api.feed.subscribe(undefined, { lastEventId: ids[0], onResync: () => resyncs++ })
    await waitUntil(() => resyncs === 1, 'the resync')
    expect(sub.lastEventId).toBe(ids[4])
    sub.unsubscribe()
  })

  it('is on the wire as started.eventId, and absent for a plain generator', async () => {
    const channel = createChannel<number>()
    const last = channel.publish(7)
    const router = rpc.router({
      feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
      plain: rpc.procedure.subscription(async function* () {
        yield 1
      }),
      own: rpc.procedure.subscription(() => {
        const source = (async function* (): AsyncGenerator<TrackedEnvelope<number>> {})()
        return { [Symbol.asyncIterator]: () => withPosition(source, () => 'mine.41') }
      }),
    })
    const { url } = await startServer({ router })
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'feed' })
    peer.send({ type: 'subscribe', id: 2, path: 'plain' })
    peer.send({ type: 'subscribe', id: 3, path: 'own' })
    expect(await peer.next((m) => m.type === 'started' && m.id === 1)).toEqual({ type: 'started', id: 1, eventId: last })
    expect(await peer.next((m) => m.type === 'started' && m.id === 2)).toEqual({ type: 'started', id: 2 })
    expect(await peer.next((m) => m.type === 'started' && m.id === 3)).toEqual({ type: 'started', id: 3, eventId: 'mine.41' })
  })

  it('is checked like any other field: an oversized or non-string eventId is a protocol error', () => {
    expect(parseServerFrame(JSON.stringify({ type: 'started', id: 1, eventId: 'x'.repeat(2000) })).ok).toBe(false)
    expect(parseServerFrame(JSON.stringify({ type: 'started', id: 1, eventId: 5 })).ok).toBe(false)
    expect(parseServerFrame(JSON.stringify({ type: 'started', id: 1, eventId: 'a.1' })).ok).toBe(true)
  })
})
