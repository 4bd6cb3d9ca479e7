import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { initRpc, isRpcError, type RpcError } from '@wirecall/core'
import type { ErrorHandlerOptions } from '@wirecall/server'
import { startFaultProxy } from '../../helpers/fault-proxy'
import { connectClient, rawPeer, sleep, startServer, waitUntil, within } from '../../helpers/harness'

/**
 * The server announces its per-connection limits in `ack`, and the official
 * client keeps within them by itself: calls past `maxInFlightCalls` and
 * messages above the rate wait in its queue, and a subscription past
 * `maxSubscriptions` fails at once. A peer that ignores the announcement is
 * still refused.
 */

const rpc = initRpc.create()

function makeRouter(probe: { running: number; peak: number; subscribed: number }) {
  return rpc.router({
    echo: rpc.procedure.input(z.number()).query(async ({ input }) => {
      probe.running++
      probe.peak = Math.max(probe.peak, probe.running)
      // Held over a macrotask, so that calls really overlap on the server.
      await sleep(1)
      probe.running--
      return input
    }),
    ticks: rpc.procedure.subscription(async function* ({ signal }) {
      probe.subscribed++
      yield 0
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))
    }),
  })
}

function newProbe() {
  return { running: 0, peak: 0, subscribed: 0 }
}

/** Every error the server reported, to prove it refused nothing. */
function errorsSeen() {
  const seen: RpcError[] = []
  return { seen, onError: ({ error }: ErrorHandlerOptions) => void seen.push(error) }
}

describe('ack announces the limits', () => {
  it('with the defaults: calls in flight, subscriptions, message rate and burst', async () => {
    const { url } = await startServer({ router: makeRouter(newProbe()) })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    const ack = await peer.next((m) => m.type === 'ack')
    expect(ack).toEqual({
      type: 'ack',
      maxPayload: 1_048_576,
      limits: { maxInFlightCalls: 1_000, maxSubscriptions: 1_000, messagesPerSecond: 100_000, burst: 100_000 },
      features: ['streams'],
    })
  })

  it('leaves out a limit that is off, and announces what was configured', async () => {
    const { url } = await startServer({ router: makeRouter(newProbe()), rateLimit: false, maxInFlightCalls: 7, maxSubscriptions: Infinity })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    const ack = await peer.next((m) => m.type === 'ack')
    expect(ack.limits).toEqual({ maxInFlightCalls: 7 })
  })
})

describe('the client keeps within the announced limits', () => {
  it('5,000 concurrent calls with every default all succeed, and the server refuses none', async () => {
    const probe = newProbe()
    const errors = errorsSeen()
    const { url } = await startServer({ router: makeRouter(probe), onError: errors.onError })
    const api = connectClient<ReturnType<typeof makeRouter>>(url)
    await api.echo.query(-1)
    const inputs = Array.from({ length: 5_000 }, (_, i) => i)
    const results = await within(Promise.all(inputs.map((i) => api.echo.query(i))), '5,000 calls', 15_000)
    expect(results).toEqual(inputs)
    expect(errors.seen).toEqual([])
    expect(probe.peak).toBeLessThanOrEqual(1_000)
  })

  it('holds calls past maxInFlightCalls in its queue: the server never has more running, and every call succeeds', async () => {
    const probe = newProbe()
    const errors = errorsSeen()
    const { url } = await startServer({ router: makeRouter(probe), maxInFlightCalls: 8, onError: errors.onError })
    const api = connectClient<ReturnType<typeof makeRouter>>(url)
    const inputs = Array.from({ length: 400 }, (_, i) => i)
    await expect(within(Promise.all(inputs.map((i) => api.echo.query(i))), '400 calls', 10_000)).resolves.toEqual(inputs)
    expect(probe.peak).toBe(8)
    expect(errors.seen).toEqual([])
  })

  it('paces calls under the announced message rate instead of being refused', async () => {
    const probe = newProbe()
    const errors = errorsSeen()
    const rateLimit = { messagesPerSecond: 400, burst: 40 }
    const { url } = await startServer({ router: makeRouter(probe), rateLimit, onError: errors.onError })
    const api = connectClient<ReturnType<typeof makeRouter>>(url, { keepAlive: false })
    await api.echo.query(-1)
    const startedAt = performance.now()
    const inputs = Array.from({ length: 200 }, (_, i) => i)
    await expect(within(Promise.all(inputs.map((i) => api.echo.query(i))), '200 paced calls', 10_000)).resolves.toEqual(inputs)
    const elapsedMs = performance.now() - startedAt
    expect(errors.seen).toEqual([])
    // The client's bucket holds 35 of the 40 tokens and refills at 380/s: the rest of the 200 cannot go in under ~430 ms.
    expect(elapsedMs).toBeGreaterThan(350)
  })

  it('paces subscriptions too, and a reconnect resubscribes them all within the rate', async () => {
    const probe = newProbe()
    const errors = errorsSeen()
    const { port } = await startServer({ router: makeRouter(probe), rateLimit: { messagesPerSecond: 200, burst: 20 }, onError: errors.onError })
    const proxy = await startFaultProxy(port)
    const api = connectClient<ReturnType<typeof makeRouter>>(proxy.url('/rpc'), { keepAlive: false, reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
    const started: number[] = []
    const subs = Array.from({ length: 60 }, (_, i) => api.ticks.subscribe(undefined, { onData: () => void started.push(i) }))
    await waitUntil(() => started.length === 60, 'all 60 subscriptions to start', 5_000)
    expect(errors.seen).toEqual([])

    started.length = 0
    proxy.cut()
    await waitUntil(() => started.length === 60, 'all 60 to start again after the reconnect', 5_000)
    expect(errors.seen).toEqual([])
    for (const sub of subs) sub.unsubscribe()
  })

  it('fails a subscription past maxSubscriptions at once, without sending it', async () => {
    const probe = newProbe()
    const { url } = await startServer({ router: makeRouter(probe), maxSubscriptions: 3 })
    const api = connectClient<ReturnType<typeof makeRouter>>(url)
    await api.echo.query(0)
    const subs = Array.from({ length: 3 }, () => api.ticks.subscribe(undefined, { onData: () => {} }))
    await waitUntil(() => probe.subscribed === 3, 'three subscriptions to run')

    let failed: unknown
    const fourth = api.ticks.subscribe(undefined, { onData: () => {}, onError: (error) => (failed = error) })
    await waitUntil(() => failed !== undefined, 'the fourth to fail', 1_000)
    expect(isRpcError(failed) && failed.code).toBe('TOO_MANY_REQUESTS')
    expect(fourth.state).toBe('ended')
    await sleep(30)
    // Never sent: the server ran three.
    expect(probe.subscribed).toBe(3)

    // Room again once one ends.
    subs[0]!.unsubscribe()
    const fifth = api.ticks.subscribe(undefined, { onData: () => {} })
    await waitUntil(() => probe.subscribed === 4, 'the next subscription to run')
    fifth.unsubscribe()
  })
})

describe('a peer that ignores the announcement', () => {
  it('is refused past maxInFlightCalls as before', async () => {
    const { url } = await startServer({ router: makeRouter(newProbe()), maxInFlightCalls: 2 })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')
    peer.send([1, 2, 3, 4].map((id) => ({ type: 'call', id, method: 'query', path: 'echo', input: id })))
    const refused = await peer.next((m) => m.type === 'error')
    expect(refused).toMatchObject({ code: 'TOO_MANY_REQUESTS' })
  })

  it('is refused above the message rate as before', async () => {
    const { url } = await startServer({ router: makeRouter(newProbe()), rateLimit: { messagesPerSecond: 10, burst: 5 } })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')
    peer.send(Array.from({ length: 8 }, (_, i) => ({ type: 'call', id: i + 1, method: 'query', path: 'echo', input: i })))
    const refused = await peer.next((m) => m.type === 'error')
    expect(refused).toMatchObject({ code: 'TOO_MANY_REQUESTS' })
  })
})
