import { describe, expect, it, onTestFinished } from 'vitest'
import { connectClient, startServer, waitUntil, within } from '../../helpers/harness'
import { streamProbe, streamRouter, type StreamRouter } from './router'
import { recordingWebSocket } from './stream-socket'

/**
 * Credit flow control over real sockets: the client writes a chunk only
 * within the credit the server granted, so what it holds for the server
 * is bounded by the window whatever the pace of the resolver, and a
 * resolver that stops reading pauses the producer itself (no pull without
 * credit).
 */

const WINDOW = 16

describe('credit flow control', () => {
  it('streams 10,000 chunks into a resolver taking one per millisecond, in order, holding at most a window of them', async () => {
    const probe = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe), streams: { window: WINDOW } })
    const { WebSocket, wire } = recordingWebSocket()
    const api = connectClient<StreamRouter>(url, { WebSocket })
    const COUNT = 10_000
    // Chunks of varying sizes (up to ~200 characters), numbered so order can be checked.
    const chunkText = (i: number) => `${i}:${'x'.repeat((i * 37) % 200)}`
    async function* producer() {
      for (let i = 0; i < COUNT; i++) yield chunkText(i)
    }
    let maxUncredited = 0
    let maxBuffered = 0
    let samples = 0
    const sampler = setInterval(() => {
      samples++
      maxUncredited = Math.max(maxUncredited, wire.uncreditedBytes())
      maxBuffered = Math.max(maxBuffered, api.$connection.bufferedAmount)
    }, 1)
    onTestFinished(() => clearInterval(sampler))
    const taken = await within(api.paced.mutate(producer(), { timeoutMs: 10_000 }), 'the paced upload', 60_000)
    clearInterval(sampler)
    expect(taken).toBe(COUNT)
    expect(probe.taken).toEqual(Array.from({ length: COUNT }, (_, i) => chunkText(i)))
    const bound = WINDOW * wire.largestChunk
    console.log(
      `10,000 chunks: ${samples} samples; max uncredited ${maxUncredited} B, max bufferedAmount ${maxBuffered} B, bound ${bound} B (window ${WINDOW} x largest chunk ${wire.largestChunk} B)`,
    )
    expect(samples).toBeGreaterThan(1_000)
    expect(maxUncredited).toBeLessThanOrEqual(bound)
    expect(maxBuffered).toBeLessThanOrEqual(bound)
    // Credit came back in batches of half the window.
    expect(wire.credits[0]).toBe(WINDOW)
    expect(wire.credits.slice(1).every((n) => n === WINDOW / 2)).toBe(true)
  }, 90_000)

  it('a resolver that stops reading pauses the producer: it is pulled only within the credit granted', async () => {
    const probe = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe), streams: { window: 4 } })
    const api = connectClient<StreamRouter>(url)
    let pulls = 0
    async function* producer() {
      for (let i = 0; i < 1_000; i++) {
        pulls++
        yield i
      }
    }
    const answer = api.stalled.mutate(producer())
    await waitUntil(() => probe.resume !== undefined, 'the resolver to stall after its first chunk')
    // Give a producer that ignored credit every chance to run ahead.
    await new Promise((resolve) => setTimeout(resolve, 200))
    // Pulls <= window + what the resolver consumed (1): credit comes back in batches of half the window, so none yet.
    expect(pulls).toBeLessThanOrEqual(4 + probe.taken.length)
    const pausedAt = pulls
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(pulls).toBe(pausedAt)
    probe.resume!()
    expect(await within(answer, 'the upload after resuming', 10_000)).toBe(1_000)
    expect(probe.taken).toEqual(Array.from({ length: 1_000 }, (_, i) => i))
  })
})
