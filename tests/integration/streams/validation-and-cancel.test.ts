import { describe, expect, it } from 'vitest'
import { RpcError } from '@wirecall/core'
import { connectClient, rpcErrorOf, sleep, startServer, waitUntil, within } from '../../helpers/harness'
import { streamProbe, streamRouter, type StreamRouter } from './router'
import { recordingWebSocket } from './stream-socket'

/**
 * How a client stream ends, both ways, over real sockets: a chunk that
 * fails validation ends the call with `BAD_REQUEST` on both sides and
 * stops the producer; the client's abort reaches the resolver's signal and
 * its loop; a resolver that returns early stops the producer and the call
 * resolves; a `ReadableStream` works as a source; and a stream sent to
 * the wrong kind of procedure is refused.
 */

/** A producer that records whether its `finally` ran (its `return()` was called, or it finished). */
function recorded<T>(items: (i: number) => T, count: number, onPull?: (i: number) => void) {
  const state = { pulled: 0, finalized: false, completed: false }
  async function* producer() {
    try {
      for (let i = 0; i < count; i++) {
        onPull?.(i)
        state.pulled++
        yield items(i)
      }
      state.completed = true
    } finally {
      state.finalized = true
    }
  }
  return { state, source: producer() }
}

async function setup() {
  const probe = streamProbe()
  const { url } = await startServer({ router: streamRouter(probe) })
  const api = connectClient<StreamRouter>(url)
  return { api, probe }
}

describe('a chunk that fails validation', () => {
  it('ends the stream with BAD_REQUEST: the client rejects, the producer is returned, the resolver loop threw', async () => {
    const { api, probe } = await setup()
    // Chunk 50 is a string where numbers are expected.
    const { state, source } = recorded((i) => (i === 50 ? ('fifty' as unknown as number) : i), 1_000)
    const error = await rpcErrorOf(api.sum.mutate(source))
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).toMatch(/^Invalid chunk 50: /)
    expect((error.data as { issues?: unknown[] }).issues?.length).toBeGreaterThan(0)
    await waitUntil(() => state.finalized, "the producer's finally")
    expect(state.completed).toBe(false)
    expect(probe.taken).toEqual(Array.from({ length: 50 }, (_, i) => i))
    await waitUntil(() => probe.loopError !== undefined, 'the resolver loop to throw')
    expect(probe.loopError).toBeInstanceOf(RpcError)
    expect((probe.loopError as RpcError).code).toBe('BAD_REQUEST')
    expect(probe.signal?.aborted).toBe(true)
    // The connection lives.
    expect(await api.ping.query()).toBe('pong')
  })
})

describe('cancel, both ways', () => {
  it("the client's signal aborts the resolver's signal, and its loop throws CANCELLED", async () => {
    const { api, probe } = await setup()
    const controller = new AbortController()
    // An endless producer: only the abort ends it.
    const { state, source } = recorded((i) => i, Number.POSITIVE_INFINITY)
    const call = api.hold.mutate(source, { signal: controller.signal })
    await waitUntil(() => probe.taken.length >= 20, 'the resolver to read 20 chunks')
    controller.abort()
    expect((await rpcErrorOf(call)).code).toBe('CANCELLED')
    await waitUntil(() => probe.loopError !== undefined, 'the resolver loop to throw')
    expect((probe.loopError as RpcError).code).toBe('CANCELLED')
    expect(probe.signal?.aborted).toBe(true)
    await waitUntil(() => state.finalized, "the producer's finally")
  })

  it('a resolver that returns early stops the producer, and the call resolves with its value', async () => {
    const { api, probe } = await setup()
    const { state, source } = recorded((i) => i, Number.POSITIVE_INFINITY)
    expect(await within(api.firstThree.mutate(source), 'the call', 5_000)).toBe('enough')
    await waitUntil(() => state.finalized, "the producer's finally")
    expect(state.completed).toBe(false)
    expect(probe.taken).toEqual([0, 1, 2])
    expect(await api.ping.query()).toBe('pong')
  })

  it('a producer that throws cancels the call, which rejects with its error', async () => {
    const { api, probe } = await setup()
    async function* failing() {
      yield 1
      yield 2
      throw new RpcError('CONFLICT', 'the file changed while reading')
    }
    const error = await rpcErrorOf(api.hold.mutate(failing()))
    expect(error.code).toBe('CONFLICT')
    await waitUntil(() => probe.loopError !== undefined, 'the resolver loop to throw')
    expect((probe.loopError as RpcError).code).toBe('CANCELLED')
  })

  it('a chunk that cannot be serialized rejects BAD_REQUEST and cancels the call', async () => {
    const { api, probe } = await setup()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const { state, source } = recorded((i) => (i === 3 ? (cyclic as unknown as number) : i), 10)
    const error = await rpcErrorOf(api.hold.mutate(source))
    expect(error.code).toBe('BAD_REQUEST')
    await waitUntil(() => state.finalized, "the producer's finally")
    await waitUntil(() => probe.loopError !== undefined, 'the resolver loop to throw')
    expect(probe.taken).toEqual([0, 1, 2])
  })
})

describe('a lost connection and the client timeout', () => {
  it('a dropped socket rejects the call CONNECTION_LOST (never re-sent), returns the producer, and the resolver loop throws CONNECTION_LOST', async () => {
    const probe = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe) })
    const { WebSocket, wire } = recordingWebSocket()
    const api = connectClient<StreamRouter>(url, { WebSocket, reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
    const { state, source } = recorded((i) => i, Number.POSITIVE_INFINITY)
    const call = api.hold.mutate(source)
    await waitUntil(() => probe.taken.length >= 20, 'the resolver to read 20 chunks')
    wire.sockets[0]!.terminate()
    expect((await rpcErrorOf(call)).code).toBe('CONNECTION_LOST')
    await waitUntil(() => state.finalized, "the producer's finally")
    await waitUntil(() => probe.loopError !== undefined, 'the resolver loop to throw')
    expect((probe.loopError as RpcError).code).toBe('CONNECTION_LOST')
    // The client reconnects; the stream call is not sent again.
    expect(await api.ping.query()).toBe('pong')
    expect(wire.sent.filter((m) => m.type === 'call' && m.path === 'hold')).toHaveLength(1)
  })

  it('timeoutMs bounds each wait for the server (here, for credit from a resolver that stopped reading)', async () => {
    const probe = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe), streams: { window: 2 } })
    const api = connectClient<StreamRouter>(url)
    const { state, source } = recorded((i) => i, 100)
    const error = await within(rpcErrorOf(api.stalled.mutate(source, { timeoutMs: 200 })), 'the timeout', 3_000)
    expect(error.code).toBe('TIMEOUT')
    await waitUntil(() => state.finalized, "the producer's finally")
    await waitUntil(() => probe.signal?.aborted === true, "the resolver's signal (the client sent cancel)")
  })

  it('timeoutMs does not count the time the producer takes', async () => {
    const { api } = await setup()
    async function* slow() {
      for (let i = 1; i <= 3; i++) {
        await sleep(150)
        yield i
      }
    }
    // 450 ms of producer time against a 100 ms timeout.
    expect(await within(api.sum.mutate(slow(), { timeoutMs: 100 }), 'the slow upload', 3_000)).toBe(6)
  })
})

describe('sources and procedures', () => {
  it("takes a ReadableStream (Node's global)", async () => {
    const { api } = await setup()
    let n = 0
    const readable = new ReadableStream<number>({
      pull(controller) {
        n++
        if (n > 100) controller.close()
        else controller.enqueue(n)
      },
    })
    expect(await api.sum.mutate(readable)).toBe(5050)
  })

  it('a query can take a stream too', async () => {
    const { api } = await setup()
    async function* three() {
      yield 1
      yield 2
      yield 3
    }
    expect(await api.count.query(three())).toBe(3)
  })

  it('an empty stream ends at once', async () => {
    const { api } = await setup()
    async function* none(): AsyncGenerator<number> {
      return
    }
    expect(await api.sum.mutate(none())).toBe(0)
  })

  it('a stream to a procedure that does not take one, and a plain input to one that does, are BAD_REQUEST', async () => {
    const { api } = await setup()
    async function* one() {
      yield 1
    }
    const client = api as unknown as { plain: { mutate(input: unknown): Promise<unknown> }; sum: { mutate(input: unknown): Promise<unknown> } }
    const notStream = await rpcErrorOf(client.plain.mutate(one()))
    expect(notStream.code).toBe('BAD_REQUEST')
    expect(notStream.message).toMatch(/does not take a stream/)
    const notPlain = await rpcErrorOf(client.sum.mutate(5))
    expect(notPlain.code).toBe('BAD_REQUEST')
    expect(notPlain.message).toMatch(/takes a stream: send it as chunks/)
  })

  it('a stream cannot be idempotent', async () => {
    const { api } = await setup()
    async function* one() {
      yield 1
    }
    expect((await rpcErrorOf(api.sum.mutate(one(), { idempotent: true }))).code).toBe('BAD_REQUEST')
  })
})
