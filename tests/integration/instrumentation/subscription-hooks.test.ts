import { describe, expect, it } from 'vitest'
import { createChannel, initRpc, resync, tracked } from '@wirecall/core'
import type { ServerSubscriptionEvent } from '@wirecall/server'
import { connectClient, rawPeer, startServer, untilAborted, waitUntil, type RawPeer } from '../../helpers/harness'
import { startFaultProxy } from '../../helpers/fault-proxy'
import { PRODUCER_TRACE, TRACEPARENT, recordingInstrumentation } from './recording-instrumentation'

/**
 * The server's instrumentation for subscriptions, channels and flow
 * control, over real sockets: the handshake's outcome (started, resumed
 * after a real reconnect, resync with its reason, refused), the end and
 * why, deliveries with the producer's trace context (which also reaches a
 * raw peer in `data.trace`), and backpressure pause, resume and
 * slow-consumer cut-off against a reader stalled by the fault proxy.
 */

const rpc = initRpc.create()
type Rec = ReturnType<typeof recordingInstrumentation>

function feedRouter(rec: Rec, history = 100) {
  const feed = createChannel<number>({ name: 'feed', history, instrumentation: [rec.instrumentation] })
  const plain = createChannel<number>({ history })
  const router = rpc.router({
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => feed.subscribe({ lastEventId, signal })),
    plain: rpc.procedure.subscription(({ lastEventId, signal }) => plain.subscribe({ lastEventId, signal })),
    finite: rpc.procedure.subscription(async function* () {
      yield 1
      yield 2
    }),
    broken: rpc.procedure.subscription(async function* () {
      yield 1
      throw new Error('generator failed')
    }),
    refuses: rpc.procedure.subscription(() => {
      throw new Error('no stream for you')
    }),
    /** A generator without a position: its first value says whether it resumed. */
    custom: rpc.procedure.subscription(async function* ({ lastEventId, signal }) {
      if (lastEventId === 'gone') yield resync('trimmed')
      yield tracked('c1', 1)
      await untilAborted(signal)
    }),
  })
  return { feed, plain, router }
}

async function readyPeer(url: string): Promise<RawPeer> {
  const peer = await rawPeer(url)
  peer.send({ type: 'init' })
  await peer.next((m) => m.type === 'ack')
  return peer
}

const starts = (events: ServerSubscriptionEvent[]) => events.filter((e): e is Extract<ServerSubscriptionEvent, { phase: 'start' }> => e.phase === 'start')
const ends = (events: ServerSubscriptionEvent[]) => events.filter((e): e is Extract<ServerSubscriptionEvent, { phase: 'end' }> => e.phase === 'end')

describe('subscription handshakes and ends', () => {
  it('started, then each end reason: unsubscribed, complete, error, closed', async () => {
    const rec = recordingInstrumentation()
    const { router } = feedRouter(rec)
    const { server, url } = await startServer({ router, instrumentation: [rec.instrumentation] })
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'feed', trace: { traceparent: TRACEPARENT } })
    peer.send({ type: 'subscribe', id: 2, path: 'finite' })
    peer.send({ type: 'subscribe', id: 3, path: 'broken' })
    peer.send({ type: 'subscribe', id: 4, path: 'plain' })
    await peer.next((m) => m.id === 1 && m.type === 'started')
    await peer.next((m) => m.id === 2 && m.type === 'complete')
    await peer.next((m) => m.id === 3 && m.type === 'error')
    await peer.next((m) => m.id === 4 && m.type === 'started')
    peer.send({ type: 'unsubscribe', id: 1 })
    await waitUntil(() => rec.subscription(1).length === 2, 'the unsubscribe')

    expect(rec.subscription(1)[0]).toMatchObject({ phase: 'start', id: 1, path: 'feed', known: true, outcome: 'started', resuming: false, trace: { traceparent: TRACEPARENT } })
    expect(rec.subscription(1)[1]).toMatchObject({ phase: 'end', reason: 'unsubscribed' })
    expect(rec.subscription(2).map((e) => (e.phase === 'start' ? e.outcome : e.reason))).toEqual(['started', 'complete'])
    const broken = rec.subscription(3)
    expect(broken.map((e) => (e.phase === 'start' ? e.outcome : e.reason))).toEqual(['started', 'error'])
    expect(broken[1]!.phase === 'end' && broken[1]!.error?.message).toBe('generator failed')

    peer.ws.close()
    await waitUntil(() => server.stats().connections === 0 && rec.subscription(4).length === 2, 'the close')
    const closed = rec.subscription(4)[1]!
    expect(closed).toMatchObject({ phase: 'end', reason: 'closed' })
    expect(closed.phase === 'end' && closed.durationMs).toBeGreaterThanOrEqual(0)
    // The subscriptions end before the connection's onClose.
    const order = rec.log.map((entry) => entry.hook)
    expect(order.lastIndexOf('subscription')).toBeLessThan(order.indexOf('close'))
  })

  it('refused: an unknown path (known: false), a resolver that throws, a limit; no end follows', async () => {
    const rec = recordingInstrumentation()
    const { router } = feedRouter(rec)
    const { url } = await startServer({ router, instrumentation: [rec.instrumentation], maxSubscriptions: 2 })
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'nowhere', lastEventId: 'x.1' })
    peer.send({ type: 'subscribe', id: 2, path: 'refuses' })
    peer.send({ type: 'subscribe', id: 3, path: 'feed' })
    peer.send({ type: 'subscribe', id: 4, path: 'plain' })
    peer.send({ type: 'subscribe', id: 5, path: 'plain' })
    for (const id of [1, 2, 5]) await peer.next((m) => m.id === id && m.type === 'error')
    await waitUntil(() => starts(rec.log.flatMap((e) => (e.hook === 'subscription' ? [e.event] : []))).length === 5, 'five starts')
    expect(rec.subscription(1)).toEqual([expect.objectContaining({ outcome: 'refused', known: false, resuming: true })])
    const [refused] = rec.subscription(2)
    expect(refused).toMatchObject({ outcome: 'refused', known: true })
    expect(refused!.phase === 'start' && refused!.error?.message).toBe('no stream for you')
    const [limited] = rec.subscription(5)
    expect(limited!.phase === 'start' && limited!.error?.code).toBe('TOO_MANY_REQUESTS')
    expect(ends(rec.subscription(2))).toEqual([])
  })

  it('resync with its reason: `trimmed` when the history no longer holds the id, `unknown-id` for an id that is not the channel’s', async () => {
    const rec = recordingInstrumentation()
    const { feed, router } = feedRouter(rec, 2)
    const { url } = await startServer({ router, instrumentation: [rec.instrumentation] })
    const first = feed.publish(1)
    for (let n = 2; n <= 5; n++) feed.publish(n)
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'feed', lastEventId: first })
    peer.send({ type: 'subscribe', id: 2, path: 'feed', lastEventId: 'someone-else.3' })
    peer.send({ type: 'subscribe', id: 3, path: 'custom', lastEventId: 'gone' })
    for (const id of [1, 2, 3]) await peer.next((m) => m.id === id && m.type === 'resync')
    await waitUntil(() => [1, 2, 3].every((id) => rec.subscription(id).length === 1), 'three starts')
    expect(rec.subscription(1)[0]).toMatchObject({ outcome: 'resync', reason: 'trimmed', resuming: true })
    expect(rec.subscription(2)[0]).toMatchObject({ outcome: 'resync', reason: 'unknown-id', resuming: true })
    expect(rec.subscription(3)[0]).toMatchObject({ outcome: 'resync', reason: 'trimmed' })
  })

  it('resumed: a client that reconnects after a network drop resubscribes from its lastEventId, and misses nothing', async () => {
    const rec = recordingInstrumentation()
    const { feed, router } = feedRouter(rec)
    const { port } = await startServer({ router, instrumentation: [rec.instrumentation] })
    const proxy = await startFaultProxy(port)
    const api = connectClient<typeof router>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
    const received: number[] = []
    const started: boolean[] = []
    api.feed.subscribe(undefined, { onData: (n) => received.push(n), onStarted: ({ resumed }) => started.push(resumed) })
    await waitUntil(() => started.length === 1, 'the first start')
    feed.publish(1)
    await waitUntil(() => received.length === 1, 'the first event')
    proxy.cut()
    await waitUntil(() => rec.of('close').length === 1, 'the server to see the drop')
    feed.publish(2)
    await waitUntil(() => received.length === 2, 'the event published while away')
    expect(received).toEqual([1, 2])
    expect(started).toEqual([false, true])
    const outcomes = starts(rec.of('subscription').map((e) => e.event)).map((e) => [e.outcome, e.resuming])
    expect(outcomes).toEqual([
      ['started', false],
      ['resumed', true],
    ])
    expect(ends(rec.of('subscription').map((e) => e.event)).map((e) => e.reason)).toEqual(['closed'])
    // A generator without a position that resumes: told at its first value.
    const peer = await readyPeer(proxy.url('/rpc'))
    peer.send({ type: 'subscribe', id: 9, path: 'custom', lastEventId: 'c0' })
    await peer.next((m) => m.id === 9 && m.type === 'data')
    await waitUntil(() => rec.log.some((e) => e.hook === 'subscription' && e.event.id === 9), 'the custom start')
    expect(rec.log.find((e) => e.hook === 'subscription' && e.event.id === 9)?.event).toMatchObject({ outcome: 'resumed', resuming: true })
  })

  it('subscription starts and ends balance after every client leaves', async () => {
    const rec = recordingInstrumentation()
    const { router } = feedRouter(rec)
    const { server, url } = await startServer({ router, instrumentation: [rec.instrumentation] })
    const clients = Array.from({ length: 4 }, () => connectClient<typeof router>(url))
    const startedCount = { n: 0 }
    for (const api of clients) {
      api.feed.subscribe(undefined, { onStarted: () => startedCount.n++ })
      api.plain.subscribe(undefined, { onStarted: () => startedCount.n++ })
    }
    await waitUntil(() => startedCount.n === 8, 'eight starts')
    await Promise.all(clients.map((api) => api.$connection.close()))
    await waitUntil(() => server.stats().connections === 0 && rec.of('close').length === 4, 'every client to leave')
    const events = rec.of('subscription').map((e) => e.event)
    expect(starts(events).filter((e) => e.outcome !== 'refused')).toHaveLength(8)
    expect(ends(events)).toHaveLength(8)
    expect(rec.of('connection')).toHaveLength(rec.of('close').length)
  })
})

describe('channel events: onPublish, data.trace and onDeliver', () => {
  it('the trace context onPublish returns travels in `data.trace` to every raw subscriber, and onDeliver sees each delivery', async () => {
    const rec = recordingInstrumentation({ publishTrace: PRODUCER_TRACE })
    const { feed, plain, router } = feedRouter(rec)
    const { url } = await startServer({ router, instrumentation: [rec.instrumentation] })
    const a = await readyPeer(url)
    const b = await readyPeer(url)
    for (const peer of [a, b]) {
      peer.send({ type: 'subscribe', id: 1, path: 'feed' })
      peer.send({ type: 'subscribe', id: 2, path: 'plain' })
      await peer.next((m) => m.id === 2 && m.type === 'started')
    }
    await waitUntil(() => feed.subscriberCount === 2 && plain.subscriberCount === 2, 'both subscribed')
    const eventId = feed.publish(42)
    plain.publish(7)
    for (const peer of [a, b]) {
      expect(await peer.next((m) => m.id === 1 && m.type === 'data')).toEqual({ type: 'data', id: 1, data: 42, eventId, trace: PRODUCER_TRACE })
      // A channel without instrumentation adds nothing to its events.
      const untraced = await peer.next((m) => m.id === 2 && m.type === 'data')
      expect(untraced).not.toHaveProperty('trace')
    }
    expect(rec.of('publish').map((e) => e.event)).toEqual([{ channel: 'feed', topic: false, eventId, subscribers: 2 }])
    await waitUntil(() => rec.of('deliver').length === 4, 'four deliveries')
    const traced = rec.of('deliver').filter((e) => e.event.path === 'feed')
    expect(traced.map((e) => e.event.trace)).toEqual([PRODUCER_TRACE, PRODUCER_TRACE])
    expect(traced.map((e) => e.event.eventId)).toEqual([eventId, eventId])
    expect(new Set(traced.map((e) => e.event.connection.id)).size).toBe(2)
    expect(rec.of('deliver').filter((e) => e.event.path === 'plain').map((e) => e.event.trace)).toEqual([undefined, undefined])
  })

  it('a topic publishes with topic: true and the channel’s name; a throwing onPublish is ignored and the event still goes out', async () => {
    const rec = recordingInstrumentation()
    const rooms = createChannel<string>({
      name: 'room:{id}',
      instrumentation: [
        {
          onPublish: () => {
            throw new Error('telemetry down')
          },
        },
        rec.instrumentation,
        { onPublish: () => ({ traceparent: TRACEPARENT }) },
      ],
    })
    const iterator = rooms.topic('r1').subscribe()[Symbol.asyncIterator]()
    const id = rooms.topic('r1').publish('hi')
    const next = await iterator.next()
    expect(next.value).toMatchObject({ id, data: 'hi' })
    expect(rec.of('publish')[0]!.event).toEqual({ channel: 'room:{id}', topic: true, eventId: id, subscribers: 1 })
    await iterator.return?.()
  })
})

describe('backpressure', () => {
  it('a reader stalled by the network: pause, resume once it reads again, then pause and a slow-consumer cut-off with 1013', async () => {
    const KiB = 1_024
    const chunk = 'x'.repeat(64 * KiB)
    const router = rpc.router({
      stream: rpc.procedure.subscription(async function* ({ signal }) {
        while (!signal.aborted) yield chunk
      }),
    })
    let proxy: Awaited<ReturnType<typeof startFaultProxy>> | undefined
    let pauses = 0
    const rec = recordingInstrumentation({
      onBackpressure: (event) => {
        // Deterministic: the first pause is undone at once, the second left to run out.
        if (event.kind === 'pause' && ++pauses === 1) setTimeout(() => proxy!.restore(), 0)
        if (event.kind === 'resume') setTimeout(() => proxy!.stall(), 0)
      },
    })
    const { server, port } = await startServer({
      router,
      instrumentation: [rec.instrumentation],
      backpressure: { highWaterMark: 256 * KiB, lowWaterMark: 64 * KiB, slowConsumerTimeoutMs: 600 },
    })
    proxy = await startFaultProxy(port)
    const api = connectClient<typeof router>(proxy.url('/rpc'), { reconnect: false, keepAlive: false })
    let chunks = 0
    api.stream.subscribe(undefined, { onData: () => chunks++, onError: () => {} })
    await waitUntil(() => chunks >= 4, 'the first chunks')
    proxy.stall()
    await waitUntil(() => rec.of('backpressure').some((e) => e.event.kind === 'slow-consumer'), 'the slow-consumer cut-off', 15_000)
    const events = rec.of('backpressure').map((e) => e.event)
    // Pauses and resumes alternate (the kernel's buffers may take a little more after a stall, so there can be
    // more than one round), then the last pause runs out.
    const kinds = events.map((e) => e.kind)
    expect(kinds.slice(0, 2)).toEqual(['pause', 'resume'])
    expect(kinds.slice(-2)).toEqual(['pause', 'slow-consumer'])
    kinds.slice(0, -1).forEach((kind, i) => expect(kind).toBe(i % 2 === 0 ? 'pause' : 'resume'))
    for (const event of events) {
      if (event.kind === 'pause') expect(event.bufferedAmount).toBeGreaterThan(256 * KiB)
      if (event.kind === 'resume') expect(event.bufferedAmount).toBeLessThanOrEqual(64 * KiB)
    }
    expect(events.at(-1)!.bufferedAmount).toBeGreaterThan(64 * KiB)
    proxy.restore()
    await waitUntil(() => rec.of('close').length === 1, 'onClose', 5_000)
    expect(rec.of('close')[0]!.event.code).toBe(1013)
    expect(rec.of('close')[0]!.event.reason).toMatch(/slow consumer/)
    await waitUntil(() => server.stats().connections === 0, 'the server to let go')
  })
})
