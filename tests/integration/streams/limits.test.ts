import { describe, expect, it } from 'vitest'
import { connectClient, readyPeer, rpcErrorOf, sleep, startServer, waitUntil, within } from '../../helpers/harness'
import { watchInvariants } from '../../helpers/invariants'
import { streamProbe, streamRouter, type StreamRouter } from './router'

/**
 * The bounds of a client stream, each reached for real: `maxChunks`,
 * `maxBytes` and `maxDurationMs` (per procedure, from `stream(schema,
 * options)`), and the credit itself: a peer that sends beyond it is closed
 * with 4400, and nobody else notices. A chunk for an id the server has no
 * stream for is ignored.
 */

async function setup() {
  const probe = streamProbe()
  const { url } = await startServer({ router: streamRouter(probe) })
  const api = connectClient<StreamRouter>(url)
  return { api, probe, url }
}

function strings(count: number, size = 1) {
  const state = { finalized: false }
  async function* producer() {
    try {
      for (let i = 0; i < count; i++) yield String(i % 10).repeat(size)
    } finally {
      state.finalized = true
    }
  }
  return { state, source: producer() }
}

describe('stream limits', () => {
  it('maxChunks + 1 chunks: PAYLOAD_TOO_LARGE', async () => {
    const { api, probe } = await setup()
    const { state, source } = strings(6)
    const error = await rpcErrorOf(api.limited.mutate(source))
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(error.data).toEqual({ maxChunks: 5 })
    await waitUntil(() => state.finalized, "the producer's finally")
    await waitUntil(() => probe.loopError !== undefined, 'the resolver loop to throw')
    // Exactly maxChunks is fine.
    const probe2 = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe2) })
    const api2 = connectClient<StreamRouter>(url)
    expect(await api2.limited.mutate(strings(5).source)).toBe(5)
  })

  it('maxBytes (the chunk messages, summed): PAYLOAD_TOO_LARGE', async () => {
    const { api } = await setup()
    const error = await rpcErrorOf(api.limited.mutate(strings(3, 4_000).source))
    expect(error.code).toBe('PAYLOAD_TOO_LARGE')
    expect(error.data).toEqual({ maxBytes: 10_000 })
  })

  it('maxDurationMs from the call to its end: TIMEOUT', async () => {
    const { api, probe } = await setup()
    const state = { finalized: false }
    async function* slow() {
      try {
        yield 'a'
        await sleep(1_000)
        yield 'b'
      } finally {
        state.finalized = true
      }
    }
    const error = await within(rpcErrorOf(api.limited.mutate(slow())), 'the stream to time out', 3_000)
    expect(error.code).toBe('TIMEOUT')
    await waitUntil(() => probe.loopError !== undefined, 'the resolver loop to throw')
    expect(probe.signal?.aborted).toBe(true)
    await waitUntil(() => state.finalized, "the producer's finally")
  })

  it('the server-wide streams option applies where the procedure sets nothing', async () => {
    const probe = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe), streams: { maxChunks: 3, window: 2 } })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'hold', stream: true })
    expect(await peer.next((m) => m.type === 'credit')).toEqual({ type: 'credit', id: 1, n: 2 })
    const api = connectClient<StreamRouter>(url)
    async function* four() {
      for (let i = 0; i < 4; i++) yield i
    }
    expect((await rpcErrorOf(api.sum.mutate(four()))).code).toBe('PAYLOAD_TOO_LARGE')
  })
})

describe('credit and ids', () => {
  it('a peer sending beyond its credit is closed with 4400; another client streaming meanwhile is unaffected', async () => {
    const { api, url } = await setup()
    let n = 0
    async function* numbers() {
      for (; n < 2_000; n++) {
        yield n
        if (n % 100 === 0) await sleep(1)
      }
    }
    const other = api.count.query(numbers())
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 7, method: 'mutation', path: 'stalled', stream: true })
    const credit = await peer.next((m) => m.type === 'credit')
    expect(credit).toEqual({ type: 'credit', id: 7, n: 16 })
    // The stalled resolver takes one chunk and stops reading: 16 are allowed, the 17th is a violation.
    for (let i = 0; i < 17; i++) peer.send({ type: 'chunk', id: 7, data: i })
    const closed = await within(peer.closed, 'the close', 3_000)
    expect(closed.code).toBe(4400)
    expect(closed.reason).toMatch(/beyond the credit/)
    expect(await within(other, 'the other client', 10_000)).toBe(2_000)
  })

  it('a chunk or end for an id with no stream is ignored', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'chunk', id: 99, data: 1 })
    peer.send({ type: 'end', id: 99 })
    peer.send({ type: 'call', id: 1, method: 'query', path: 'ping' })
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'result', id: 1, data: 'pong' })
    expect(peer.messages.filter((m) => m.type === 'error')).toEqual([])
  })

  it('chunks after the call answered are ignored', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'firstThree', stream: true })
    await peer.next((m) => m.type === 'credit')
    for (let i = 0; i < 5; i++) peer.send({ type: 'chunk', id: 1, data: i })
    expect(await peer.next((m) => m.id === 1 && m.type === 'result')).toMatchObject({ data: 'enough' })
    for (let i = 5; i < 10; i++) peer.send({ type: 'chunk', id: 1, data: i })
    peer.send({ type: 'end', id: 1 })
    peer.send({ type: 'call', id: 2, method: 'query', path: 'ping' })
    expect(await peer.next((m) => m.id === 2)).toMatchObject({ type: 'result', data: 'pong' })
  })

  it('a stream with an idempotencyKey is BAD_REQUEST', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'sum', stream: true, idempotencyKey: 'k1' })
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', code: 'BAD_REQUEST' })
    expect(peer.messages.some((m) => m.type === 'credit')).toBe(false)
  })
})

describe('hostile stream peers', () => {
  it('hurt nobody: a peer that vanishes mid-stream, one sending undecodable chunks, one beyond its credit; the server lets go of all', async () => {
    const probe = streamProbe()
    const { server, url } = await startServer({ router: streamRouter(probe) })
    const inv = watchInvariants<StreamRouter>(server, url, {
      probe: async (api) => {
        async function* two() {
          yield 20
          yield 22
        }
        expect(await api.sum.mutate(two())).toBe(42)
      },
    })
    // Vanishes with a stream open and chunks buffered.
    const vanishing = inv.hostile(await readyPeer(url))
    vanishing.send({ type: 'call', id: 1, method: 'mutation', path: 'stalled', stream: true })
    await vanishing.next((m) => m.type === 'credit')
    for (let i = 0; i < 16; i++) vanishing.send({ type: 'chunk', id: 1, data: i })
    await waitUntil(() => probe.resume !== undefined, 'the stalled resolver to read its first chunk')
    vanishing.ws.terminate()
    // Sends a chunk superjson refuses (an annotation the server does not allow): the call fails BAD_REQUEST.
    const garbled = inv.hostile(await readyPeer(url))
    garbled.send({ type: 'call', id: 1, method: 'mutation', path: 'hold', stream: true })
    await garbled.next((m) => m.type === 'credit')
    garbled.send({ type: 'chunk', id: 1, data: 'x', meta: { values: ['bogus-annotation'] } })
    expect(await garbled.next((m) => m.id === 1 && m.type === 'error')).toMatchObject({ code: 'BAD_REQUEST' })
    // Beyond its credit, on two streams at once.
    const greedy = inv.hostile(await readyPeer(url))
    greedy.send({ type: 'call', id: 1, method: 'mutation', path: 'stalled', stream: true })
    greedy.send({ type: 'subscribe', id: 2, path: 'chat', stream: true })
    await greedy.next((m) => m.type === 'credit' && m.id === 2)
    for (let i = 0; i < 40; i++) greedy.send({ type: 'chunk', id: 1, data: i })
    expect((await within(greedy.closed, 'the close', 3_000)).code).toBe(4400)
    await inv.check()
  })
})
