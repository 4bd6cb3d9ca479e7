import { EventEmitter } from 'node:events'
import { describe, expect, it, onTestFinished } from 'vitest'
import { z } from 'zod'
import {
  createChannel,
  defaultSerializer,
  fromEmitter,
  initRpc,
  isRpcError,
  type RpcError,
  type Serializer,
} from '@wirecall/core'
import { connectClient, gate, rpcErrorOf, sleep, startServer, untilAborted, waitUntil, within } from '../../helpers/harness'
import { startFaultProxy } from '../../helpers/fault-proxy'
import { trackTimers } from '../../helpers/timer-tracker'
import { collectGarbage } from '../../helpers/async'

/**
 * Flow control end to end, over real sockets and the TCP fault proxy: a
 * reader that stops reading must not make the server buffer without bound,
 * must not stall anyone else, and is cut off with 1013 (try again later);
 * push sources that cannot wait fall back to their own bounded buffers;
 * fan-out encodes an event once; the client bounds what it queues when
 * the network is slower than the app; and the iterator form bounds what it
 * holds for a loop that does not pull.
 *
 * A stalled proxy holds bytes instead of dropping them, so the kernel's
 * socket buffers (on Linux loopback up to several MiB, autotuned) fill
 * first and only then the sender's own buffer: bounds below leave room for
 * that, and the figures actually measured are printed.
 */

const KiB = 1_024
const MiB = 1_024 * KiB

const rpc = initRpc.create()

/** Heap in use after full collections: what is really retained, not garbage waiting for a GC. */
async function retainedHeap(): Promise<number> {
  await collectGarbage()
  return process.memoryUsage().heapUsed
}

/** Largest interval between consecutive timestamps (the silence a subscriber saw). */
function maxGap(times: number[]): number {
  let gap = 0
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!)
  return gap
}

const mib = (bytes: number) => `${(bytes / MiB).toFixed(2)} MiB`

// ---------------------------------------------------------------------------
// A generator streaming large chunks

const CHUNK_BYTES = 64 * KiB
const FILLER = 'x'.repeat(CHUNK_BYTES)

/** Chunk `i`: its index, then filler up to exactly 64 KiB of ASCII (so characters are bytes). */
function chunk(i: number): string {
  const head = `${i}:`
  return head + FILLER.slice(head.length)
}

/** What the server saw of one streaming generator. */
interface StreamProbe {
  /** Bytes the generator has yielded so far (counted as each chunk is handed over). */
  yielded: number
  /** Set in the generator's `finally`. */
  finished: { at: number; aborted: boolean; yielded: number } | undefined
}

/**
 * `stream`: `chunks` chunks of 64 KiB, as fast as they are pulled (16,384 of
 * them is 1 GiB). `ticks`: a small event every 20 ms, for a bystander.
 */
function streamRouter(probe: StreamProbe, chunks: number) {
  return rpc.router({
    stream: rpc.procedure.subscription(async function* ({ signal }) {
      try {
        for (let i = 0; i < chunks; i++) {
          const value = chunk(i)
          probe.yielded += value.length
          yield value
        }
      } finally {
        probe.finished = { at: Date.now(), aborted: signal.aborted, yielded: probe.yielded }
      }
    }),
    ticks: rpc.procedure.subscription(async function* ({ signal }) {
      for (let n = 1; !signal.aborted; n++) {
        await sleep(20, signal)
        if (!signal.aborted) yield n
      }
    }),
  })
}

/** Receives chunks, checking they come in order with none missing; keeps counts, not the strings. */
function chunkReader() {
  const state = { chunks: 0, bytes: 0, outOfOrder: undefined as string | undefined }
  return {
    state,
    onData(value: string) {
      const index = Number.parseInt(value, 10)
      if (index !== state.chunks || value.length !== CHUNK_BYTES) {
        state.outOfOrder ??= `chunk #${state.chunks} was ${index} (${value.length} bytes)`
      }
      state.chunks++
      state.bytes += value.length
    },
  }
}

describe('a subscription streaming to a slow reader', () => {
  it('a client that stops reading while a subscription streams 1 GB: the generator is paused, the server heap stays bounded, the reader is cut off with 1013 after slowConsumerTimeoutMs, and another client keeps getting its events', async () => {
    const timers = trackTimers()
    const slowConsumerTimeoutMs = 1_500
    const probe: StreamProbe = { yielded: 0, finished: undefined }
    const router = streamRouter(probe, 16_384)
    const { server, url, port } = await startServer({ router, backpressure: { slowConsumerTimeoutMs } })
    const proxy = await startFaultProxy(port)

    // B: direct, a small ticking feed, timestamps of every event.
    const b = connectClient<typeof router>(url)
    const bTimes: number[] = []
    b.ticks.subscribe(undefined, { onData: () => bTimes.push(Date.now()) })
    await waitUntil(() => bTimes.length >= 3, 'B to receive ticks')
    const heapBefore = await retainedHeap()

    // A: through the proxy; no reconnect, so a 1013 ends it instead of starting another 1 GiB stream.
    const a = connectClient<typeof router>(proxy.url('/rpc'), { reconnect: false, keepAlive: false })
    const aClosed = new Promise<{ code: number; reason: string }>((resolve) => a.$connection.on('close', resolve))
    const reader = chunkReader()
    let aError: RpcError | undefined
    a.stream.subscribe(undefined, { onData: (value) => reader.onData(value), onError: (error) => (aError = error) })
    await waitUntil(() => reader.state.chunks >= 8, 'A to receive its first chunks')

    proxy.stall()
    const stalledAt = Date.now()
    // By now the kernel buffers and the server's own have filled, and the generator waits at its yield.
    await sleep(800)
    const receivedWhileStalled = reader.state.bytes
    const yieldedWhileStalled = probe.yielded
    const heapWhileStalled = await retainedHeap()
    expect(probe.finished, 'A was cut off before slowConsumerTimeoutMs').toBeUndefined()

    await waitUntil(() => probe.finished !== undefined, 'the server to cut A off', slowConsumerTimeoutMs + 4_000)
    const finished = probe.finished!
    const cutOffAfterMs = finished.at - stalledAt
    // The generator did not move while congested: not one more chunk between the sample and the cut-off.
    expect(finished.yielded).toBe(yieldedWhileStalled)
    expect(finished.aborted).toBe(true)

    // What A holds back is flushed at once (the server cuts off a peer that has not answered its close within
    // a second): everything the server yielded arrives, in order, then the 1013.
    proxy.restore()
    await sleep(200)
    const bGapMs = maxGap(bTimes.filter((t) => t >= stalledAt))
    const bDuringStall = bTimes.filter((t) => t >= stalledAt).length
    const closed = await within(aClosed, "A's close event", 10_000)
    await waitUntil(() => server.stats().connections === 1, 'the server to drop A (B stays)')

    const beyondReceived = yieldedWhileStalled - receivedWhileStalled
    const heapGrowth = heapWhileStalled - heapBefore
    console.info(
      `[backpressure] 1 GiB stream to a stalled reader: yielded ${mib(yieldedWhileStalled)}, received before the stall ${mib(receivedWhileStalled)}, ` +
        `beyond received ${mib(beyondReceived)}; retained heap growth ${mib(heapGrowth)}; cut off ${cutOffAfterMs} ms after the stall ` +
        `(slowConsumerTimeoutMs ${slowConsumerTimeoutMs}); close ${closed.code} "${closed.reason}"; B: ${bDuringStall} ticks, longest gap ${bGapMs} ms`,
    )

    expect(beyondReceived).toBeLessThanOrEqual(16 * MiB)
    expect(heapGrowth).toBeLessThan(32 * MiB)
    expect(cutOffAfterMs).toBeGreaterThanOrEqual(slowConsumerTimeoutMs - 200)
    expect(cutOffAfterMs).toBeLessThanOrEqual(slowConsumerTimeoutMs + 1_500)
    expect(closed.code).toBe(1013)
    expect(aError?.code).toBe('OVERLOADED')
    expect(reader.state.outOfOrder).toBeUndefined()
    expect(reader.state.bytes).toBe(finished.yielded)
    // B kept ticking all along (every 20 ms; a few hundred ms of slack for a loaded machine).
    expect(bDuringStall).toBeGreaterThanOrEqual(Math.floor(cutOffAfterMs / 100))
    expect(bGapMs).toBeLessThan(400)

    // Nothing of A's flow control outlives it: every timer is gone once everything is closed.
    await a.$connection.close()
    await b.$connection.close()
    await server.close()
    await proxy.close()
    expect(timers.live(), timers.liveStacks().join('\n\n')).toBe(0)
  })

  it('a control run with a reading client gets every event, in order', async () => {
    const chunks = 1_024 // 64 MiB
    const probe: StreamProbe = { yielded: 0, finished: undefined }
    const router = streamRouter(probe, chunks)
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url, { reconnect: false })
    const closes: number[] = []
    api.$connection.on('close', ({ code }) => closes.push(code))
    const reader = chunkReader()
    let completed = false
    let failure: RpcError | undefined
    const startedAt = Date.now()
    api.stream.subscribe(undefined, {
      onData: (value) => reader.onData(value),
      onComplete: () => (completed = true),
      onError: (error) => (failure = error),
    })
    await waitUntil(() => completed || failure !== undefined || closes.length > 0, 'the stream to end', 15_000)
    console.info(`[backpressure] control: ${mib(reader.state.bytes)} in ${Date.now() - startedAt} ms`)

    expect(failure).toBeUndefined()
    expect(closes).toEqual([])
    expect(completed).toBe(true)
    expect(reader.state.outOfOrder).toBeUndefined()
    expect(reader.state.chunks).toBe(chunks)
    expect(reader.state.bytes).toBe(chunks * CHUNK_BYTES)
    expect(probe.finished).toMatchObject({ aborted: false, yielded: chunks * CHUNK_BYTES })
    expect(api.$connection.state).toBe('open')
  })

  it('maxBufferedAmount: a reader that falls far behind at once is closed with 1013 immediately', async () => {
    const release = gate()
    let bigStarted = false
    let idleEndedAt: number | undefined
    const resultBytes = 8 * MiB
    const router = rpc.router({
      big: rpc.procedure.query(async () => {
        bigStarted = true
        await release.opened
        return 'y'.repeat(resultBytes)
      }),
      /** Holds nothing and sends nothing: ends only when the connection does, which tells the test when that was. */
      idle: rpc.procedure.subscription(async function* ({ signal }) {
        try {
          await untilAborted(signal)
          yield* []
        } finally {
          idleEndedAt = Date.now()
        }
      }),
    })
    const backpressure = { maxBufferedAmount: 2 * MiB, highWaterMark: 256 * KiB, lowWaterMark: 64 * KiB }
    const { server, port } = await startServer({ router, backpressure })
    const proxy = await startFaultProxy(port)
    const api = connectClient<typeof router>(proxy.url('/rpc'), { reconnect: false, keepAlive: false })
    const closed = new Promise<{ code: number; reason: string }>((resolve) => api.$connection.on('close', resolve))
    let started = false
    api.idle.subscribe(undefined, { onStarted: () => (started = true), onError: () => {} })
    await waitUntil(() => started, 'the idle subscription to start')
    const result = api.big.query().then(
      (value) => value.length,
      (error: unknown) => error,
    )
    await waitUntil(() => bigStarted, 'the big query to run')

    proxy.stall()
    const writtenAt = Date.now()
    release.open()
    await waitUntil(() => idleEndedAt !== undefined, 'the server to close the connection', 3_000)
    const closedAfterMs = idleEndedAt! - writtenAt
    console.info(`[backpressure] an ${mib(resultBytes)} result to a stalled reader: closed ${closedAfterMs} ms after it was written`)
    // slowConsumerTimeoutMs is the default 30 s: only maxBufferedAmount can have closed it this soon.
    expect(closedAfterMs).toBeLessThan(1_000)
    // Still stalled, the peer cannot answer the close: the server cuts it off rather than keep its buffer for ws's 30 s.
    await waitUntil(() => server.stats().connections === 0, 'the server to release the stalled reader', 3_000)

    proxy.restore()
    const close = await within(closed, "the client's close event", 5_000)
    // The server closed with 1013, but the close frame sat behind megabytes the reader never took: cut off, the
    // reader may only ever see the connection reset (1006). Either way it reconnects and is told nothing false.
    expect([1006, 1013]).toContain(close.code)
    await result
    await waitUntil(() => server.stats().connections === 0, 'the server to drop the connection')
  })
})

// ---------------------------------------------------------------------------
// Push sources that cannot wait

/**
 * Publishes at a target of 1,000 events per millisecond until stopped, in
 * slices of at most `slice` per event-loop turn: the readers live in this
 * process too, and a real publisher publishes from its own I/O callbacks,
 * between which the readers get their turn. The rate achieved is what this
 * machine sustains while it also serves and reads every event; it is
 * reported.
 */
function flood(publish: (n: number) => void, slice = 100) {
  const perMs = 1_000
  let published = 0
  let stopped = false
  const startedAt = performance.now()
  const turn = () => {
    if (stopped) return
    const owed = Math.min(slice, Math.floor((performance.now() - startedAt) * perMs) - published)
    for (let i = 0; i < owed; i++) publish(++published)
    setImmediate(turn)
  }
  setImmediate(turn)
  // A test that fails half-way must not leave the flood running.
  onTestFinished(() => void (stopped = true))
  return {
    get published() {
      return published
    },
    /** Stops; returns the average rate achieved, in events per ms. */
    stop(): number {
      stopped = true
      return published / (performance.now() - startedAt)
    },
  }
}

/** An event big enough that a few MiB of them are thousands, small enough that a reader keeps up. */
interface FloodEvent {
  n: number
  pad: string
}
const PAD = 'p'.repeat(200)

/**
 * The bound of the push sources (`maxLag`, `maxBuffer`): small next to the
 * flood, large next to one slice of it, so a reader that keeps up is never
 * told to resync.
 */
const FLOOD_BOUND = 1_000

/** What a subscriber saw, in order: events by number, and resyncs. */
function eventLog() {
  const log: (number | 'resync')[] = []
  return {
    log,
    handlers: {
      onData: (event: FloodEvent) => void log.push(event.n),
      onResync: () => void log.push('resync'),
    },
    get events() {
      return log.filter((entry) => entry !== 'resync').length
    },
  }
}

/** Wraps an iterable to count the events its consumer pulled. */
function countPulls<T>(iterable: AsyncIterable<T>, onPull: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      const iterator = iterable[Symbol.asyncIterator]()
      return {
        async next() {
          const result = await iterator.next()
          if (result.done !== true) onPull()
          return result
        },
        async return() {
          await iterator.return?.()
          return { done: true, value: undefined }
        },
      }
    },
  }
}

describe('push sources flooded while a subscriber is stalled', () => {
  it('a push channel flooded with a thousand events per millisecond: a stalled subscriber gets a bounded buffer, then a resync; others are unaffected', async () => {
    const maxLag = FLOOD_BOUND
    const channel = createChannel<FloodEvent>({ maxLag })
    const pulls = new Map<string, number>()
    const rpcCtx = initRpc.context<{ name: string }>().create()
    const router = rpcCtx.router({
      feed: rpcCtx.procedure.subscription(({ ctx, signal }) =>
        countPulls(channel.subscribe({ signal }), () => pulls.set(ctx.name, (pulls.get(ctx.name) ?? 0) + 1)),
      ),
    })
    const { port, url } = await startServer({
      router,
      createContext: ({ connectionParams }) => ({ name: String((connectionParams as { name?: unknown } | undefined)?.name) }),
    })
    const proxy = await startFaultProxy(port)
    const stalled = connectClient<typeof router>(proxy.url('/rpc'), { connectionParams: { name: 'stalled' }, keepAlive: false })
    const reading = connectClient<typeof router>(url, { connectionParams: { name: 'reading' } })
    const stalledLog = eventLog()
    const readingLog = eventLog()
    let startedCount = 0
    stalled.feed.subscribe(undefined, { ...stalledLog.handlers, onStarted: () => startedCount++ })
    reading.feed.subscribe(undefined, { ...readingLog.handlers, onStarted: () => startedCount++ })
    await waitUntil(() => startedCount === 2 && channel.subscriberCount === 2, 'both subscriptions to start')
    const heapBefore = await retainedHeap()

    proxy.stall()
    const publisher = flood((n) => channel.publish({ n, pad: PAD }))
    // Until the stalled subscriber's connection is congested and it has fallen well past maxLag.
    await waitUntil(
      () => publisher.published >= 50_000 && publisher.published - (pulls.get('stalled') ?? 0) > 2 * maxLag,
      'the stalled subscriber to fall behind',
      8_000,
    )
    const rate = publisher.stop()
    const published = publisher.published
    const stalledPulled = pulls.get('stalled') ?? 0
    const heapGrowth = (await retainedHeap()) - heapBefore
    await waitUntil(() => readingLog.events === published || readingLog.log.includes('resync'), 'the reading subscriber to catch up', 5_000)
    expect(readingLog.log.indexOf('resync'), `the reading subscriber got a resync after ${readingLog.log.indexOf('resync')} events`).toBe(-1)

    proxy.restore()
    await waitUntil(() => stalledLog.log.includes('resync'), 'the stalled subscriber to get a resync', 5_000)
    // Current events, after the resync.
    const current = [published + 1, published + 2, published + 3]
    for (const n of current) channel.publish({ n, pad: PAD })
    await waitUntil(() => stalledLog.log.at(-1) === current.at(-1), 'the stalled subscriber to get the current events', 5_000)
    await waitUntil(() => readingLog.log.at(-1) === current.at(-1), 'the reading subscriber to get the current events')

    const resyncAt = stalledLog.log.indexOf('resync')
    const before = stalledLog.log.slice(0, resyncAt)
    const after = stalledLog.log.slice(resyncAt + 1)
    console.info(
      `[backpressure] channel flood: ${published} events at ${rate.toFixed(0)}/ms; the stalled subscriber pulled ${stalledPulled}, ` +
        `got ${before.length} before its resync; retained heap growth ${mib(heapGrowth)}`,
    )
    // What it got before the resync is a gap-free prefix, bounded by what its buffers could hold.
    expect(before).toEqual(Array.from({ length: before.length }, (_, i) => i + 1))
    expect(before.length).toBe(stalledPulled)
    expect(before.length).toBeLessThan(published - maxLag)
    expect(after).toEqual(current)
    expect(heapGrowth).toBeLessThan(32 * MiB)
    // The reading subscriber: everything, in order, no resync.
    expect(readingLog.log).toEqual(Array.from({ length: published + current.length }, (_, i) => i + 1))
  })

  it('an emitter adapter with overflow "error" ends the stalled subscription with OVERLOADED; a reading one is unaffected', async () => {
    const emitter = new EventEmitter()
    const maxBuffer = FLOOD_BOUND
    const router = rpc.router({
      orders: rpc.procedure.subscription(({ signal }) => fromEmitter<FloodEvent>(emitter, 'order', { signal, maxBuffer, overflow: 'error' })),
    })
    const { port, url } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    const stalled = connectClient<typeof router>(proxy.url('/rpc'), { keepAlive: false })
    const reading = connectClient<typeof router>(url)
    const stalledLog = eventLog()
    const readingLog = eventLog()
    let stalledError: RpcError | undefined
    let readingError: RpcError | undefined
    let startedCount = 0
    stalled.orders.subscribe(undefined, { ...stalledLog.handlers, onStarted: () => startedCount++, onError: (error) => (stalledError = error) })
    reading.orders.subscribe(undefined, { ...readingLog.handlers, onStarted: () => startedCount++, onError: (error) => (readingError = error) })
    await waitUntil(() => startedCount === 2 && emitter.listenerCount('order') === 2, 'both subscriptions to start')

    proxy.stall()
    const publisher = flood((n) => emitter.emit('order', { n, pad: PAD }))
    // The stalled subscriber's buffer overflowed: its adapter failed and removed its listener.
    await waitUntil(() => emitter.listenerCount('order') === 1, "the stalled subscriber's adapter to overflow", 8_000)
    const rate = publisher.stop()
    const published = publisher.published
    await waitUntil(() => readingLog.events === published || readingError !== undefined, 'the reading subscriber to catch up', 5_000)
    expect(readingError).toBeUndefined()

    proxy.restore()
    await waitUntil(() => stalledError !== undefined, 'the stalled subscription to end', 5_000)
    console.info(
      `[backpressure] emitter flood: ${published} events at ${rate.toFixed(0)}/ms; the stalled subscriber got ${stalledLog.events} before OVERLOADED`,
    )
    expect(stalledError?.code).toBe('OVERLOADED')
    // It got what was written and buffered before the overflow, in order, and nothing was dropped silently.
    expect(stalledLog.log).toEqual(Array.from({ length: stalledLog.events }, (_, i) => i + 1))
    expect(stalledLog.events).toBeLessThan(published)
    expect(stalled.$connection.state).toBe('open')

    emitter.emit('order', { n: published + 1, pad: PAD })
    await waitUntil(() => readingLog.events === published + 1, 'the reading subscriber to get a later event')
    expect(readingError).toBeUndefined()
    expect(readingLog.log).toEqual(Array.from({ length: published + 1 }, (_, i) => i + 1))
  })
})

// ---------------------------------------------------------------------------
// Fan-out

/** The default serializer, counting how often it serialized a value `counts(value)` picks out. */
function countingSerializer(counts: (value: unknown) => boolean) {
  const counter = { serialized: 0 }
  const serializer: Serializer = {
    serialize(value) {
      if (counts(value)) counter.serialized++
      return defaultSerializer.serialize(value)
    },
    deserialize: (payload) => defaultSerializer.deserialize(payload),
  }
  return { serializer, counter }
}

describe('fan-out', () => {
  it('fan-out encodes an event once for all its subscribers', async () => {
    interface Price {
      kind: 'price'
      n: number
      at: Date
      tags: Set<string>
    }
    const isPrice = (value: unknown) => typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'price'
    const channel = createChannel<Price>()
    const router = rpc.router({
      prices: rpc.procedure.subscription(({ signal }) => channel.subscribe({ signal })),
    })
    const onServer = countingSerializer(isPrice)
    const onClients = countingSerializer(isPrice)
    const { server, url } = await startServer({ router, serializer: onServer.serializer })

    const perClient = 50
    const clients = Array.from({ length: 4 }, () => connectClient<typeof router>(url, { serializer: onClients.serializer }))
    const received: Price[][] = []
    let started = 0
    for (const api of clients) {
      for (let i = 0; i < perClient; i++) {
        const events: Price[] = []
        received.push(events)
        api.prices.subscribe(undefined, { onStarted: () => started++, onData: (price) => void events.push(price) })
      }
    }
    const subscriptions = clients.length * perClient
    await waitUntil(() => started === subscriptions && channel.subscriberCount === subscriptions, 'every subscription to start', 5_000)
    expect(server.stats().subscriptions).toBe(subscriptions)

    const events = 100
    const at = new Date('2024-05-01T12:00:00Z')
    for (let n = 1; n <= events; n++) channel.publish({ kind: 'price', n, at, tags: new Set(['a', `n${n}`]) })
    await waitUntil(() => received.every((list) => list.length === events), 'every subscriber to get every event', 8_000)

    console.info(`[backpressure] fan-out: ${events} events to ${subscriptions} subscriptions, serialized ${onServer.counter.serialized} times on the server`)
    expect(onServer.counter.serialized).toBe(events)
    // Each subscriber got the real thing, revived by the serializer, in order.
    for (const list of received) expect(list.map((price) => price.n)).toEqual(Array.from({ length: events }, (_, i) => i + 1))
    const last = received[0]!.at(-1)!
    expect(last.at).toBeInstanceOf(Date)
    expect(last.at.getTime()).toBe(at.getTime())
    expect(last.tags).toEqual(new Set(['a', `n${events}`]))
  })
})

// ---------------------------------------------------------------------------
// The client's side

describe('client backpressure', () => {
  it('calls wait in a bounded queue while the socket is backed up, are refused with OVERLOADED past it, and all go out in order once it drains', async () => {
    const router = rpc.router({
      echo: rpc.procedure.input(z.object({ i: z.number(), pad: z.string() })).query(({ input }) => input.i),
    })
    const { port } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    const highWaterMark = 64 * KiB
    const maxBytes = 1 * MiB
    const api = connectClient<typeof router>(proxy.url('/rpc'), {
      backpressure: { highWaterMark },
      offlineQueue: { maxBytes },
      keepAlive: false,
    })
    await api.echo.query({ i: -1, pad: '' })

    proxy.stall()
    const pad = 'q'.repeat(32 * KiB)
    const accepted: Promise<number>[] = []
    let refused: Promise<unknown> | undefined
    let refusedSeen = false
    const startedAt = Date.now()
    // Far more than the queue and the kernel's buffers can hold: the client must refuse long before.
    for (let i = 0; i < 2_000 && !refusedSeen; i++) {
      const call = api.echo.query({ i, pad })
      const settled = call.then(
        () => false,
        (error: unknown) => (error as { code?: unknown }).code === 'OVERLOADED',
      )
      accepted.push(call)
      await Promise.race([settled.then((overloaded) => (refusedSeen ||= overloaded)), new Promise((resolve) => setImmediate(resolve))])
      if (refusedSeen) {
        refused = accepted.pop()
        break
      }
    }
    const refusedAfterMs = Date.now() - startedAt
    const buffered = api.$connection.bufferedAmount
    console.info(
      `[backpressure] client: ${accepted.length} calls of 32 KiB accepted while stalled, the next refused after ${refusedAfterMs} ms; bufferedAmount ${mib(buffered)}`,
    )
    expect(refused, 'no call was refused with OVERLOADED').toBeDefined()
    expect((await rpcErrorOf(refused!)).code).toBe('OVERLOADED')
    expect(refusedAfterMs).toBeLessThan(3_000)
    // The queue is nearly full (the next call did not fit) and the socket holds more than highWaterMark,
    // so bufferedAmount counts both: the socket part alone never exceeds highWaterMark plus one call.
    expect(buffered).toBeGreaterThan(maxBytes)
    expect(buffered).toBeLessThanOrEqual(maxBytes + highWaterMark + 33 * KiB)

    const order: number[] = []
    const results = accepted.map((call) => call.then((i) => (order.push(i), i)))
    proxy.restore()
    const values = await within(Promise.all(results), 'every accepted call to resolve', 8_000)
    expect(values).toEqual(accepted.map((_, i) => i))
    expect(order).toEqual(values)
    await waitUntil(() => api.$connection.bufferedAmount === 0, 'the queue to empty')
  })
})

describe('the iterator form holds at most 1,000 events for a loop that does not pull', () => {
  it('ends with OVERLOADED after the 1,000 it kept, and unsubscribes on the server', async () => {
    let live = 0
    let aborted = false
    const router = rpc.router({
      flood: rpc.procedure.subscription(async function* ({ signal }) {
        live++
        try {
          for (let n = 1; n <= 5_000 && !signal.aborted; n++) yield n
          await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
        } finally {
          aborted = signal.aborted
          live--
        }
      }),
    })
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    const events = api.flood.subscribe()
    const iterator = events[Symbol.asyncIterator]()
    await waitUntil(() => events.state === 'ended', 'the subscription to end on overflow')
    await waitUntil(() => live === 0, 'the generator to unwind')
    expect(aborted).toBe(true)

    const got: number[] = []
    const failure = await within(
      (async () => {
        for (let i = 0; i < 2_000; i++) {
          const result = await iterator.next()
          if (result.done === true) return undefined
          got.push(result.value as number)
        }
        return undefined
      })().then(
        () => undefined,
        (error: unknown) => error,
      ),
      'the loop to drain',
    )
    expect(got).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1))
    expect(isRpcError(failure) && failure.code).toBe('OVERLOADED')
    expect(await iterator.next()).toEqual({ done: true, value: undefined })
  })
})
