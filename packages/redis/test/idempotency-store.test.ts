import { initRpc, RpcError } from '@wirecall/core'
import { redisIdempotencyStore, type RedisIdempotencyStoreOptions } from '@wirecall/redis'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { gate, readyPeer, sleep, startServer, untilAborted, waitUntil, within, type Gate, type RawPeer } from '../../../tests/helpers/harness'
import { connect, startRedis, type RedisServer, type RedisServerOptions, type TestClient } from './fixture'

/**
 * Idempotent mutations across two server processes sharing one Redis
 * through `redisIdempotencyStore`: two `createRpcServer`s on 127.0.0.1,
 * each with its own node-redis client (so one "process" can die by
 * losing its client), driven by raw peers sending calls with an
 * `idempotencyKey`, as a client retrying on another node does.
 */

const rpc = initRpc.context<{ node: string }>().create()

/** What ran, on which node; `release` lets held runs finish. */
interface Probe {
  runs: number
  nodes: string[]
  release: Gate
}

function makeRouter(probe: Probe) {
  return rpc.router({
    /** Counts its run, then holds until released (or aborted): a mutation in flight the test controls. */
    held: rpc.procedure.input(z.unknown()).mutation(async ({ input, ctx, signal }) => {
      const run = ++probe.runs
      probe.nodes.push(ctx.node)
      await Promise.race([probe.release.opened, untilAborted(signal), sleep(10_000)])
      return { run, node: ctx.node, input }
    }),
    /** Counts its run and fails with an error of its own. */
    refuses: rpc.procedure.input(z.unknown()).mutation(({ ctx }) => {
      probe.runs++
      probe.nodes.push(ctx.node)
      throw new RpcError('FORBIDDEN', `not on ${ctx.node}`)
    }),
    /** Like `held`, but fails when aborted, as a resolver that honours its signal does. */
    strict: rpc.procedure.input(z.unknown()).mutation(async ({ ctx, signal }) => {
      const run = ++probe.runs
      probe.nodes.push(ctx.node)
      await Promise.race([probe.release.opened, untilAborted(signal), sleep(10_000)])
      signal.throwIfAborted()
      return { run, node: ctx.node }
    }),
  })
}

/** A wirecall server named `node` whose idempotency store is Redis, through its own client. */
async function node(redis: RedisServer, name: string, probe: Probe, options: Omit<RedisIdempotencyStoreOptions, 'client'>): Promise<{ url: string; client: TestClient }> {
  const client = await connect(redis, name)
  const { url } = await startServer({
    router: makeRouter(probe),
    keepAlive: false,
    createContext: () => ({ node: name }),
    idempotency: { ttlMs: 60_000, store: redisIdempotencyStore({ client, ...options }) },
  })
  return { url, client }
}

/** Two nodes on one Redis, and a raw peer on each. */
async function cluster(options: Omit<RedisIdempotencyStoreOptions, 'client'> = {}, server: RedisServerOptions = {}) {
  const redis = await startRedis(server)
  const probe: Probe = { runs: 0, nodes: [], release: gate() }
  const a = await node(redis, 'A', probe, options)
  const b = await node(redis, 'B', probe, options)
  return { redis, probe, a: { ...a, peer: await readyPeer(a.url) }, b: { ...b, peer: await readyPeer(b.url) } }
}

function send(peer: RawPeer, id: number, path: string, input: unknown, key: string): void {
  peer.send({ type: 'call', id, method: 'mutation', path, input, idempotencyKey: key })
}

function answer(peer: RawPeer, id: number, timeoutMs = 5_000): Promise<Record<string, unknown>> {
  return peer.next((m) => (m.type === 'result' || m.type === 'error') && m.id === id, timeoutMs)
}

const answered = (peer: RawPeer, id: number) => peer.messages.some((m) => (m.type === 'result' || m.type === 'error') && m.id === id)

/** The Redis record of `path` + `key` (its key as the store names it). */
const recordKey = (path: string, key: string) => `wirecall:{idem:${path}\n${key}}`

describe('redisIdempotencyStore across two servers', () => {
  it('a retry on B while A still runs (longer than the lease, renewed) waits and gets A’s result; the mutation ran once', async () => {
    const { redis, probe, a, b } = await cluster({ leaseMs: 300, pollMs: 20 })
    send(a.peer, 1, 'held', { amount: 5 }, 'k')
    await waitUntil(() => probe.runs === 1, 'the mutation to run on A')
    send(b.peer, 9, 'held', { amount: 5 }, 'k')
    // Three leases long: B keeps waiting, since A renews its lease.
    await sleep(900)
    expect(answered(b.peer, 9)).toBe(false)
    expect(await redis.command('HGET', recordKey('held', 'k'), 's')).toBe('running')

    probe.release.open()
    const data = { run: 1, node: 'A', input: { amount: 5 } }
    expect(await answer(a.peer, 1)).toEqual({ type: 'result', id: 1, data })
    expect(await answer(b.peer, 9)).toEqual({ type: 'result', id: 9, data })
    expect(probe.runs).toBe(1)
  })

  it('after A finished, a retry on B replays A’s outcome; the record is done and expires with the server’s ttlMs', async () => {
    const { redis, probe, a, b } = await cluster()
    probe.release.open()
    send(a.peer, 1, 'held', 'x', 'k')
    const first = await answer(a.peer, 1)
    expect(first).toEqual({ type: 'result', id: 1, data: { run: 1, node: 'A', input: 'x' } })

    send(b.peer, 2, 'held', 'x', 'k')
    expect(await answer(b.peer, 2)).toEqual({ ...first, id: 2 })
    // And again on A's other connection: its local cache or the store, the same outcome.
    send(b.peer, 3, 'held', 'x', 'k')
    expect(await answer(b.peer, 3)).toEqual({ ...first, id: 3 })
    expect(probe.runs).toBe(1)

    expect(await redis.command('HGET', recordKey('held', 'k'), 's')).toBe('done')
    const ttl = (await redis.command('PTTL', recordKey('held', 'k'))) as number
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('replays an error outcome too: a mutation that failed on A is not run again on B', async () => {
    const { probe, a, b } = await cluster()
    send(a.peer, 1, 'refuses', 1, 'k')
    const first = await answer(a.peer, 1)
    expect(first).toMatchObject({ type: 'error', id: 1, code: 'FORBIDDEN', message: 'not on A' })
    send(b.peer, 2, 'refuses', 1, 'k')
    expect(await answer(b.peer, 2)).toEqual({ ...first, id: 2 })
    expect(probe.runs).toBe(1)
  })

  it('the same key with another input on B: CONFLICT, whether A still runs or has finished, and the mutation does not run', async () => {
    const { probe, a, b } = await cluster()
    send(a.peer, 1, 'held', { amount: 5 }, 'k')
    await waitUntil(() => probe.runs === 1, 'the mutation to run on A')
    send(b.peer, 2, 'held', { amount: 6 }, 'k')
    expect(await answer(b.peer, 2)).toMatchObject({ type: 'error', id: 2, code: 'CONFLICT' })

    probe.release.open()
    await answer(a.peer, 1)
    send(b.peer, 3, 'held', { amount: 7 }, 'k')
    expect(await answer(b.peer, 3)).toMatchObject({ type: 'error', id: 3, code: 'CONFLICT' })
    expect(probe.runs).toBe(1)
  })

  it('A dies mid-run (its Redis client destroyed, the lease no longer renewed): the retry on B gets CONFLICT, outcome unknown, and never runs the mutation', async () => {
    const { redis, probe, a, b } = await cluster({ leaseMs: 300, pollMs: 20 })
    send(a.peer, 1, 'held', 1, 'k')
    await waitUntil(() => probe.runs === 1, 'the mutation to run on A')
    a.client.destroy()

    const asked = performance.now()
    send(b.peer, 2, 'held', 1, 'k')
    const refused = await answer(b.peer, 2)
    expect(refused).toMatchObject({ type: 'error', id: 2, code: 'CONFLICT' })
    expect(String(refused.message)).toMatch(/unknown/)
    // Within the lease (plus a poll and a renewal period of slack), not after the record's ttl.
    expect(performance.now() - asked).toBeLessThan(2_000)
    expect(probe.runs).toBe(1)
    expect(probe.nodes).toEqual(['A'])
    // Asked again, still refused: the record stays until its ttl, so the outcome stays unknown rather than run twice.
    send(b.peer, 3, 'held', 1, 'k')
    expect(await answer(b.peer, 3)).toMatchObject({ type: 'error', id: 3, code: 'CONFLICT' })
    expect(probe.runs).toBe(1)
    expect(await redis.command('HGET', recordKey('held', 'k'), 's')).toBe('running')
  })

  it('every caller cancelling a run that then fails abandons the key: the record is deleted, and a later call on B runs again', async () => {
    const { redis, probe, a, b } = await cluster()
    send(a.peer, 1, 'strict', 1, 'k')
    await waitUntil(() => probe.runs === 1, 'the mutation to run on A')
    expect(await redis.command('EXISTS', recordKey('strict', 'k'))).toBe(1)
    a.peer.send({ type: 'cancel', id: 1 })
    const deadline = Date.now() + 3_000
    while ((await redis.command('EXISTS', recordKey('strict', 'k'))) !== 0) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the abandoned record to be deleted')
      await sleep(10)
    }

    probe.release.open()
    send(b.peer, 2, 'strict', 1, 'k')
    expect(await answer(b.peer, 2)).toEqual({ type: 'result', id: 2, data: { run: 2, node: 'B' } })
    expect(probe.nodes).toEqual(['A', 'B'])
  })

  it('a cancelled caller on B stops waiting for A’s run; the run goes on and its outcome is kept', async () => {
    const { probe, a, b } = await cluster({ pollMs: 20 })
    send(a.peer, 1, 'held', 1, 'k')
    await waitUntil(() => probe.runs === 1, 'the mutation to run on A')
    send(b.peer, 2, 'held', 1, 'k')
    await sleep(100)
    b.peer.send({ type: 'cancel', id: 2 })
    await sleep(100)
    probe.release.open()
    expect(await answer(a.peer, 1)).toMatchObject({ type: 'result', data: { run: 1, node: 'A' } })
    send(b.peer, 3, 'held', 1, 'k')
    expect(await answer(b.peer, 3)).toMatchObject({ type: 'result', id: 3, data: { run: 1, node: 'A' } })
    expect(probe.runs).toBe(1)
  })

  it('Redis down: the call fails with OVERLOADED and the mutation does not run', async () => {
    const { redis, probe, a } = await cluster()
    await redis.kill()
    send(a.peer, 1, 'held', 1, 'k')
    expect(await within(answer(a.peer, 1), 'the answer while Redis is down', 6_000)).toMatchObject({ type: 'error', id: 1, code: 'OVERLOADED' })
    expect(probe.runs).toBe(0)
  })

  it('Redis gone while A runs: A’s caller still gets its result, without waiting for Redis to come back', async () => {
    const { redis, probe, a } = await cluster()
    send(a.peer, 1, 'held', 1, 'k')
    await waitUntil(() => probe.runs === 1, 'the mutation to run on A')
    await redis.kill()
    await waitUntil(() => !a.client.isReady, 'A’s client to see Redis gone')
    probe.release.open()
    expect(await within(answer(a.peer, 1), 'A’s answer while Redis is down', 6_000)).toEqual({ type: 'result', id: 1, data: { run: 1, node: 'A', input: 1 } })
  })

  it('A finishing while Redis restarts (AOF on): A’s caller gets its result; the outcome is written once Redis is back, and a retry on B replays it (or, if the write was refused meanwhile, gets CONFLICT), never a second run', async () => {
    const { redis, probe, a, b } = await cluster({ leaseMs: 300, pollMs: 20 }, { appendonly: true })
    send(a.peer, 1, 'held', 1, 'k')
    await waitUntil(() => probe.runs === 1, 'the mutation to run on A')
    await redis.stop()
    await waitUntil(() => !a.client.isReady, 'A’s client to see Redis gone')
    probe.release.open()
    const first = await within(answer(a.peer, 1), 'A’s answer while Redis is down', 6_000)
    expect(first).toEqual({ type: 'result', id: 1, data: { run: 1, node: 'A', input: 1 } })

    const back = await redis.restart()
    await waitUntil(() => a.client.isReady && b.client.isReady, 'both clients to reconnect', 5_000)
    // The write queued in A's client lands once it reconnects, unless Redis refused it while still loading its AOF (-LOADING): then the lease runs out.
    const deadline = Date.now() + 3_000
    let state: unknown
    while ((state = await back.command('HGET', recordKey('held', 'k'), 's')) !== 'done' && Date.now() < deadline) await sleep(10)
    send(b.peer, 2, 'held', 1, 'k')
    const retried = await answer(b.peer, 2)
    if (state === 'done') expect(retried).toEqual({ ...first, id: 2 })
    else expect(retried).toMatchObject({ type: 'error', id: 2, code: 'CONFLICT' })
    expect(probe.runs).toBe(1)
  })
})
