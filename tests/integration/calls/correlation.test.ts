import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { initRpc, MAX_ID, type AnyRouter } from '@wirecall/core'
import { connectClient, readyPeer, rpcErrorOf, startServer } from '../../helpers/harness'

/**
 * Correlation: many calls share one socket, the server answers each by id in
 * whatever order they finish, and every caller gets exactly its own answer.
 * The out-of-order completion is made deterministic (held promises released
 * in a seeded shuffle), never left to timer luck.
 */

const rpc = initRpc.create()

/** Small seeded PRNG (mulberry32), so a failing order can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = out[i]!
    out[i] = out[j]!
    out[j] = tmp
  }
  return out
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** How many positions of `order` differ from ascending `0..n-1`. */
const displaced = (order: readonly number[]) => order.filter((n, i) => n !== i).length

/** A promise with its resolver outside, for holding resolvers until the test says so. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Serves `router` with a createContext that counts its runs; one typed client on it. */
async function serveCounting<TRouter extends AnyRouter>(router: TRouter) {
  let contexts = 0
  const { server, url } = await startServer<AnyRouter>({
    router,
    // These tests put thousands of calls in flight on one socket on purpose: lift the per-connection limits.
    maxInFlightCalls: 10_000,
    rateLimit: false,
    createContext: () => {
      contexts++
      return {}
    },
  })
  return { server, api: connectClient<TRouter>(url), contexts: () => contexts }
}

describe('correlation', () => {
  it('5,000 concurrent calls on one socket answered in a shuffled order each get exactly their own answer', async () => {
    const N = 5_000
    const random = prng(0xc0ffee)
    /** Release functions, by arrival; each resolves one held resolver. */
    const held: (() => void)[] = []
    /** Order in which the server finished the calls. */
    const serverOrder: number[] = []
    let released = false
    const releaseAll = () => {
      if (released) return
      released = true
      for (const i of shuffled(range(held.length), random)) held[i]!()
    }
    const router = rpc.router({
      echo: rpc.procedure.input(z.object({ n: z.number().int(), tag: z.string() })).query(async ({ input }) => {
        await new Promise<void>((resolve) => {
          held.push(() => {
            serverOrder.push(input.n)
            resolve()
          })
          // Released from a later task, so every resolver is parked on its own promise by then.
          if (held.length === N) setImmediate(releaseAll)
        })
        return { n: input.n, tag: input.tag, marker: 'echoed' as const }
      }),
    })
    const { server, api, contexts } = await serveCounting(router)

    /** Order in which the callers' promises settled. */
    const clientOrder: number[] = []
    const calls = range(N).map((n) =>
      api.echo.query({ n, tag: `tag-${n}-${(n * 7919) % 10_007}` }).then(
        (value) => {
          clientOrder.push(n)
          return value
        },
        (error: unknown) => {
          // Should never happen; if a call fails (a limit, say), let the held
          // ones go so the test fails fast instead of waiting for timeouts.
          releaseAll()
          throw error
        },
      ),
    )
    const outcomes = await Promise.allSettled(calls)
    const failures = outcomes.flatMap((o, n) => (o.status === 'rejected' ? [{ n, error: String(o.reason) }] : []))
    expect(failures.slice(0, 5)).toEqual([])

    for (const [n, outcome] of outcomes.entries()) {
      expect(outcome).toEqual({ status: 'fulfilled', value: { n, tag: `tag-${n}-${(n * 7919) % 10_007}`, marker: 'echoed' } })
    }
    // Every call ran on the server exactly once, and it finished them out of order.
    expect([...serverOrder].sort((a, b) => a - b)).toEqual(range(N))
    expect(displaced(serverOrder)).toBeGreaterThan(N * 0.9)
    // Answers went out in completion order and each reached its own caller.
    expect(clientOrder).toEqual(serverOrder)
    expect(server.connectionCount).toBe(1)
    expect(contexts()).toBe(1)
  })

  it('mixed queries and mutations with staggered delays are answered by id', async () => {
    const N = 1_000
    const random = prng(42)
    const delays = range(N).map(() => Math.floor(random() * 8))
    const finished: string[] = []
    const work = async (kind: 'query' | 'mutation', n: number) => {
      const delay = delays[n]!
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      finished.push(`${kind}:${n}`)
      return { kind, n, doubled: n * 2 }
    }
    const Input = z.object({ n: z.number().int() })
    const router = rpc.router({
      read: rpc.procedure.input(Input).query(({ input }) => work('query', input.n)),
      write: rpc.procedure.input(Input).mutation(({ input }) => work('mutation', input.n)),
    })
    const { server, url } = await startServer({ router })
    const api = connectClient<typeof router>(url)

    const results = await Promise.all(range(N).map((n) => (n % 2 === 0 ? api.read.query({ n }) : api.write.mutate({ n }))))
    for (const [n, result] of results.entries()) {
      expect(result).toEqual({ kind: n % 2 === 0 ? 'query' : 'mutation', n, doubled: n * 2 })
    }
    expect(finished).toHaveLength(N)
    expect(server.connectionCount).toBe(1)
  })

  it('a query and a mutation with the same input in flight at once share one socket and get their own answers', async () => {
    const arrived: string[] = []
    const bothArrived = deferred()
    const gates = { query: deferred(), mutation: deferred() }
    const arrive = (kind: 'query' | 'mutation') => {
      arrived.push(kind)
      if (arrived.length === 2) bothArrived.resolve()
      return gates[kind].promise
    }
    const Input = z.object({ id: z.string(), at: z.date() })
    const router = rpc.router({
      item: {
        get: rpc.procedure.input(Input).query(async ({ input }) => {
          await arrive('query')
          return { via: 'query' as const, ...input }
        }),
        touch: rpc.procedure.input(Input).mutation(async ({ input }) => {
          await arrive('mutation')
          return { via: 'mutation' as const, ...input }
        }),
      },
    })
    const { server, api, contexts } = await serveCounting(router)
    const input = { id: 'same', at: new Date(86_400_000) }

    const query = api.item.get.query(input)
    const mutation = api.item.touch.mutate(input)
    await bothArrived.promise
    expect([...arrived].sort()).toEqual(['mutation', 'query'])
    expect(server.connectionCount).toBe(1)

    // Finish the later-sent call first.
    gates.mutation.resolve()
    const m = await mutation
    gates.query.resolve()
    const q = await query
    expect(m).toEqual({ via: 'mutation', id: 'same', at: new Date(86_400_000) })
    expect(q).toEqual({ via: 'query', id: 'same', at: new Date(86_400_000) })
    expect(q.at).toBeInstanceOf(Date)
    expect(server.connectionCount).toBe(1)
    expect(contexts()).toBe(1)
  })

  it('one failing call among many in flight fails alone', async () => {
    const N = 200
    const router = rpc.router({
      maybe: rpc.procedure.input(z.object({ n: z.number().int() })).mutation(async ({ input }) => {
        await Promise.resolve()
        if (input.n % 3 === 0) throw new Error(`no ${input.n}`)
        return input.n
      }),
    })
    const { server, url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    const outcomes = await Promise.allSettled(range(N).map((n) => api.maybe.mutate({ n })))
    for (const [n, outcome] of outcomes.entries()) {
      if (n % 3 === 0) {
        expect(outcome.status).toBe('rejected')
        const error = await rpcErrorOf(Promise.reject((outcome as PromiseRejectedResult).reason))
        expect(error.code).toBe('INTERNAL')
      } else {
        expect(outcome).toEqual({ status: 'fulfilled', value: n })
      }
    }
    expect(server.connectionCount).toBe(1)
  })

  describe('raw frames', () => {
    function gatedRouter() {
      const gates = new Map<string, ReturnType<typeof deferred<void>>>()
      const started = new Set<string>()
      let onStart: () => void = () => {}
      const router = rpc.router({
        wait: rpc.procedure.input(z.object({ key: z.string() })).query(async ({ input }) => {
          const gate = deferred()
          gates.set(input.key, gate)
          started.add(input.key)
          onStart()
          await gate.promise
          return `done ${input.key}`
        }),
      })
      /** Resolves once calls for all of `keys` are running on the server. */
      const running = (keys: string[]) =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (keys.every((k) => started.has(k))) resolve()
          }
          onStart = check
          check()
        })
      const release = (key: string) => gates.get(key)!.resolve()
      return { router, running, release }
    }

    it('answers the calls of one batch frame by id, in completion order, echoing ids exactly', async () => {
      const { router, running, release } = gatedRouter()
      const { url } = await startServer({ router })
      const peer = await readyPeer(url)
      peer.send([
        { type: 'call', id: MAX_ID, method: 'query', path: 'wait', input: { key: 'max' } },
        { type: 'call', id: 0, method: 'query', path: 'wait', input: { key: 'zero' } },
        { type: 'call', id: 4242, method: 'query', path: 'wait', input: { key: 'mid' } },
      ])
      await running(['max', 'zero', 'mid'])
      release('mid')
      await peer.next((m) => m.id === 4242)
      release('zero')
      await peer.next((m) => m.id === 0)
      release('max')
      await peer.next((m) => m.id === MAX_ID)
      expect(peer.messages.filter((m) => m.type !== 'ack')).toEqual([
        { type: 'result', id: 4242, data: 'done mid' },
        { type: 'result', id: 0, data: 'done zero' },
        { type: 'result', id: MAX_ID, data: 'done max' },
      ])
    })

    it('a reused id while the first call is in flight gets BAD_REQUEST; the first call is still answered', async () => {
      const { router, running, release } = gatedRouter()
      let runs = 0
      const counted = rpc.router({
        inner: router,
        count: rpc.procedure.query(() => ++runs),
      })
      const { server, url } = await startServer({ router: counted })
      const peer = await readyPeer(url)
      peer.send({ type: 'call', id: 7, method: 'query', path: 'inner.wait', input: { key: 'first' } })
      await running(['first'])
      peer.send({ type: 'call', id: 7, method: 'query', path: 'count' })
      const duplicate = await peer.next((m) => m.id === 7)
      expect(duplicate).toMatchObject({ type: 'error', id: 7, code: 'BAD_REQUEST' })
      expect(runs).toBe(0)

      release('first')
      const first = await peer.next((m) => m.id === 7 && m.type === 'result')
      expect(first).toEqual({ type: 'result', id: 7, data: 'done first' })

      // Once answered, the id is free again.
      const before = peer.messages.length
      peer.send({ type: 'call', id: 7, method: 'query', path: 'count' })
      const reused = await peer.next((m) => m.id === 7 && peer.messages.indexOf(m) >= before)
      expect(reused).toEqual({ type: 'result', id: 7, data: 1 })
      expect(server.connectionCount).toBe(1)
    })
  })
})
