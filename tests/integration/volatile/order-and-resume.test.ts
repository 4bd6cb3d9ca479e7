import { describe, expect, it } from 'vitest'
import { createChannel, initRpc, type Channel } from '@wirecall/core'
import { connectClient, readyPeer, startServer, waitUntil } from '../../helpers/harness'
import { startFaultProxy } from '../../helpers/fault-proxy'

/**
 * Volatile publishes over real sockets, for readers that keep up: they get
 * tracked and volatile events interleaved exactly as published; a volatile
 * event is an untracked `data` message (no `eventId`), so it never moves
 * the client's `lastEventId`, and a resume replays tracked events only.
 */

const rpc = initRpc.create()

/** `t` events are published tracked, `v` ones volatile. */
interface Ev {
  kind: 't' | 'v'
  n: number
}

function setup(channel: Channel<Ev>) {
  return rpc.router({
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
  })
}

/** Publishes `count` events numbered from `from`, every `every`-th tracked and the others volatile; returns them as published. */
function publishMixed(channel: Channel<Ev>, from: number, count: number, every = 3): Ev[] {
  const published: Ev[] = []
  for (let n = from; n < from + count; n++) {
    const event: Ev = { kind: n % every === 0 ? 't' : 'v', n }
    if (event.kind === 't') channel.publish(event)
    else expect(channel.publish(event, { volatile: true })).toBeUndefined()
    published.push(event)
  }
  return published
}

const label = (event: Ev) => `${event.kind}${event.n}`

describe('volatile events to readers that keep up', () => {
  it('a reading client gets tracked and volatile events interleaved in publish order, nothing missing; only tracked ones carry an eventId', async () => {
    const channel = createChannel<Ev>({ history: 10 })
    const router = setup(channel)
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    const got: string[] = []
    let started = false
    const sub = api.feed.subscribe(undefined, { onStarted: () => (started = true), onData: (event) => void got.push(label(event)) })
    // A raw peer too, to see the frames themselves.
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'feed' })
    await peer.next((m) => m.type === 'started')
    await waitUntil(() => started && channel.subscriberCount === 2, 'both subscriptions to start')

    // Bursts published in one turn and events one turn apart: both orders must hold.
    const published = publishMixed(channel, 1, 300)
    for (let n = 301; n <= 331; n++) {
      published.push(...publishMixed(channel, n, 1))
      await new Promise((resolve) => setImmediate(resolve))
    }
    await waitUntil(() => got.length === published.length, `the client to get all ${published.length} events`)
    expect(got).toEqual(published.map(label))
    expect(channel.volatileSkips).toBe(0)

    await waitUntil(() => peer.messages.filter((m) => m.type === 'data').length === published.length, 'the raw peer to get them all')
    const frames = peer.messages.filter((m) => m.type === 'data')
    frames.forEach((frame, i) => {
      const event = published[i]!
      expect(frame.data).toEqual(event)
      // A volatile event has no id: nothing to resume from.
      if (event.kind === 'v') expect(frame).not.toHaveProperty('eventId')
      else expect(frame.eventId).toEqual(expect.any(String))
    })
    // The client's position is the last tracked event's id, though a volatile one came last.
    expect(published.at(-1)!.kind).toBe('v')
    expect(sub.lastEventId).toBe(channel.lastEventId)
    expect(sub.lastEventId).toBe(frames.filter((frame) => frame.eventId !== undefined).at(-1)!.eventId)
  })

  it('a resubscribe with lastEventId replays the tracked events after it only, never a volatile one', async () => {
    const channel = createChannel<Ev>({ history: 100 })
    const router = setup(channel)
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)

    const first = channel.publish({ kind: 't', n: 0 })
    publishMixed(channel, 1, 30)
    const last = channel.publish({ kind: 't', n: 31 })
    // Volatile publishes move nothing: not the position, not the history.
    channel.publish({ kind: 'v', n: 32 }, { volatile: true })
    expect(channel.lastEventId).toBe(last)

    const got: string[] = []
    let started = false
    api.feed.subscribe(undefined, { lastEventId: first, onStarted: () => (started = true), onData: (event) => void got.push(label(event)) })
    const tracked = [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 31].map((n) => `t${n}`)
    await waitUntil(() => started && got.length === tracked.length, 'the replay')
    expect(got).toEqual(tracked)
    // Then live: volatile events reach it again.
    channel.publish({ kind: 'v', n: 33 }, { volatile: true })
    channel.publish({ kind: 't', n: 34 })
    await waitUntil(() => got.length === tracked.length + 2, 'the live events')
    expect(got.slice(tracked.length)).toEqual(['v33', 't34'])
  })

  it('a client that reconnects resumes after the last tracked event it got, though a volatile one came after it, and gets nothing published volatile while it was away', async () => {
    const channel = createChannel<Ev>({ history: 100 })
    const router = setup(channel)
    const { url, port } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    const api = connectClient<typeof router>(proxy.url('/rpc'), { keepAlive: false, reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
    void url
    const got: string[] = []
    let starts = 0
    api.feed.subscribe(undefined, { onStarted: () => starts++, onData: (event) => void got.push(label(event)) })
    await waitUntil(() => starts === 1 && channel.subscriberCount === 1, 'the subscription to start')
    channel.publish({ kind: 't', n: 1 })
    channel.publish({ kind: 'v', n: 2 }, { volatile: true })
    await waitUntil(() => got.length === 2, 'the first two events')

    proxy.cut()
    await waitUntil(() => channel.subscriberCount === 0, 'the server to see the drop')
    channel.publish({ kind: 't', n: 3 })
    channel.publish({ kind: 'v', n: 4 }, { volatile: true })
    await waitUntil(() => starts === 2 && channel.subscriberCount === 1, 'the resubscribe')
    channel.publish({ kind: 'v', n: 5 }, { volatile: true })
    await waitUntil(() => got.length === 4, 'the replay and a live event')
    expect(got).toEqual(['t1', 'v2', 't3', 'v5'])
  })
})
