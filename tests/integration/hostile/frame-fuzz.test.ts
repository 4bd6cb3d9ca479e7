import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { defaultSerializer, ERROR_CODES, initRpc, MAX_ID, frameShapeProblem, parseServerFrame, RpcError } from '@wirecall/core'
import { collectGarbage } from '../../helpers/async'
import { connectClient, rawPeer, readyPeer, sleep, startServer, waitUntil, within, type RawPeer } from '../../helpers/harness'
import { watchInvariants, type Invariants } from '../../helpers/invariants'

/**
 * Property-based fuzzing of the server's frame handling. Random frames
 * (strings, JSON values, valid messages with fields replaced, dropped,
 * duplicated, nested or retyped, batches of them, binary frames, oversized
 * frames) are sent by fresh raw peers to ONE live server. After each run the
 * peer was either still alive or closed with a documented code; the server
 * never sent an invalid frame; and periodically, and at the end, the global
 * invariants hold (a second, well-behaved client gets correct answers, the
 * server holds nothing for closed peers). At the end the heap is back near
 * its warm-up baseline.
 *
 * Set FUZZ_SEED to replay a failure (fast-check prints seed and path).
 */

const MAX_PAYLOAD = 65_536
const MAX_PARAMS_BYTES = 2_048
/** The server's default frame shape bounds: `payloadLimits.maxDepth` (64) plus a margin of 64, and `maxFrameContainers`; other frames close with 1009 unparsed. */
const FRAME_SHAPE = { maxDepth: 128, maxContainers: 100_000 }

/**
 * The close codes a misbehaving peer may get (docs/protocol.md, close
 * codes): 4400 invalid frame or message at the wrong time; 1009 frame over
 * maxPayload; 1008 rate limit; 4408 no ack within initTimeoutMs; 4401
 * createContext refused (here: params `{ deny: true }`, or params over a
 * payload bound); 4413 an init-time frame over maxConnectionParamsBytes.
 */
const SERVER_CODES = new Set([4400, 1009, 1008, 4408, 4401, 4413])

const rpc = initRpc.create()
const router = rpc.router({
  ok: rpc.procedure.query(() => 'ok' as const),
  echo: rpc.procedure.input(z.unknown()).query(({ input }) => input),
  add: rpc.procedure.input(z.object({ a: z.number(), b: z.number() })).mutation(({ input }) => input.a + input.b),
  hang: rpc.procedure.query(
    ({ signal }) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })),
  ),
  fail: rpc.procedure.query(() => {
    throw new RpcError('CONFLICT', 'no')
  }),
  crash: rpc.procedure.mutation(() => {
    throw new Error('boom')
  }),
  ticks: rpc.procedure.subscription(async function* ({ signal }) {
    for (let i = 0; i < 3; i++) yield i
    await sleep(60_000, signal)
  }),
  nested: { leaf: rpc.procedure.query(() => 'leaf' as const) },
})
type R = typeof router

// ---- arbitraries -------------------------------------------------------------

type Json = fc.JsonValue
type Obj = Record<string, unknown>

const knownPaths = ['ok', 'echo', 'add', 'hang', 'fail', 'crash', 'ticks', 'nested.leaf', 'nested']
const pathArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...knownPaths) },
  { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'a.__proto__.b', 'nested.constructor', '', 'x'.repeat(1_025)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
)
/** Mostly small ids, so that runs reuse ids in flight. */
const idArb = fc.oneof({ weight: 8, arbitrary: fc.nat(12) }, { weight: 1, arbitrary: fc.constant(MAX_ID) }, { weight: 1, arbitrary: fc.nat() })
const hostileValueArb = fc.constantFrom<unknown>('__proto__', 'constructor', -1, 1.5, 2 ** 53, -0, {}, [], null, true, '', 'x'.repeat(3_000), [1, 2])
/** Nested far past payloadLimits.maxDepth (64), and far enough to break a recursive walker. */
const deepArb = fc.integer({ min: 60, max: 3_000 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) as Json)
const payloadArb = fc.oneof({ weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }) }, { weight: 1, arbitrary: deepArb }, { weight: 1, arbitrary: hostileValueArb })

/** superjson-shaped meta: annotations (including refused and made-up ones) at paths (including prototype ones). */
const annotationArb = fc.constantFrom<unknown>(
  ['Date'],
  ['bigint'],
  ['set'],
  ['map'],
  ['undefined'],
  ['number'],
  ['regexp'],
  ['Error'],
  ['symbol', 'x'],
  ['class', 'Foo'],
  ['custom', 'wirecall.Float64Array'],
  ['custom', 'nope'],
  ['typed-array', 'Uint8Array'],
  ['__proto__'],
  ['constructor'],
  'Date',
  ['set', { 0: ['Date'] }],
)
const metaPathArb = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'a.__proto__', 'toString', '0', '1', '0x1', 'a', 'a.b', 'a.0', ''),
  fc.string({ maxLength: 8 }),
)
const superjsonMetaArb = fc.record(
  {
    values: fc.oneof(annotationArb, fc.dictionary(metaPathArb, annotationArb, { maxKeys: 4 })),
    referentialEqualities: fc.oneof(fc.dictionary(metaPathArb, fc.array(metaPathArb, { maxLength: 3 }), { maxKeys: 3 }), fc.array(metaPathArb, { maxLength: 3 })),
    v: fc.constantFrom<unknown>(1, 2, '1'),
  },
  { requiredKeys: [] },
)
const metaArb = fc.oneof({ weight: 2, arbitrary: superjsonMetaArb }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) })
const paramsArb = fc.oneof({ weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) }, { weight: 1, arbitrary: fc.constant<Json>({ deny: true }) }, { weight: 1, arbitrary: deepArb })

/** Mostly absent: a random meta fails the call (or the connection, for init params) on a payload bound. */
const sometimesMetaArb = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: metaArb })
/** Adds `meta` to a message when there is one (an absent field, not `meta: undefined`). */
const withMeta = (message: Obj, meta: unknown): Obj => (meta === undefined ? message : { ...message, meta })

const messageArb: fc.Arbitrary<Obj> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.tuple(fc.record({ type: fc.constant('init'), params: paramsArb }, { requiredKeys: ['type'] }), sometimesMetaArb).map(([m, meta]) => withMeta(m, meta)),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.record(
          {
            type: fc.constant('call'),
            id: idArb,
            method: fc.constantFrom('query', 'mutation'),
            path: pathArb,
            input: payloadArb,
            idempotencyKey: fc.string({ minLength: 1, maxLength: 128 }),
          },
          { requiredKeys: ['type', 'id', 'method', 'path'] },
        ),
        sometimesMetaArb,
      )
      .map(([m, meta]) => withMeta(m, meta)),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('cancel'), id: idArb }) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.record(
          { type: fc.constant('subscribe'), id: idArb, path: pathArb, input: payloadArb, lastEventId: fc.string({ maxLength: 1_030 }) },
          { requiredKeys: ['type', 'id', 'path'] },
        ),
        sometimesMetaArb,
      )
      .map(([m, meta]) => withMeta(m, meta)),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('unsubscribe'), id: idArb }) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.record({ type: fc.constant('reinit'), id: idArb, params: paramsArb }, { requiredKeys: ['type', 'id'] }), sometimesMetaArb).map(([m, meta]) => withMeta(m, meta)),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constantFrom('ping', 'pong') }) },
)

const fieldArb = fc.constantFrom('type', 'id', 'method', 'path', 'input', 'meta', 'params', 'idempotencyKey', 'lastEventId')
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Structural mutations of a message: a field replaced, dropped, retyped or added; the message nested or wrapped. */
const mutationArb: fc.Arbitrary<(m: unknown) => unknown> = fc.oneof(
  fc.tuple(fieldArb, fc.oneof(hostileValueArb, fc.jsonValue({ maxDepth: 2 }))).map(([field, value]) => (m: unknown) => (isObj(m) ? { ...m, [field]: value } : m)),
  fieldArb.map((field) => (m: unknown) => {
    if (!isObj(m)) return m
    const copy = { ...m }
    delete copy[field]
    return copy
  }),
  fc
    .oneof(fc.constantFrom<unknown>('ack', 'result', 'error', 'Call', 'PING', '__proto__', 'constructor', 'init', 'call', 'subscribe', ''), fc.jsonValue({ maxDepth: 1 }))
    .map((type) => (m: unknown) => (isObj(m) ? { ...m, type } : m)),
  fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([key, value]) => (m: unknown) => (isObj(m) ? { ...m, [key]: value } : m)),
  fc.constantFrom('input', 'params', 'data', 'meta', 'type', 'id').map((field) => (m: unknown) => ({ type: isObj(m) ? m.type : 'call', id: 1, [field]: m })),
  fc.constantFrom(
    (m: unknown) => [m],
    (m: unknown) => [[m]],
    (m: unknown) => [m, m],
    (m: unknown) => ({ message: m }),
  ),
)

/** Text-level mutations: what JSON.stringify cannot produce (duplicate keys, an own "__proto__", 1e309) and broken JSON. */
const textMutationArb: fc.Arbitrary<(text: string) => string> = fc.oneof(
  fc.tuple(fc.constantFrom('type', 'id', 'path', 'method', '__proto__', 'params'), fc.jsonValue({ maxDepth: 2 })).map(([key, value]) => (text: string) => {
    if (!text.startsWith('{')) return text
    const field = `${JSON.stringify(key)}:${JSON.stringify(value)}`
    return text === '{}' ? `{${field}}` : `{${field},${text.slice(1)}`
  }),
  fc.constantFrom(
    (text: string) => text.replace(/"id":\d+/, '"id":1e309'),
    (text: string) => text.replace(/"id":\d+/, '"id":-0'),
    (text: string) => text.replace(/"id":\d+/, '"id":1e2'),
    (text: string) => text.replace(/"id":(\d+)/, '"id":$1,"id":"$1"'),
    (text: string) => `\uFEFF${text}`,
    (text: string) => `${text}${text}`,
  ),
  fc.nat().map((n) => (text: string) => text.slice(0, n % (text.length + 1))),
  fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 })).map(([n, s]) => (text: string) => {
    const at = n % (text.length + 1)
    return `${text.slice(0, at)}${s}${text.slice(at)}`
  }),
)

const mutatedMessageArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: messageArb },
  { weight: 1, arbitrary: fc.tuple(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([m, fs]) => fs.reduce((acc: unknown, f) => f(acc), m)) },
)

/** Rich values a well-behaved client could send; `echo` must give each back unchanged. */
const richValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      at: fc.date({ noInvalidDate: true }),
      n: fc.bigInt(),
      tags: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }).map((a) => new Set(a)),
      byKey: fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 4 }).map((e) => new Map(e)),
      x: fc.double(),
      nothing: fc.constant(undefined),
      list: fc.array(fc.oneof(fc.date({ noInvalidDate: true }), fc.constant(undefined), fc.integer()), { maxLength: 4 }),
    },
    { requiredKeys: [] },
  ),
)

/** Ids the arbitraries never produce (they stay below 2^31, or are MAX_ID): one per oracle call. */
const ORACLE_IDS = 2 ** 40
let oracleCount = 0

type Frame = { text: string; oracle?: { id: number; value: unknown } } | { binary: Uint8Array }

const frameArb: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 8, arbitrary: mutatedMessageArb.map((m) => ({ text: JSON.stringify(m) })) },
  { weight: 2, arbitrary: fc.array(mutatedMessageArb, { minLength: 1, maxLength: 6 }).map((ms) => ({ text: JSON.stringify(ms) })) },
  { weight: 2, arbitrary: fc.tuple(mutatedMessageArb, textMutationArb).map(([m, mutate]) => ({ text: mutate(JSON.stringify(m)) })) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => ({ text: JSON.stringify(v) })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }).map((binary) => ({ binary })) },
  // Past maxConnectionParamsBytes (before the ack: 4413), and sometimes past maxPayload (1009).
  { weight: 1, arbitrary: fc.integer({ min: MAX_PARAMS_BYTES, max: MAX_PAYLOAD + 2_000 }).map((n) => ({ text: JSON.stringify({ type: 'ping', pad: 'x'.repeat(n) }) })) },
  // A well-formed echo among the noise, whose answer is checked.
  {
    weight: 3,
    arbitrary: richValueArb.map((value) => {
      const id = ORACLE_IDS + ++oracleCount
      const { json, meta } = defaultSerializer.serialize(value)
      const message = withMeta({ type: 'call', id, method: 'query', path: 'echo', ...(json === undefined ? {} : { input: json }) }, meta)
      return { text: JSON.stringify(message), oracle: { id, value } }
    }),
  },
)

const runArb = fc.record({
  /** A raw peer starts before `init`; a ready one after its `ack`. */
  ready: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  frames: fc.array(frameArb, { minLength: 1, maxLength: 6 }),
})
type Run = typeof runArb extends fc.Arbitrary<infer T> ? T : never

// ---- running one case ------------------------------------------------------------

/** Pings the server will answer for this frame, if it accepts it (an invalid frame closes instead). */
function pingsIn(frame: Frame): number {
  if (!('text' in frame)) return 0
  let value: unknown
  try {
    value = JSON.parse(frame.text)
  } catch {
    return 0
  }
  const messages = Array.isArray(value) ? value : [value]
  return messages.filter((m) => isObj(m) && m.type === 'ping').length
}

/** True when the frame can only be refused as "not a valid envelope", whatever came before it. */
function notAnEnvelope(frame: Frame): boolean {
  if (!('text' in frame)) return true
  try {
    const value: unknown = JSON.parse(frame.text)
    return typeof value !== 'object' || value === null
  } catch {
    return true
  }
}

const pongs = (peer: RawPeer) => peer.messages.filter((m) => m.type === 'pong').length

/**
 * One case: a fresh peer sends the run's frames and a final ping, and waits
 * for every pong or for the close. Then it closes (if the server has not)
 * and checks how the connection ended and what the server sent.
 */
async function play(url: string, inv: Invariants, run: Run): Promise<void> {
  const peer = inv.hostile(run.ready ? await readyPeer(url) : await rawPeer(url))
  let weClosed = false
  let expectedPongs = pongs(peer)
  const sent: Frame[] = []
  for (const frame of run.frames) {
    if (peer.ws.readyState !== peer.ws.OPEN) break
    if ('text' in frame) peer.ws.send(frame.text)
    else peer.ws.send(frame.binary, { binary: true })
    sent.push(frame)
    expectedPongs += pingsIn(frame)
  }
  if (peer.ws.readyState === peer.ws.OPEN) {
    peer.send({ type: 'ping' })
    expectedPongs++
  }
  await within(
    Promise.race([peer.closed, waitUntil(() => pongs(peer) >= expectedPongs || peer.ws.readyState === peer.ws.CLOSED, 'every pong', 3_000)]),
    'the server to answer every ping or close',
  )
  if (peer.ws.readyState === peer.ws.OPEN) {
    weClosed = true
    peer.ws.close(1000, 'run done')
  }
  const closed = await within(peer.closed, 'the close handshake')

  if (closed.code === 1000) expect(weClosed, 'the server never closes with 1000').toBe(true)
  else expect(SERVER_CODES, `closed with ${closed.code} "${closed.reason}"`).toContain(closed.code)
  // A first frame that is not even a JSON object or array has one possible answer (unless it is too big, too deep or too dense to be read).
  const first = sent[0]
  const misshapen = first !== undefined && 'text' in first && frameShapeProblem(first.text, FRAME_SHAPE) !== undefined
  if (first !== undefined && notAnEnvelope(first) && !misshapen && byteLength(first) <= (run.ready ? MAX_PAYLOAD : MAX_PARAMS_BYTES)) {
    expect(closed.code, `first frame ${JSON.stringify(first).slice(0, 200)}`).toBe(4400)
  }
  // Whatever it was sent, the server only ever says valid things.
  for (const message of peer.messages) {
    const parsed = parseServerFrame(JSON.stringify(message))
    expect(parsed.ok, `invalid server frame ${JSON.stringify(message).slice(0, 200)}`).toBe(true)
    if (message.type === 'error') expect(Object.keys(ERROR_CODES)).toContain(message.code)
  }
  // Every well-formed echo that was answered got its own value back; on a ready peer that lived, every one was answered.
  for (const frame of sent) {
    if (!('text' in frame) || frame.oracle === undefined) continue
    const { id, value } = frame.oracle
    const answers = peer.messages.filter((m) => m.id === id)
    if (answers.length === 0 && !(run.ready && closed.code === 1000)) continue
    expect(answers.map((m) => m.type), `answers to echo ${id}`).toEqual(['result'])
    const answer = answers[0]!
    expect(defaultSerializer.deserialize(answer.meta === undefined ? { json: answer.data } : { json: answer.data, meta: answer.meta })).toEqual(value)
  }
  // The peer's record is test-side memory in this same process: drop it before the heap is measured.
  peer.messages.length = 0
}

function byteLength(frame: Frame): number {
  return 'text' in frame ? Buffer.byteLength(frame.text) : frame.binary.byteLength
}

// ---- the test ----------------------------------------------------------------------

describe('fuzzing the server with random and mutated frames', () => {
  it('one live server: every peer lives or is closed with a documented code, a good client keeps getting answers, and nothing leaks', async () => {
    const { server, url } = await startServer<R>({
      router,
      maxPayload: MAX_PAYLOAD,
      maxConnectionParamsBytes: MAX_PARAMS_BYTES,
      initTimeoutMs: 1_000,
      rateLimit: { messagesPerSecond: 100_000, burst: 100_000 },
      createContext: ({ connectionParams }) => {
        if (isObj(connectionParams) && connectionParams.deny === true) throw new RpcError('UNAUTHORIZED', 'denied')
        return {}
      },
    })
    const rich = { at: new Date(86_400_000), big: 2n ** 70n, tags: new Set(['a', 'b']), nested: [{ n: 1 }, null] }
    const inv = watchInvariants<R>(server, url, {
      probe: async (api) => {
        expect(await api.echo.query(rich)).toEqual(rich)
        expect(await api.add.mutate({ a: 2, b: 3 })).toBe(5)
      },
    })
    // A well-behaved client that stays connected through the whole fuzz: it must never be disturbed.
    const good = connectClient<R>(url)
    const goodCloses: unknown[] = []
    good.$connection.on('close', (info) => goodCloses.push(info))
    const goodStillServed = async () => {
      expect(await good.echo.query(rich)).toEqual(rich)
      expect(await good.nested.leaf.query()).toBe('leaf')
      expect(goodCloses).toEqual([])
    }
    await goodStillServed()

    let runs = 0
    const property = fc.asyncProperty(runArb, async (run) => {
      await play(url, inv, run)
      if (++runs % 25 === 0) {
        await goodStillServed()
        await inv.check({ openConnections: 1 })
      }
    })
    const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED)
    const parameters = (numRuns: number, timeLimitMs: number): fc.Parameters<[Run]> => ({
      numRuns,
      plugins: [fc.interruptAfterTimeLimit(timeLimitMs) as fc.Plugin<[Run]>],
      ...(seed === undefined ? {} : { seed }),
    })

    // Warm-up: the first connections allocate what stays (JIT, caches, ws internals); measure after.
    await fc.assert(property, parameters(20, 3_000))
    await inv.check({ openConnections: 1 })
    await collectGarbage()
    const baseline = process.memoryUsage().heapUsed

    const warmRuns = runs
    await fc.assert(property, parameters(400, 12_000))
    // A time limit that cut the runs short would make this test say little.
    expect(runs - warmRuns).toBeGreaterThanOrEqual(50)
    await goodStillServed()
    await inv.check({ openConnections: 1 })

    await good.$connection.close()
    await inv.check({ openConnections: 0 })
    expect(server.stats()).toMatchObject({ connections: 0, inFlightCalls: 0, subscriptions: 0, unwinding: 0 })
    await collectGarbage()
    const grown = process.memoryUsage().heapUsed - baseline
    expect(grown, `heap grew by ${(grown / 1_048_576).toFixed(1)} MiB`).toBeLessThan(8 * 1_048_576)
  })
})
