import { describe, expect, it } from 'vitest'
import { createChannel, initRpc } from '@wirecall/core'
import { collectGarbage } from '../../helpers/async'
import { connectClient, sleep, startServer, waitUntil } from '../../helpers/harness'
import { startFaultProxy } from '../../helpers/fault-proxy'

/**
 * Volatile events and a reader that stopped reading, over real sockets and
 * the TCP fault proxy: while its connection is above the high-water mark it
 * skips volatile events (they are neither pulled for it nor buffered), a
 * reading subscriber meanwhile gets every one; once it drains it gets the
 * tracked events it missed, in order, and none of the stale volatile ones;
 * and the server's memory does not grow with what is published volatile.
 *
 * A stalled proxy holds bytes rather than dropping them, so the kernel's
 * buffers fill before the server's own: the test publishes large tracked
 * events until the server reports the stalled connection paused.
 */

const KiB = 1_024
const MiB = 1_024 * KiB

interface Ev {
  kind: 't' | 'v'
  n: number
  pad: string
}

const BIG = 'x'.repeat(64 * KiB)
const SMALL = 'y'.repeat(2 * KiB)

async function retainedHeap(): Promise<number> {
  await collectGarbage()
  return process.memoryUsage().heapUsed
}

describe('volatile events and a subscriber above the high-water mark', () => {
  it('the stalled subscriber skips them (a reading one gets all), then gets the tracked ones in order and no stale volatile one; memory stays flat', async () => {
    const maxLag = 2_000
    const channel = createChannel<Ev>({ history: 10, maxLag })
    const rpcCtx = initRpc.context<{ name: string }>().create()
    const router = rpcCtx.router({
      feed: rpcCtx.procedure.subscription(({ signal }) => channel.subscribe({ signal })),
    })
    /** Backpressure state by connection id, as the server reports it. */
    const flow = new Map<number, string>()
    const connectionIds: number[] = []
    const { port, url } = await startServer({
      router,
      createContext: ({ connectionParams }) => ({ name: String((connectionParams as { name?: unknown } | undefined)?.name) }),
      backpressure: { highWaterMark: 64 * KiB, lowWaterMark: 16 * KiB, maxBufferedAmount: 256 * MiB, slowConsumerTimeoutMs: 120_000 },
      instrumentation: [
        {
          onConnection: ({ connection }) => void connectionIds.push(connection.id),
          onBackpressure: ({ connection, kind }) => void flow.set(connection.id, kind),
        },
      ],
    })
    const proxy = await startFaultProxy(port)
    const stalled = connectClient<typeof router>(proxy.url('/rpc'), { connectionParams: { name: 'stalled' }, keepAlive: false })
    const stalledGot: string[] = []
    let startedCount = 0
    stalled.feed.subscribe(undefined, { onStarted: () => startedCount++, onData: (event) => void stalledGot.push(`${event.kind}${event.n}`) })
    await waitUntil(() => startedCount === 1, 'the stalled subscriber to start')
    const stalledId = connectionIds[0]!
    const reading = connectClient<typeof router>(url, { connectionParams: { name: 'reading' } })
    const readingGot: string[] = []
    reading.feed.subscribe(undefined, { onStarted: () => startedCount++, onData: (event) => void readingGot.push(`${event.kind}${event.n}`) })
    await waitUntil(() => startedCount === 2 && channel.subscriberCount === 2, 'both subscriptions to start')

    const published: string[] = []
    const tracked: string[] = []
    let n = 0
    const publish = (kind: 't' | 'v', pad: string) => {
      const event: Ev = { kind, n: ++n, pad }
      if (kind === 't') channel.publish(event)
      else channel.publish(event, { volatile: true })
      published.push(`${kind}${n}`)
      if (kind === 't') tracked.push(`t${n}`)
    }

    proxy.stall()
    // Fill every buffer on the way until the server pauses the stalled connection.
    while (flow.get(stalledId) !== 'pause') {
      if (n >= 1_500) throw new Error(`the stalled connection was not paused after ${n} events of 64 KiB`)
      publish('t', BIG)
      if (n % 8 === 0) await sleep(1)
    }
    const filled = n
    await waitUntil(() => readingGot.length === published.length, 'the reading subscriber to get the large events', 10_000)

    // Volatile events, with a small tracked one every 50th, in batches the reading subscriber keeps up with.
    let volatileCount = 0
    const publishVolatile = async (count: number) => {
      for (let sent = 0; sent < count; ) {
        for (let i = 0; i < 200 && sent < count; i++) {
          if ((n + 1) % 50 === 0) publish('t', '')
          else {
            publish('v', SMALL)
            sent++
          }
        }
        await waitUntil(() => readingGot.length === published.length, 'the reading subscriber to keep up', 5_000)
      }
      volatileCount += count
    }
    // A first round fills what is bounded anyway (the channel's rings, the test's frame recorder), so that the second measures growth.
    await publishVolatile(20_000)
    const heapBefore = await retainedHeap()
    await publishVolatile(40_000)
    const heapGrowth = (await retainedHeap()) - heapBefore
    // Nothing is counted yet: the stalled subscriber has not pulled them.
    expect(channel.volatileSkips).toBe(0)
    // Still paused: nothing was written for it meanwhile, so nothing could drain.
    expect(flow.get(stalledId)).toBe('pause')
    console.info(
      `[volatile] ${filled} events of 64 KiB filled the stalled connection; then ${volatileCount} volatile events of 2 KiB ` +
        `(${(volatileCount * 2) / 1024} MiB) and ${published.length - filled - volatileCount} tracked ones; retained heap growth over the last 40,000: ${(heapGrowth / MiB).toFixed(2)} MiB`,
    )
    // 78 MiB published volatile to a connection that reads nothing: none of it stays.
    expect(heapGrowth).toBeLessThan(8 * MiB)
    expect(readingGot).toEqual(published)

    proxy.restore()
    await waitUntil(() => stalledGot.at(-1) === tracked.at(-1), 'the stalled subscriber to drain', 10_000)
    // Everything tracked, in order, and none of the volatile events published while it was behind.
    expect(stalledGot).toEqual(tracked)
    expect(channel.volatileSkips).toBe(volatileCount)

    // Caught up, it gets volatile events again.
    publish('v', SMALL)
    publish('t', '')
    await waitUntil(() => stalledGot.length === tracked.length + 1, 'the stalled subscriber to get new events')
    expect(stalledGot.slice(-2)).toEqual(published.slice(-2))
    await waitUntil(() => readingGot.length === published.length, 'the reading subscriber to get them too')
    expect(readingGot).toEqual(published)
    expect(stalled.$connection.state).toBe('open')
  }, 60_000)

  it('a subscription idle when its connection went above the mark skips a volatile event at once, at the moment it would be written', async () => {
    // Two channels on one connection: `bulk` fills it, `typing` waits for an event meanwhile (its pump already pulled, so it is not held by the pause).
    const bulk = createChannel<Ev>({ maxLag: 2_000 })
    const typing = createChannel<string>()
    const rpcPlain = initRpc.create()
    const router = rpcPlain.router({
      bulk: rpcPlain.procedure.subscription(({ signal }) => bulk.subscribe({ signal })),
      typing: rpcPlain.procedure.subscription(({ signal }) => typing.subscribe({ signal })),
    })
    let paused = false
    const { port } = await startServer({
      router,
      backpressure: { highWaterMark: 64 * KiB, lowWaterMark: 16 * KiB, maxBufferedAmount: 256 * MiB, slowConsumerTimeoutMs: 120_000 },
      instrumentation: [{ onBackpressure: ({ kind }) => void (paused = kind === 'pause') }],
    })
    const proxy = await startFaultProxy(port)
    const api = connectClient<typeof router>(proxy.url('/rpc'), { keepAlive: false })
    const typed: string[] = []
    let bulkGot = 0
    let started = 0
    api.bulk.subscribe(undefined, { onStarted: () => started++, onData: () => void bulkGot++ })
    api.typing.subscribe(undefined, { onStarted: () => started++, onData: (who) => void typed.push(who) })
    await waitUntil(() => started === 2 && typing.subscriberCount === 1, 'both subscriptions')

    proxy.stall()
    let n = 0
    while (!paused) {
      if (n >= 1_500) throw new Error(`the connection was not paused after ${n} events of 64 KiB`)
      bulk.publish({ kind: 't', n: ++n, pad: BIG })
      if (n % 8 === 0) await sleep(1)
    }
    typing.publish('ada', { volatile: true })
    // Counted now, while the connection is still stalled: skipped when it would have been written, not queued.
    await waitUntil(() => typing.volatileSkips === 1, 'the skip')

    proxy.restore()
    await waitUntil(() => bulkGot === n, 'the connection to drain', 10_000)
    typing.publish('bob', { volatile: true })
    await waitUntil(() => typed.length === 1, 'a volatile event once drained')
    expect(typed).toEqual(['bob'])
    expect(typing.volatileSkips).toBe(1)
  }, 30_000)
})
