import { afterEach, describe, expect, it } from 'vitest'
import SuperJSON from 'superjson'
import { initRpc, jsonSerializer, RpcError, superjsonSerializer, type PayloadLimits, type StandardSchemaV1 } from '@wirecall/core'
import type { RpcServerOptions } from '@wirecall/server'
import { connectClient, rawPeer, readyPeer, rpcErrorOf, startServer, type RawPeer } from '../../helpers/harness'

/**
 * Hostile superjson payloads from raw peers, through a real server: every
 * payload a client sends (call and subscribe input, init and reinit params)
 * is checked against `payloadLimits` before the serializer walks it. A
 * refused input is a per-call BAD_REQUEST and the connection lives; refused
 * init params close it with 4401 before `createContext` runs. A frame nested
 * past the frame bound (`payloadLimits.maxDepth` + 64, so 128 by default) is
 * not parsed at all: it closes with 1009. Nothing may pollute
 * Object.prototype or hold the event loop.
 *
 * Frames are written as JSON text, as a hostile peer would write them:
 * `JSON.stringify` could not even produce some of them (100,000 levels),
 * and text keeps own `__proto__` keys.
 */

function anything<T>(): StandardSchemaV1<T, T> {
  return { '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as T }) } }
}

const rpc = initRpc.context<{ user: string }>().create()

/** What resolvers and createContext did; reset by `setup()`. */
const lab = { runs: 0, seen: [] as unknown[], contexts: [] as unknown[] }

const router = rpc.router({
  echo: rpc.procedure.input(anything<unknown>()).mutation(({ input }) => {
    lab.runs++
    lab.seen.push(input)
    return input
  }),
  whoami: rpc.procedure.query(({ ctx }) => ctx.user),
  watch: rpc.procedure.input(anything<unknown>()).subscription(async function* ({ input }) {
    lab.runs++
    lab.seen.push(input)
    yield 'started'
  }),
  constructorKey: rpc.procedure.query(() => ({ constructor: 'x' })),
  constructorAndDate: rpc.procedure.query(() => ({ constructor: 'x', at: new Date(0) })),
  circular: rpc.procedure.query(() => {
    const loop: Record<string, unknown> = { name: 'loop' }
    loop.self = loop
    return loop
  }),
})

async function setup(options: Partial<RpcServerOptions<typeof router>> = {}) {
  lab.runs = 0
  lab.seen = []
  lab.contexts = []
  return startServer({
    router,
    createContext: ({ connectionParams }) => {
      lab.contexts.push(connectionParams)
      const user = (connectionParams as { user?: unknown } | undefined)?.user
      return { user: typeof user === 'string' ? user : 'anonymous' }
    },
    ...options,
  })
}

afterEach(() => {
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false)
})

/** `"…"` — a JSON string literal of n nines. */
const nines = (n: number) => `"${'9'.repeat(n)}"`
const list = (n: number, item: (i: number) => string) => `[${Array.from({ length: n }, (_, i) => item(i)).join(',')}]`
const SET_SIZE = 120_000

/** [name, input json text, meta json text or undefined]: each must be refused as BAD_REQUEST. */
const hostileInputs: [string, string, string | undefined][] = [
  ['json nested 100 levels', '['.repeat(100) + ']'.repeat(100), undefined],
  ['a bigint of a million digits', nines(1_000_000), '{"values":["bigint"],"v":1}'],
  ['a table of 100,000 reference paths', '{"a":{},"b":{}}', `{"referentialEqualities":{"a":${list(100_000, () => '"b"')}},"v":1}`],
  [
    `999 reference paths to the far end of a ${SET_SIZE.toLocaleString('en')}-entry Set`,
    `{"s":${list(SET_SIZE, String)},"b":{}}`,
    `{"values":{"s":["set"]},"referentialEqualities":{"b":${list(999, (i) => `"s.${SET_SIZE - 1 - i}"`)}},"v":1}`,
  ],
  ['meta.values nested 100 levels', '{"a":"x"}', `{"values":${'{"a":'.repeat(100)}["Date"]${'}'.repeat(100)},"v":1}`],
  ['a RegExp', '"/(a+)+$/"', '{"values":["regexp"],"v":1}'],
  ['an Error', '{"name":"Error","message":"x","stack":"forged"}', '{"values":["Error"],"v":1}'],
  ['a class instance', '{"x":1}', '{"values":[["class","Point"]],"v":1}'],
  ['a symbol', '"s"', '{"values":[["symbol","s"]],"v":1}'],
  ['a custom value', '"1"', '{"values":[["custom","money"]],"v":1}'],
  ['__proto__ in an annotation path', '{"__proto__":{"polluted":"2020-01-01T00:00:00.000Z"}}', '{"values":{"__proto__.polluted":["Date"]},"v":1}'],
  ['prototype in an annotation path', '{"prototype":{"a":"1"}}', '{"values":{"prototype.a":["bigint"]},"v":1}'],
  ['constructor in a reference path', '{"a":{},"b":{}}', '{"referentialEqualities":{"a":["b.constructor"]},"v":1}'],
  ['__proto__ as a reference key', '{"a":{},"b":{}}', '{"referentialEqualities":{"__proto__":["a"]},"v":1}'],
  ['an unknown annotation named constructor', '{"a":1}', '{"values":{"a":["constructor"]},"v":1}'],
  ['a tree that is a string (superjson recurses forever)', '1', '{"values":"x","v":1}'],
  ['a typed array from a number (4 GB)', '4294967296', '{"values":[["typed-array","Uint8Array"]],"v":1}'],
  ['an annotation through a Set revived first', `{"a":["1","1",${nines(50_000)}]}`, '{"values":{"a":["set"],"a.1":["bigint"]},"v":1}'],
  ['a reference path to an inherited property', '{"a":{}}', '{"referentialEqualities":{"toString":["a"]},"v":1}'],
  ['meta that is not an object', '1', '"x"'],
]

function callFrame(id: number, json: string, meta: string | undefined, path = 'echo'): string {
  return `{"type":"call","id":${id},"method":"mutation","path":"${path}","input":${json}${meta === undefined ? '' : `,"meta":${meta}`}}`
}

/** A plain call on `peer` that must still be answered: the connection lives. */
async function stillServes(peer: RawPeer, id: number): Promise<void> {
  peer.send({ type: 'call', id, method: 'mutation', path: 'echo', input: { ok: id } })
  const answer = await peer.next((m) => m.id === id)
  expect(answer).toEqual({ type: 'result', id, data: { ok: id } })
}

/**
 * Calls `path` (as id 1), whose result cannot be serialized: the peer must get
 * a per-call INTERNAL, and the connection must still serve (id 2).
 */
async function expectUnserializable(peer: RawPeer, path: string): Promise<void> {
  peer.send({ type: 'call', id: 1, method: 'query', path })
  expect(await peer.next((m) => m.id === 1)).toMatchObject({
    type: 'error',
    id: 1,
    code: 'INTERNAL',
    message: 'The result could not be serialized',
  })
  await stillServes(peer, 2)
}

/** Measures the longest gap between 1 ms timer ticks while `run` is under way: how long the loop was held. */
async function longestStall<T>(run: () => Promise<T>): Promise<{ result: T; stallMs: number; ms: number }> {
  let last = performance.now()
  let stallMs = 0
  const timer = setInterval(() => {
    const now = performance.now()
    stallMs = Math.max(stallMs, now - last)
    last = now
  }, 1)
  const start = performance.now()
  try {
    const result = await run()
    stallMs = Math.max(stallMs, performance.now() - last)
    return { result, stallMs, ms: performance.now() - start }
  } finally {
    clearInterval(timer)
  }
}

describe('hostile call input', () => {
  it.each(hostileInputs)('%s: a per-call BAD_REQUEST, the resolver never runs, the connection lives', async (_name, json, meta) => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send(callFrame(1, json, meta))
    const answer = await peer.next((m) => m.id === 1)
    expect(answer).toMatchObject({ type: 'error', id: 1, code: 'BAD_REQUEST' })
    // Refused by the payload bounds, not by superjson failing half-way.
    expect(answer.message).toMatch(/^Payload refused: /)
    expect(lab.runs).toBe(0)
    await stillServes(peer, 2)
    expect(lab.runs).toBe(1)
  })

  it('the costly ones are answered without holding the event loop (under 100 ms each)', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    const costly = hostileInputs.filter(([name]) => /million digits|100,000 reference paths|Set$/.test(name))
    expect(costly).toHaveLength(3)
    let id = 0
    for (const [name, json, meta] of costly) {
      const frame = callFrame(++id, json, meta)
      const { result, stallMs, ms } = await longestStall(async () => {
        peer.send(frame)
        return peer.next((m) => m.id === id)
      })
      expect(result, name).toMatchObject({ code: 'BAD_REQUEST' })
      expect(ms, `${name}: answered in`).toBeLessThan(100)
      expect(stallMs, `${name}: event loop held for`).toBeLessThan(100)
    }
    await stillServes(peer, ++id)
  })

  it.each([
    ['json nested 100,000 levels', '['.repeat(100_000) + ']'.repeat(100_000), undefined],
    ['meta.values nested 100,000 levels', '{"a":"x"}', `{"values":${'{"a":'.repeat(100_000)}["Date"]${'}'.repeat(100_000)},"v":1}`],
  ])('%s: past the frame bound, closed with 1009 without being parsed; the resolver never runs', async (_name, json, meta) => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    const { result, stallMs } = await longestStall(async () => {
      peer.send(callFrame(1, json, meta))
      return peer.closed
    })
    expect(result).toEqual({ code: 1009, reason: 'frame nested deeper than 128 levels' })
    expect(stallMs, 'event loop held for').toBeLessThan(100)
    expect(lab.runs).toBe(0)
    const next = await readyPeer(url)
    await stillServes(next, 2)
  })

  it('a refused input does not disturb other calls on the same connection, in the same frame', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send(`[${callFrame(1, nines(2_000), '{"values":["bigint"],"v":1}')},${callFrame(2, '{"n":"12"}', '{"values":{"n":["bigint"]},"v":1}')}]`)
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', code: 'BAD_REQUEST' })
    expect(await peer.next((m) => m.id === 2)).toMatchObject({ type: 'result', data: { n: '12' }, meta: { values: { n: ['bigint'] } } })
    expect(lab.seen).toEqual([{ n: 12n }])
  })

  it('a real client sending a RegExp gets BAD_REQUEST by default; rich default types pass', async () => {
    const { url } = await setup()
    const api = connectClient<typeof router>(url)
    const error = await rpcErrorOf(api.echo.mutate(/a+/g))
    expect(error).toBeInstanceOf(RpcError)
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).toMatch(/"regexp" is not accepted/)
    const shared = { id: 7 }
    const rich = { at: new Date(1), m: new Map([[shared, new Set([1n])]]), again: shared, f: new Float32Array([NaN, -0]), u: undefined }
    const out = (await api.echo.mutate(rich)) as typeof rich
    const seen = lab.seen[0] as typeof rich
    for (const value of [seen, out]) {
      expect(value.at).toEqual(new Date(1))
      expect([...value.m.keys()][0]).toBe(value.again)
      expect(value.f).toEqual(new Float32Array([NaN, -0]))
    }
  })
})

describe('hostile subscribe input', () => {
  it.each(hostileInputs.filter(([name]) => /nested 100 levels|million digits|RegExp|__proto__ in|100,000 reference/.test(name)))(
    '%s: an error for the subscription, which never starts; the connection lives',
    async (_name, json, meta) => {
      const { url } = await setup()
      const peer = await readyPeer(url)
      peer.send(`{"type":"subscribe","id":1,"path":"watch","input":${json}${meta === undefined ? '' : `,"meta":${meta}`}}`)
      const answer = await peer.next((m) => m.id === 1)
      expect(answer).toMatchObject({ type: 'error', id: 1, code: 'BAD_REQUEST' })
      expect(answer.message).toMatch(/^Payload refused: /)
      expect(lab.runs).toBe(0)
      await stillServes(peer, 2)
    },
  )
})

/** Hostile params small enough for maxConnectionParamsBytes (16 KB): [name, params json, meta json]. */
const hostileParams: [string, string, string | undefined][] = [
  ['params nested 65 levels', '['.repeat(65) + ']'.repeat(65), undefined],
  ['a bigint of 2,000 digits', `{"user":${nines(2_000)}}`, '{"values":{"user":["bigint"]},"v":1}'],
  ['1,001 reference paths', '{"a":{},"b":{}}', `{"referentialEqualities":{"a":${list(1_000, () => '"b"')}},"v":1}`],
  ['a RegExp', '{"user":"/(a+)+$/"}', '{"values":{"user":["regexp"]},"v":1}'],
  ['__proto__ in an annotation path', '{"__proto__":{"polluted":"1"}}', '{"values":{"__proto__.polluted":["bigint"]},"v":1}'],
  ['a tree that is a string', '{"user":"x"}', '{"values":"x","v":1}'],
]

describe('hostile connection params', () => {
  it.each(hostileParams)('%s in init: closed with 4401, createContext never runs', async (_name, params, meta) => {
    const { url } = await setup()
    const peer = await rawPeer(url)
    peer.send(`{"type":"init","params":${params}${meta === undefined ? '' : `,"meta":${meta}`}}`)
    const { code, reason } = await peer.closed
    expect(code).toBe(4401)
    expect(reason).toMatch(/^Payload refused: /)
    expect(lab.contexts).toEqual([])
    expect(peer.messages.some((m) => m.type === 'ack')).toBe(false)
  })

  it('params too large for maxConnectionParamsBytes (100,000 levels) are closed with 4413 before any check', async () => {
    const { url } = await setup()
    const peer = await rawPeer(url)
    peer.send(`{"type":"init","params":${'['.repeat(100_000) + ']'.repeat(100_000)}}`)
    expect((await peer.closed).code).toBe(4413)
    expect(lab.contexts).toEqual([])
  })

  it.each(hostileParams)('%s in reinit: BAD_REQUEST for the reinit, the old context stays', async (_name, params, meta) => {
    const { url } = await setup()
    const peer = await readyPeer(url, { user: 'ada' })
    peer.send(`{"type":"reinit","id":1,"params":${params}${meta === undefined ? '' : `,"meta":${meta}`}}`)
    const answer = await peer.next((m) => m.id === 1)
    expect(answer).toMatchObject({ type: 'error', id: 1, code: 'BAD_REQUEST' })
    expect(answer.message).toMatch(/^Payload refused: /)
    expect(lab.contexts).toEqual([{ user: 'ada' }])
    peer.send({ type: 'call', id: 2, method: 'query', path: 'whoami' })
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2, data: 'ada' })
  })
})

describe('results superjson refuses or rewrites', () => {
  it('{ constructor: "x" } is plain JSON: sent as it is, superjson never sees it', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'constructorKey' })
    expect(await peer.next((m) => m.id === 1)).toEqual({ type: 'result', id: 1, data: { constructor: 'x' } })
    const api = connectClient<typeof router>(url)
    const out = await api.constructorKey.query()
    expect(out).toEqual({ constructor: 'x' })
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
  })

  it('{ constructor: "x" } beside a Date, with superjsonSerializer(instance): superjson throws, a per-call INTERNAL, the connection lives', async () => {
    // The default codec writes the key as data (tests/integration/hostile/edge-reactions.test.ts).
    const { url } = await setup({ serializer: superjsonSerializer(new SuperJSON()) })
    const peer = await readyPeer(url)
    await expectUnserializable(peer, 'constructorAndDate')
  })

  it('a circular result is sent by superjson as a reference, and the client revives the cycle', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'circular' })
    expect(await peer.next((m) => m.id === 1)).toEqual({
      type: 'result',
      id: 1,
      data: { name: 'loop', self: null },
      meta: { referentialEqualities: [['self']], v: 1 },
    })
    const api = connectClient<typeof router>(url)
    const out = (await api.circular.query()) as Record<string, unknown>
    expect(out.self).toBe(out)
  })

  it('a circular result with the JSON serializer is a per-call INTERNAL, and the connection lives', async () => {
    const { url } = await setup({ serializer: jsonSerializer })
    const peer = await readyPeer(url)
    await expectUnserializable(peer, 'circular')
  })
})

describe('payloadLimits', () => {
  it("allowAnnotations: ['regexp'] accepts a RegExp input, and only that", async () => {
    const { url } = await setup({ payloadLimits: { allowAnnotations: ['regexp'] } })
    const api = connectClient<typeof router>(url)
    const out = await api.echo.mutate(/a+b/giu)
    expect(lab.seen[0]).toBeInstanceOf(RegExp)
    expect(lab.seen[0]).toEqual(/a+b/giu)
    expect(out).toEqual(/a+b/giu)
    const error = await rpcErrorOf(api.echo.mutate(new Error('boom')))
    expect(error.code).toBe('BAD_REQUEST')
    expect(error.message).toMatch(/"Error" is not accepted/)
  })

  it('tighter bounds are applied as given', async () => {
    const limits: PayloadLimits = { maxDepth: 4, maxBigIntDigits: 10, maxReferencePaths: 2 }
    const { url } = await setup({ payloadLimits: limits })
    const api = connectClient<typeof router>(url)
    await expect(api.echo.mutate([[[[1]]]])).resolves.toEqual([[[[1]]]])
    expect((await rpcErrorOf(api.echo.mutate([[[[[1]]]]]))).message).toMatch(/nested deeper than 4 levels/)
    await expect(api.echo.mutate(10n ** 9n)).resolves.toBe(10n ** 9n)
    expect((await rpcErrorOf(api.echo.mutate(10n ** 10n))).message).toMatch(/bigint longer than 10 digits/)
    // A Date inside, so that the client sends it through superjson (plain JSON has no references).
    const shared = { at: new Date(0) }
    await expect(api.echo.mutate([shared, shared])).resolves.toEqual([shared, shared])
    expect((await rpcErrorOf(api.echo.mutate([shared, shared, shared]))).message).toMatch(/more than 2 reference paths/)
  })
})
