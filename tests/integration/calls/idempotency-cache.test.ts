import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { initRpc } from '@wirecall/core'
import type { IdempotencyOptions } from '@wirecall/server'
import { connectClient, gate, readyPeer, rpcErrorOf, sleep, startServer, untilAborted, waitUntil, within, type RawPeer } from '../../helpers/harness'

/**
 * The server's idempotency cache, driven on the wire by raw peers: a
 * mutation carrying an `idempotencyKey` runs once per path and key, whatever
 * connection the repeats come on, within the cache's bounds (time, keys,
 * bytes). Raw peers stand in for a client retrying after a reconnect, so
 * each case controls exactly which frames arrive, on which connection.
 */

const rpc = initRpc.create()

/** What the server ran, per procedure, and the signal of the latest held run. */
function createProbe() {
  return {
    runs: { x: 0, y: 0, big: 0, held: 0, read: 0, strict: 0 },
    heldSignal: undefined as AbortSignal | undefined,
  }
}
type Probe = ReturnType<typeof createProbe>

/** `release` lets held runs finish; until then they wait (or stop when their signal aborts). */
function makeRouter(probe: Probe, release: Promise<void> = new Promise<void>(() => {})) {
  return rpc.router({
    x: rpc.procedure.input(z.unknown()).mutation(({ input }) => ({ run: ++probe.runs.x, input })),
    y: rpc.procedure.input(z.unknown()).mutation(() => ({ run: ++probe.runs.y })),
    big: rpc.procedure.mutation(() => {
      probe.runs.big++
      return 'b'.repeat(1_000)
    }),
    held: rpc.procedure.input(z.unknown()).mutation(async ({ signal }) => {
      const run = ++probe.runs.held
      probe.heldSignal = signal
      await Promise.race([release, untilAborted(signal), sleep(5_000)])
      return { run, aborted: signal.aborted }
    }),
    read: rpc.procedure.input(z.unknown()).query(() => ({ run: ++probe.runs.read })),
    /** Like `held`, but stops with an error when aborted, as a resolver that honours its signal does. */
    strict: rpc.procedure.input(z.unknown()).mutation(async ({ signal }) => {
      const run = ++probe.runs.strict
      await Promise.race([release, untilAborted(signal), sleep(5_000)])
      signal.throwIfAborted()
      return { run }
    }),
  })
}

async function serve(options: { idempotency?: IdempotencyOptions; release?: Promise<void> } = {}) {
  const probe = createProbe()
  const started = await startServer({
    router: makeRouter(probe, options.release),
    keepAlive: false,
    ...(options.idempotency === undefined ? {} : { idempotency: options.idempotency }),
  })
  return { ...started, probe }
}

/** Sends a call with `key` and returns the answer (result or error) for its id. */
async function call(
  peer: RawPeer,
  id: number,
  path: string,
  input: unknown,
  key: string | undefined,
  method: 'mutation' | 'query' = 'mutation',
): Promise<Record<string, unknown>> {
  const frame: Record<string, unknown> = { type: 'call', id, method, path, input }
  if (key !== undefined) frame.idempotencyKey = key
  peer.send(frame)
  return answer(peer, id)
}

function answer(peer: RawPeer, id: number): Promise<Record<string, unknown>> {
  return peer.next((m) => (m.type === 'result' || m.type === 'error') && m.id === id)
}

/** Sends a call without waiting for its answer. */
function send(peer: RawPeer, id: number, path: string, input: unknown, key: string): void {
  peer.send({ type: 'call', id, method: 'mutation', path, input, idempotencyKey: key })
}

describe('idempotency cache', () => {
  it('answers a repeat of a key from the cache on another connection, under the repeat call’s id, without running the mutation again', async () => {
    const { url, probe } = await serve()
    const first = await readyPeer(url)
    expect(await call(first, 1, 'x', { amount: 5 }, 'k')).toEqual({ type: 'result', id: 1, data: { run: 1, input: { amount: 5 } } })
    first.ws.terminate()

    const second = await readyPeer(url)
    expect(await call(second, 7, 'x', { amount: 5 }, 'k')).toEqual({ type: 'result', id: 7, data: { run: 1, input: { amount: 5 } } })
    expect(probe.runs.x).toBe(1)
  })

  it('refuses a key used again with a different input with CONFLICT, without running the mutation', async () => {
    const { url, probe } = await serve()
    const peer = await readyPeer(url)
    await call(peer, 1, 'x', { amount: 5 }, 'k')

    const refused = await call(peer, 2, 'x', { amount: 6 }, 'k')
    expect(refused).toMatchObject({ type: 'error', id: 2, code: 'CONFLICT' })
    expect(probe.runs.x).toBe(1)
  })

  it('compares inputs by value: the same input with its keys in another order (in meta too) is a repeat, not a conflict', async () => {
    const { url, probe } = await serve()
    const peer = await readyPeer(url)
    const frame = (id: number, input: string, meta: string) =>
      `{"type":"call","id":${id},"method":"mutation","path":"x","idempotencyKey":"k","input":${input},"meta":${meta}}`
    peer.send(frame(1, '{"a":1,"b":{"c":"2020-01-01T00:00:00.000Z","d":[1,2]}}', '{"values":{"b.c":["Date"]},"v":1}'))
    const first = await answer(peer, 1)
    expect(first).toMatchObject({ type: 'result', data: { run: 1 } })
    peer.send(frame(2, '{"b":{"d":[1,2],"c":"2020-01-01T00:00:00.000Z"},"a":1}', '{"v":1,"values":{"b.c":["Date"]}}'))
    expect(await answer(peer, 2)).toEqual({ ...first, id: 2 })
    // Arrays keep their order: [2,1] is another input.
    peer.send(frame(3, '{"a":1,"b":{"c":"2020-01-01T00:00:00.000Z","d":[2,1]}}', '{"values":{"b.c":["Date"]},"v":1}'))
    expect(await answer(peer, 3)).toMatchObject({ type: 'error', code: 'CONFLICT' })
    expect(probe.runs.x).toBe(1)
  })

  it('keeps keys of different paths apart: the same key on another path runs that mutation', async () => {
    const { url, probe } = await serve()
    const peer = await readyPeer(url)
    await call(peer, 1, 'x', 1, 'k')

    expect(await call(peer, 2, 'y', 1, 'k')).toEqual({ type: 'result', id: 2, data: { run: 1 } })
    expect(probe.runs).toMatchObject({ x: 1, y: 1 })
  })

  it('ignores a key on a query: queries run every time', async () => {
    const { url, probe } = await serve()
    const peer = await readyPeer(url)

    expect(await call(peer, 1, 'read', 1, 'k', 'query')).toEqual({ type: 'result', id: 1, data: { run: 1 } })
    expect(await call(peer, 2, 'read', 1, 'k', 'query')).toEqual({ type: 'result', id: 2, data: { run: 2 } })
    expect(probe.runs.read).toBe(2)
  })

  it('accepts a key of 128 characters', async () => {
    const { url } = await serve()
    const peer = await readyPeer(url)

    expect(await call(peer, 1, 'x', 1, 'k'.repeat(128))).toMatchObject({ type: 'result', id: 1 })
  })

  it.each([
    ['longer than 128 characters', 'k'.repeat(129)],
    ['empty', ''],
  ])('closes the connection with 4400 when a key is %s (an envelope error)', async (_name, key) => {
    const { url, probe } = await serve()
    const peer = await readyPeer(url)
    send(peer, 1, 'x', 1, key)

    const { code } = await within(peer.closed, 'the close')
    expect(code).toBe(4400)
    expect(probe.runs.x).toBe(0)
  })
})

describe('idempotency cache bounds', () => {
  it('runs a key again once its outcome is older than ttlMs', async () => {
    const ttlMs = 200
    const { url, probe } = await serve({ idempotency: { ttlMs } })
    const peer = await readyPeer(url)
    await call(peer, 1, 'x', 1, 'k')
    // Within the ttl (a loopback round trip is far shorter): replayed.
    expect(await call(peer, 2, 'x', 1, 'k')).toEqual({ type: 'result', id: 2, data: { run: 1, input: 1 } })

    await sleep(ttlMs + 100)
    expect(await call(peer, 3, 'x', 1, 'k')).toEqual({ type: 'result', id: 3, data: { run: 2, input: 1 } })
    expect(probe.runs.x).toBe(2)
  })

  it('evicts the oldest finished key to make room past maxEntries, and keeps the newer ones', async () => {
    const { url, probe } = await serve({ idempotency: { maxEntries: 2 } })
    const peer = await readyPeer(url)
    await call(peer, 1, 'x', 1, 'k1')
    await call(peer, 2, 'x', 1, 'k2')
    await call(peer, 3, 'x', 1, 'k3')
    expect(probe.runs.x).toBe(3)

    // k3 is still kept...
    expect(await call(peer, 4, 'x', 1, 'k3')).toEqual({ type: 'result', id: 4, data: { run: 3, input: 1 } })
    // ...but k1 made room for it, so k1 runs again.
    expect(await call(peer, 5, 'x', 1, 'k1')).toEqual({ type: 'result', id: 5, data: { run: 4, input: 1 } })
    expect(probe.runs.x).toBe(4)
  })

  it('refuses a new key with OVERLOADED when maxEntries keys are all still running', async () => {
    const release = gate()
    const { url, probe } = await serve({ idempotency: { maxEntries: 2 }, release: release.opened })
    const peer = await readyPeer(url)
    send(peer, 1, 'held', 1, 'a')
    send(peer, 2, 'held', 2, 'b')
    await waitUntil(() => probe.runs.held === 2, 'both mutations to run')

    expect(await call(peer, 3, 'held', 3, 'c')).toMatchObject({ type: 'error', id: 3, code: 'OVERLOADED' })
    expect(probe.runs.held).toBe(2)
    release.open()
    await answer(peer, 1)
    await answer(peer, 2)
  })

  it('does not keep an outcome larger than maxBytes: a repeat gets PAYLOAD_TOO_LARGE and the mutation does not run again', async () => {
    const { url, probe } = await serve({ idempotency: { maxBytes: 200 } })
    const peer = await readyPeer(url)
    // The first caller still gets its whole answer.
    expect(await call(peer, 1, 'big', undefined, 'k')).toEqual({ type: 'result', id: 1, data: 'b'.repeat(1_000) })

    expect(await call(peer, 2, 'big', undefined, 'k')).toMatchObject({ type: 'error', id: 2, code: 'PAYLOAD_TOO_LARGE' })
    expect(probe.runs.big).toBe(1)
  })
})

describe('idempotent executions and cancellation', () => {
  it('aborts an execution only when every caller waiting for it has cancelled', async () => {
    const { url, probe } = await serve()
    const a = await readyPeer(url)
    const b = await readyPeer(url)
    send(a, 1, 'held', 1, 'k')
    await waitUntil(() => probe.heldSignal !== undefined, 'the mutation to run')
    send(b, 1, 'held', 1, 'k')
    // B's call has joined once a round trip on B's connection is answered (frames are handled in order).
    await call(b, 2, 'x', 1, undefined)

    a.send({ type: 'cancel', id: 1 })
    await call(a, 2, 'x', 1, undefined)
    await sleep(50)
    expect(probe.heldSignal!.aborted, 'after one of two callers cancelled').toBe(false)

    b.send({ type: 'cancel', id: 1 })
    await waitUntil(() => probe.heldSignal!.aborted, 'the execution to be aborted')
    expect(probe.runs.held).toBe(1)
  })

  it('does not abort an execution when its connection drops: a retry on a new connection joins it', async () => {
    const release = gate()
    const { url, probe, server } = await serve({ release: release.opened })
    const first = await readyPeer(url)
    send(first, 1, 'held', 1, 'k')
    await waitUntil(() => probe.heldSignal !== undefined, 'the mutation to run')

    first.ws.terminate()
    await waitUntil(() => server.connectionCount === 0, 'the server to see the drop')
    await sleep(50)
    expect(probe.heldSignal!.aborted).toBe(false)

    const second = await readyPeer(url)
    const retried = call(second, 4, 'held', 1, 'k')
    await call(second, 5, 'x', 1, undefined)
    release.open()
    expect(await retried).toEqual({ type: 'result', id: 4, data: { run: 1, aborted: false } })
    expect(probe.runs.held).toBe(1)
  })

  it('forgets a run that every caller cancelled and that stopped with an error, so the key can be used again', async () => {
    const { url, probe } = await serve()
    const peer = await readyPeer(url)
    send(peer, 1, 'strict', 1, 'k')
    await waitUntil(() => probe.runs.strict === 1, 'the mutation to run')
    peer.send({ type: 'cancel', id: 1 })
    await call(peer, 2, 'x', 1, undefined) // the cancel has been handled

    send(peer, 3, 'strict', 1, 'k')
    await waitUntil(() => probe.runs.strict === 2, 'the same key to run again')
    peer.send({ type: 'cancel', id: 3 })
  })

  it('aborts running executions on server.close(), and close() resolves', async () => {
    const { url, probe, server } = await serve()
    const peer = await readyPeer(url)
    send(peer, 1, 'held', 1, 'k')
    await waitUntil(() => probe.heldSignal !== undefined, 'the mutation to run')

    await within(server.close(), 'server.close()')
    expect(probe.heldSignal!.aborted).toBe(true)
  })
})

describe('idempotency keys on the client', () => {
  it('rejects only the call whose idempotencyKey the server would refuse (empty, or over 128 characters), and the connection lives', async () => {
    const { url, probe } = await serve()
    const api = connectClient<ReturnType<typeof makeRouter>>(url)
    for (const idempotencyKey of ['', 'k'.repeat(129)]) {
      const error = await rpcErrorOf(api.x.mutate(1, { idempotencyKey }))
      expect(error.code).toBe('BAD_REQUEST')
    }
    expect(probe.runs.x).toBe(0)
    expect(await api.x.mutate(1, { idempotencyKey: 'k'.repeat(128) })).toEqual({ run: 1, input: 1 })
    expect(api.$connection.state).toBe('open')
  })
})
