import { describe, expect, it } from 'vitest'
import { createChannel, initRpc, parseServerFrame, withPosition, type TrackedEnvelope } from '@wirecall/core'
import { connectClient, readyPeer, startServer, waitUntil } from '../helpers/harness'

const rpc = initRpc.create()

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
