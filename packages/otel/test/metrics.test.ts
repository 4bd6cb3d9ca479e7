import { describe, expect, it } from 'vitest'
import { initRpc, tracked } from '@wirecall/core'
import { connectClient, sleep, startServer, waitUntil, within } from '../../../tests/helpers/harness'
import { startFaultProxy } from '../../../tests/helpers/fault-proxy'
import { histogramPoints, otelFixture, registerOtelGlobals, sumOf } from './otel-fixture'

/**
 * The metrics an operator watches, from real servers and clients over
 * 127.0.0.1: connections and subscriptions that return to 0 when every
 * client has gone, a stalled reader's backpressure pause and slow-consumer
 * close, and a client's reconnects by close code.
 */

registerOtelGlobals()

const rpc = initRpc.create()

const KiB = 1_024
const CHUNK = 'x'.repeat(64 * KiB)

const router = rpc.router({
  ticks: rpc.procedure.subscription(async function* ({ signal }) {
    for (let n = 1; !signal.aborted; n++) {
      await sleep(10, signal)
      if (!signal.aborted) yield tracked(String(n), n)
    }
  }),
  /** 64 KiB chunks as fast as they are pulled: a reader that stops reading fills every buffer. */
  stream: rpc.procedure.subscription(async function* () {
    for (let i = 0; i < 16_384; i++) yield CHUNK
  }),
  ping: rpc.procedure.query(() => 'pong'),
})
type R = typeof router

describe('server metrics', () => {
  it('connections and subscriptions count up while clients are there, and return to 0 after every client leaves', async () => {
    const fixture = otelFixture()
    const { server, url } = await startServer({ router, instrumentation: [fixture.otel()] })
    const a = connectClient<R>(url, { instrumentation: [fixture.otel()] })
    const b = connectClient<R>(url)
    const seen = { a: 0, b: 0 }
    const a1 = a.ticks.subscribe(undefined, { onData: () => void seen.a++ })
    a.ticks.subscribe(undefined, { onData: () => void seen.a++ })
    b.ticks.subscribe(undefined, { onData: () => void seen.b++ })
    await waitUntil(() => seen.a >= 4 && seen.b >= 2, 'events on every subscription')

    let metrics = await fixture.metrics()
    expect(sumOf(metrics.get('wirecall.server.connections'))).toBe(2)
    expect(sumOf(metrics.get('wirecall.server.subscriptions'))).toBe(3)

    a1.unsubscribe() // ended by the client
    await waitUntil(() => server.stats().subscriptions === 2, 'the server to end the unsubscribed one')
    metrics = await fixture.metrics()
    expect(sumOf(metrics.get('wirecall.server.subscriptions'))).toBe(2)

    await a.$connection.close() // the rest end with their connections
    await b.$connection.close()
    await waitUntil(() => server.connectionCount === 0, 'the server to see both clients go')
    metrics = await fixture.metrics()
    expect(sumOf(metrics.get('wirecall.server.connections'))).toBe(0)
    expect(sumOf(metrics.get('wirecall.server.subscriptions'))).toBe(0)
    // Not a resume: none of these arrived with a lastEventId.
    expect(sumOf(metrics.get('wirecall.subscription.resumes'))).toBe(0)
  })

  it('a reader that stops reading: a backpressure pause with the send buffer recorded, then a slow-consumer close', async () => {
    const fixture = otelFixture()
    const { server, port } = await startServer({
      router,
      instrumentation: [fixture.otel()],
      backpressure: { highWaterMark: 256 * KiB, lowWaterMark: 64 * KiB, slowConsumerTimeoutMs: 500 },
    })
    const proxy = await startFaultProxy(port)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: false, keepAlive: false })
    const closed = new Promise<{ code: number }>((resolve) => api.$connection.on('close', resolve))
    let chunks = 0
    api.stream.subscribe(undefined, { onData: () => void chunks++, onError: () => {} })
    await waitUntil(() => chunks >= 4, 'the first chunks')
    proxy.stall() // the reader stops reading: kernel buffers fill, then the server's own

    await fixture.metricsWhen((m) => sumOf(m.get('wirecall.server.slow_consumer.closes')) === 1, 'the slow-consumer close', 10_000)
    // Let the held bytes through, so that the client reads the server's close frame.
    proxy.restore()
    expect((await within(closed, 'the client to see its close', 10_000)).code).toBe(1013)
    await waitUntil(() => server.connectionCount === 0, 'the server to drop the connection')

    const metrics = await fixture.metrics()
    expect(sumOf(metrics.get('wirecall.server.backpressure.pauses'))).toBeGreaterThanOrEqual(1)
    expect(sumOf(metrics.get('wirecall.server.slow_consumer.closes'))).toBe(1)
    const buffer = metrics.get('wirecall.server.send_buffer')
    expect(buffer?.descriptor.unit).toBe('By')
    const [paused] = histogramPoints(buffer, { 'wirecall.backpressure.kind': 'pause' })
    expect(paused!.value.min!).toBeGreaterThanOrEqual(256 * KiB)
    expect(histogramPoints(buffer, { 'wirecall.backpressure.kind': 'slow-consumer' })[0]?.value.count).toBe(1)
    expect(sumOf(metrics.get('wirecall.server.connections'))).toBe(0)
    expect(sumOf(metrics.get('wirecall.server.subscriptions'))).toBe(0)
    await proxy.close()
  })
})

describe('client metrics', () => {
  it('counts reconnects by the close code of the socket that went: 1006 for a network drop, 1012 for a restart', async () => {
    const fixture = otelFixture()
    const first = await startServer({ router })
    const proxy = await startFaultProxy(first.port)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 50 }, instrumentation: [fixture.otel()] })
    expect(await api.ping.query()).toBe('pong')

    proxy.cut() // the network drops the link: no close frame
    await waitUntil(() => api.$connection.state === 'reconnecting', 'the client to notice')
    await waitUntil(() => api.$connection.state === 'open', 'the reconnect', 5_000)

    const second = await startServer({ router }) // the process restarts elsewhere: the old one closes with 1012
    proxy.setTarget(second.port)
    await first.server.close({ graceMs: 1_000, reconnectWindowMs: 0 })
    await waitUntil(() => second.server.connectionCount === 1, 'the client to reach the new server', 5_000)

    const reconnects = (await fixture.metrics()).get('wirecall.client.reconnects')
    expect(sumOf(reconnects, { 'wirecall.close_code': '1006' })).toBeGreaterThanOrEqual(1)
    expect(sumOf(reconnects, { 'wirecall.close_code': '1012' })).toBe(1)
    const codes = new Set(reconnects?.dataPoints.map((point) => point.attributes['wirecall.close_code']))
    expect([...codes].sort()).toEqual(['1006', '1012'])
    await proxy.close()
  })

  it('records the keep-alive ping round trip in seconds', async () => {
    const fixture = otelFixture()
    const { url } = await startServer({ router })
    const api = connectClient<R>(url, { keepAlive: { intervalMs: 30, timeoutMs: 1_000 }, instrumentation: [fixture.otel()] })
    expect(await api.ping.query()).toBe('pong')
    const metrics = await fixture.metricsWhen((m) => (histogramPoints(m.get('wirecall.client.ping.rtt'))[0]?.value.count ?? 0) >= 2, 'two pongs')
    const rtt = metrics.get('wirecall.client.ping.rtt')
    const [point] = histogramPoints(rtt)
    expect(rtt?.descriptor.unit).toBe('s')
    expect(point!.value.max!).toBeLessThan(1)
  })
})
