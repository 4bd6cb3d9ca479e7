import { describe, expect, it } from 'vitest'
import { rpcErrorOf, sleep, waitUntil, within } from '../../helpers/harness'
import { connectionNamed, peerClient, rawHandlerPeer, startPeerServer, type PeerServer } from './fixtures'

/**
 * A client that answers the server's calls wrongly — other ids, wrong
 * types, never, or floods of answers to nothing — fails only its own
 * calls: it is not closed for an unknown id, and a well-behaved client on
 * the same server keeps getting its calls answered at its usual pace.
 */

/** Latencies (ms) of `count` sequential calls to the well-behaved client. */
async function latencies(server: PeerServer, count: number): Promise<number[]> {
  const { peer } = await connectionNamed(server, 'good')
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    expect(await peer.math.double.call(i)).toBe(2 * i)
    out.push(performance.now() - started)
  }
  return out
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

describe('a hostile client', () => {
  it('answers with wrong ids, wrong types, or never: its own calls fail (TIMEOUT, INTERNAL), its connection lives', async () => {
    const { server, url } = await startPeerServer()
    const raw = await rawHandlerPeer(url, 'hostile', ['ui.confirm', 'math.double'])
    const { peer } = await connectionNamed(server, 'hostile')

    // Wrong id: the answer goes nowhere, the call times out.
    const wrongId = peer.math.double.call(1, { timeoutMs: 300 })
    const first = await raw.next((m) => m.type === 'call')
    raw.send({ type: 'result', id: (first.id as number) + 1_000, data: 2 })
    raw.send({ type: 'error', id: 999_999, code: 'CONFLICT', message: 'not yours' })
    expect((await rpcErrorOf(wrongId)).code).toBe('TIMEOUT')
    // The server told it to stop.
    await raw.next((m) => m.type === 'cancel' && m.id === first.id)

    // Wrong type: z.boolean() gets a string; the server checks the answer against clientRouter.
    const wrongType = peer.ui.confirm.call({ text: '?' })
    const second = await raw.next((m) => m.type === 'call' && m.path === 'ui.confirm')
    raw.send({ type: 'result', id: second.id, data: 'yes' })
    const error = await rpcErrorOf(wrongType)
    expect(error.code).toBe('INTERNAL')

    // An error code outside the table reads as INTERNAL.
    const oddCode = peer.math.double.call(2)
    const third = await raw.next((m) => m.type === 'call' && m.id !== first.id && m.path === 'math.double')
    raw.send({ type: 'error', id: third.id, code: 'I_AM_A_TEAPOT', message: 'no' })
    expect((await rpcErrorOf(oddCode)).code).toBe('INTERNAL')

    // Never answering: TIMEOUT; a late answer after it is ignored.
    const never = peer.math.double.call(3, { timeoutMs: 200 })
    const fourth = await raw.next((m) => m.type === 'call' && (m.id as number) > (third.id as number))
    expect((await rpcErrorOf(never)).code).toBe('TIMEOUT')
    raw.send({ type: 'result', id: fourth.id, data: 6 })

    // Still connected, and a right answer still works.
    await sleep(50)
    expect(raw.ws.readyState).toBe(raw.ws.OPEN)
    const right = peer.math.double.call(4)
    const fifth = await raw.next((m) => m.type === 'call' && (m.id as number) > (fourth.id as number))
    raw.send({ type: 'result', id: fifth.id, data: 8 })
    await expect(right).resolves.toBe(8)
    expect(server.stats().peerCalls).toBe(0)
  })

  it('floods of answers to unknown ids and calls it never answers do not slow a well-behaved client down', async () => {
    const { server, url } = await startPeerServer({ peerCalls: { timeoutMs: 500 } })
    peerClient(url, 'good')
    await connectionNamed(server, 'good')
    const baseline = await latencies(server, 50)

    const raw = await rawHandlerPeer(url, 'hostile', ['ui.confirm', 'math.double'])
    const hostile = await connectionNamed(server, 'hostile')
    // It never answers these: 32 in flight (the limit), the rest refused at once.
    const ignored = Array.from({ length: 40 }, (_, i) => hostile.peer.math.double.call(i).catch((e: { code: string }) => e.code))
    let flooding = true
    let sent = 0
    const flood = (async () => {
      let id = 1_000_000
      while (flooding && raw.ws.readyState === raw.ws.OPEN) {
        sent += 500
        raw.send(Array.from({ length: 500 }, (_, i) => (i % 2 === 0 ? { type: 'result', id: id++, data: 'x'.repeat(100) } : { type: 'error', id: id++, code: 'INTERNAL', message: 'x' })))
        await new Promise<void>((resolve) => setImmediate(resolve))
      }
    })()
    try {
      const during = await latencies(server, 50)
      // Normal latency: the median within a few milliseconds of the baseline, no call slow.
      expect(median(during)).toBeLessThan(median(baseline) + 20)
      expect(Math.max(...during)).toBeLessThan(500)
    } finally {
      flooding = false
      await flood
    }
    expect(sent).toBeGreaterThan(5_000)
    const codes = await within(Promise.all(ignored), 'the ignored calls', 3_000)
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS')).toHaveLength(8)
    // The others timed out, or were lost if the flood got the hostile peer closed (rate limit): never answered.
    for (const code of codes) expect(['TOO_MANY_REQUESTS', 'TIMEOUT', 'CONNECTION_LOST']).toContain(code)
    await waitUntil(() => server.stats().peerCalls === 0, 'the table to be empty')
    // The well-behaved client is still there and still answered.
    await expect((await connectionNamed(server, 'good')).peer.math.double.call(21)).resolves.toBe(21 * 2)
  })
})
