import { describe, expect, it, onTestFinished } from 'vitest'
import { z } from 'zod'
import { WebSocketServer, type WebSocket as WsSocket } from 'ws'
import type { AddressInfo } from 'node:net'
import { initRpc, MAX_ID, PROTOCOL, RpcError } from '@wirecall/core'
import type { RpcServerOptions } from '@wirecall/server'
import { collectGarbage } from '../../helpers/async'
import { DEFAULT_ACK, connectClient, rawPeer, readyPeer, rpcErrorOf, startServer, waitUntil, within, type RawPeer } from '../../helpers/harness'
import { watchInvariants, watchProcess, type Invariants } from '../../helpers/invariants'

/**
 * Hostile input from raw peers. Each case asserts the exact reaction the
 * protocol prescribes (docs/protocol.md: a frame that is not a valid
 * envelope closes with 4400; a valid envelope with bad content gets a
 * per-call error and the connection lives), that no prototype was polluted,
 * and then the global invariants (tests/helpers/invariants.ts): the server
 * still serves a well-behaved client, nothing went unhandled, and once the
 * hostile peer is gone the server holds nothing for it.
 */

/** A promise with its resolver outside. */
interface Deferred<T = void> {
  promise: Promise<T>
  resolve: (value: T) => void
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/** Resolves when `signal` aborts (at once if it already has). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

/** What the procedures of one test did; replaced by each `setup()`. */
interface Lab {
  /** `hang` calls, with a promise that settles when the resolver has ended. */
  hangs: { signal: AbortSignal; ended: Promise<void> }[]
  /** Subscription generators that entered their body, each with its `finally` (no signal here: see `signals`). */
  generators: { ended: Promise<void> }[]
  /** Generators between their first line and their `finally`. */
  liveGenerators: number
  /** Gates of `gated` calls by key, created when the call arrives. */
  gates: Map<string, Deferred>
  gatedRuns: string[]
  countRuns: number
  /** `slowSetup`'s middleware has started awaiting `setupGate`. */
  setupEntered: Deferred
  setupGate: Deferred
  /** Signals of subscriptions, to check through WeakRefs that they are freed. */
  signals: WeakRef<AbortSignal>[]
}

function newLab(): Lab {
  return {
    hangs: [],
    generators: [],
    liveGenerators: 0,
    gates: new Map(),
    gatedRuns: [],
    countRuns: 0,
    setupEntered: deferred(),
    setupGate: deferred(),
    signals: [],
  }
}

let lab = newLab()

const rpc = initRpc.create()

/** One event, then waits to be stopped; counts itself while alive. */
async function* ticker(signal: AbortSignal): AsyncGenerator<string> {
  const ended = deferred()
  lab.generators.push({ ended: ended.promise })
  lab.liveGenerators++
  try {
    yield 'tick'
    await aborted(signal)
  } finally {
    lab.liveGenerators--
    ended.resolve()
  }
}

const router = rpc.router({
  ok: rpc.procedure.query(() => 'ok' as const),
  count: rpc.procedure.query(() => ++lab.countRuns),
  hang: rpc.procedure.query(({ signal }) => {
    const ended = deferred()
    lab.hangs.push({ signal, ended: ended.promise })
    return aborted(signal).then(() => {
      ended.resolve()
      throw signal.reason
    })
  }),
  gated: rpc.procedure.input(z.string()).query(async ({ input }) => {
    lab.gatedRuns.push(input)
    const gate = deferred()
    lab.gates.set(input, gate)
    await gate.promise
    return `done ${input}`
  }),
  ticks: rpc.procedure.subscription(({ signal }) => {
    lab.signals.push(new WeakRef(signal))
    return ticker(signal)
  }),
  slowSetup: rpc.procedure
    .use(async ({ next }) => {
      lab.setupEntered.resolve()
      await lab.setupGate.promise
      return next()
    })
    .subscription(({ signal }) => ticker(signal)),
  nested: { leaf: rpc.procedure.query(() => 'leaf' as const) },
})
type R = typeof router

/** A server for one test, watched by the invariants; createContext refuses `{ deny: reason }`. */
async function setup(options: Partial<Omit<RpcServerOptions<R>, 'router'>> = {}) {
  lab = newLab()
  const { server, url } = await startServer<R>({ router, ...options } as RpcServerOptions<R>)
  const inv = watchInvariants<R>(server, url, {
    probe: async (api) => {
      expect(await api.ok.query()).toBe('ok')
    },
  })
  return { server, url, inv }
}

/** A text frame, or a binary one. */
type Frame = string | { binary: Buffer }

function sendFrame(peer: RawPeer, frame: Frame): void {
  if (typeof frame === 'string') peer.ws.send(frame)
  else peer.ws.send(frame.binary, { binary: true })
}

/**
 * Puts a ready peer to work: a `hang` call (id 1) and a `ticks` subscription
 * (id 2) that has delivered its first event. The invariants track both
 * resolvers, so a hostile close must end them.
 */
async function busy(peer: RawPeer, inv: Invariants): Promise<void> {
  peer.send({ type: 'call', id: 1, method: 'query', path: 'hang' })
  peer.send({ type: 'subscribe', id: 2, path: 'ticks' })
  await peer.next((m) => m.type === 'data' && m.id === 2)
  await waitUntil(() => lab.hangs.length === 1, 'the hang call to start')
  inv.track(lab.hangs[0]!.ended, 'the hang resolver')
  inv.track(lab.generators[0]!.ended, "the ticks generator's finally")
}

/** What `busy` legitimately receives. */
const busyFrames = (m: Record<string, unknown>) => m.type === 'ack' || (m.id === 2 && (m.type === 'started' || m.type === 'data'))

/** Sends a ping and waits for its pong: every frame sent before it has been handled. */
async function roundTrip(peer: RawPeer): Promise<void> {
  const pongs = peer.messages.filter((m) => m.type === 'pong').length
  peer.send({ type: 'ping' })
  await waitUntil(() => peer.messages.filter((m) => m.type === 'pong').length > pongs, 'a pong')
}

/** Frames received for `id`, in order. */
const framesFor = (peer: RawPeer, id: number) => peer.messages.filter((m) => m.id === id)

const polluted = () => ({}) as Record<string, unknown>

describe('a frame that is not a valid envelope closes with 4400, and ends what the peer had in flight', () => {
  const call = (fields: Record<string, unknown>) => JSON.stringify({ type: 'call', id: 3, method: 'query', path: 'ok', ...fields })
  const frames: [name: string, frame: Frame][] = [
    // Not JSON.
    ['plain text', 'hello?'],
    ['an empty text frame', ''],
    ['whitespace only', ' \n\t'],
    ['truncated JSON', '{"type":"ping"'],
    ['JSON followed by garbage', '{"type":"ping"}}'],
    ['two JSON values in one frame', '{"type":"ping"}{"type":"ping"}'],
    ['a trailing comma', '{"type":"ping",}'],
    ['single quotes', "{'type':'ping'}"],
    ['a byte order mark before the JSON', '\uFEFF{"type":"ping"}'],
    ['NaN', 'NaN'],
    ['undefined', 'undefined'],
    // JSON of the wrong shape.
    ['null', 'null'],
    ['an empty array', '[]'],
    ['an empty object', '{}'],
    ['a number', '0'],
    ['a string', '"ping"'],
    ['true', 'true'],
    ['a batch holding null', '[null]'],
    ['a nested batch', '[[{"type":"ping"}]]'],
    ['a batch with one bad message after a good one (none is handled)', '[{"type":"ping"},{"type":"nope"}]'],
    ['a batch of 1,001 messages', JSON.stringify(Array.from({ length: 1_001 }, () => ({ type: 'ping' })))],
    ['a type that is an object', '{"type":{}}'],
    ['a type that is an array', '{"type":["ping"]}'],
    ['a type that is null', '{"type":null}'],
    ['a type that is a number', '{"type":1}'],
    ['a type hidden behind an own "__proto__" key', '{"__proto__":{"type":"ping"}}'],
    ['a method that is an object', call({ method: {} })],
    ['a method that is an array', call({ method: ['query'] })],
    ['a method in capitals', call({ method: 'QUERY' })],
    ['a method that names the other kind', call({ method: 'subscription' })],
    ['a call without a path', JSON.stringify({ type: 'call', id: 3, method: 'query' })],
    ['an empty path', call({ path: '' })],
    ['a path of 1,025 characters', call({ path: 'x'.repeat(1_025) })],
    ['a path that is an array', call({ path: ['ok'] })],
    ['an empty idempotencyKey', call({ method: 'mutation', idempotencyKey: '' })],
    ['a lastEventId that is a number', JSON.stringify({ type: 'subscribe', id: 3, path: 'ticks', lastEventId: 40 })],
    // Unknown message types: client types are case-sensitive, server types are not the client's to send.
    ...['connection_init', 'Call', 'CALL', ' call', '', 'ack', 'result', 'error', 'data', 'started', 'complete', 'restart'].map(
      (type): [string, Frame] => [`the message type ${JSON.stringify(type)}`, JSON.stringify({ type })],
    ),
    ...['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'].map(
      (type): [string, Frame] => [`the message type ${JSON.stringify(type)} (a prototype member)`, JSON.stringify({ type })],
    ),
    // Binary.
    ['a binary frame holding a valid message', { binary: Buffer.from('{"type":"ping"}') }],
    ['an empty binary frame', { binary: Buffer.alloc(0) }],
  ]

  it.each(frames)('%s', async (_name, frame) => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    await busy(peer, inv)
    sendFrame(peer, frame)
    const closed = await within(peer.closed, 'the server to close the peer')
    expect(closed.code).toBe(4400)
    // Nothing of the frame was handled (no pong, no answer to id 3), and the hang call got no answer either.
    expect(peer.messages.filter((m) => !busyFrames(m))).toEqual([])
    expect(lab.hangs[0]!.signal.aborted).toBe(true)
    expect(polluted().type).toBeUndefined()
    await inv.check()
  })
})

describe('hostile ids are envelope errors: 4400', () => {
  // Raw text, so that values JSON.stringify cannot produce (1e309) reach the server as sent.
  const ids: [label: string, text: string][] = [
    ['"__proto__"', '"__proto__"'],
    ['1e309 (Infinity once parsed)', '1e309'],
    ['-1', '-1'],
    ['1.5', '1.5'],
    ['2**53', String(2 ** 53)],
    ['a 10 KB string', JSON.stringify('7'.repeat(10_240))],
    ['{}', '{}'],
    ['true', 'true'],
    ['null', 'null'],
    ['"1"', '"1"'],
  ]
  const messages: [kind: string, build: (id: string) => string][] = [
    ['call', (id) => `{"type":"call","id":${id},"method":"query","path":"count"}`],
    ['cancel', (id) => `{"type":"cancel","id":${id}}`],
    ['subscribe', (id) => `{"type":"subscribe","id":${id},"path":"ticks"}`],
    ['unsubscribe', (id) => `{"type":"unsubscribe","id":${id}}`],
    ['reinit', (id) => `{"type":"reinit","id":${id}}`],
  ]
  const cases = messages.flatMap(([kind, build]) => ids.map(([label, text]): [string, string] => [`${kind} with id ${label}`, build(text)]))

  it.each(cases)('%s', async (_name, frame) => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send(frame)
    expect((await within(peer.closed, 'the server to close the peer')).code).toBe(4400)
    expect(peer.messages).toEqual([DEFAULT_ACK])
    expect([lab.countRuns, lab.generators.length]).toEqual([0, 0])
    await inv.check()
  })

  it('a valid call batched before a message with a bad id is not run: the frame is refused whole', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send(`[{"type":"call","id":1,"method":"query","path":"count"},{"type":"cancel","id":1e309}]`)
    expect((await within(peer.closed, 'the server to close the peer')).code).toBe(4400)
    expect(peer.messages).toEqual([DEFAULT_ACK])
    expect(lab.countRuns).toBe(0)
    await inv.check()
  })
})

describe('ids reused while in flight get BAD_REQUEST; the original carries on', () => {
  /**
   * The client-facing consequence: the reused id sees two frames, the
   * BAD_REQUEST for the duplicate (first) and the original's result
   * (later), and nothing tells them apart. A client that matches answers by
   * id settles its waiter with the error, and drops the result as a late
   * answer, so the caller of a call that succeeded sees BAD_REQUEST (or, with
   * two waiters per id, a caller gets the other's answer). Hence the
   * protocol's "never reuse an id"; the reference client never does.
   */
  it('a call reusing the id of a call in flight gets BAD_REQUEST for that id, and the first is answered exactly once', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'call', id: 7, method: 'query', path: 'gated', input: 'first' })
    await waitUntil(() => lab.gates.has('first'), 'the first call to start')
    peer.send({ type: 'call', id: 7, method: 'query', path: 'count' })
    const duplicate = await peer.next((m) => m.id === 7)
    expect(duplicate).toEqual({ type: 'error', id: 7, code: 'BAD_REQUEST', message: 'id 7 is already in use' })

    lab.gates.get('first')!.resolve()
    await peer.next((m) => m.id === 7 && m.type === 'result')
    await roundTrip(peer)
    expect(framesFor(peer, 7)).toEqual([duplicate, { type: 'result', id: 7, data: 'done first' }])
    expect(lab.countRuns).toBe(0)
    expect(lab.gatedRuns).toEqual(['first'])
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    await inv.check()
  })

  it('calls, subscriptions and reinits share one id space: each kind reusing another kind’s live id is refused', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'call', id: 1, method: 'query', path: 'gated', input: 'call' })
    peer.send({ type: 'subscribe', id: 2, path: 'ticks' })
    await peer.next((m) => m.type === 'data' && m.id === 2)
    await waitUntil(() => lab.gates.has('call'), 'the call to start')
    inv.track(lab.generators[0]!.ended, "the ticks generator's finally")

    peer.send({ type: 'subscribe', id: 1, path: 'ticks' })
    peer.send({ type: 'reinit', id: 1 })
    peer.send({ type: 'call', id: 2, method: 'query', path: 'count' })
    peer.send({ type: 'reinit', id: 2 })
    peer.send({ type: 'subscribe', id: 2, path: 'ticks' })
    await roundTrip(peer)
    const refused = (id: number) => ({ type: 'error', id, code: 'BAD_REQUEST', message: `id ${id} is already in use` })
    expect(framesFor(peer, 1)).toEqual([refused(1), refused(1)])
    expect(framesFor(peer, 2).slice(2)).toEqual([refused(2), refused(2), refused(2)])
    // None of the duplicates ran anything.
    expect([lab.countRuns, lab.generators.length]).toEqual([0, 1])

    // The originals carry on: the call is answered, the subscription still ends only when asked.
    lab.gates.get('call')!.resolve()
    expect(await peer.next((m) => m.id === 1 && m.type === 'result')).toEqual({ type: 'result', id: 1, data: 'done call' })
    expect(lab.liveGenerators).toBe(1)
    peer.send({ type: 'unsubscribe', id: 2 })
    await within(lab.generators[0]!.ended, 'the subscription to end on unsubscribe')
    await inv.check()
  })

  it('a subscription id reused while its setup is still pending gets BAD_REQUEST; the first proceeds', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'subscribe', id: 5, path: 'slowSetup' })
    await within(lab.setupEntered.promise, "slowSetup's middleware to start")
    peer.send({ type: 'subscribe', id: 5, path: 'ticks' })
    peer.send({ type: 'subscribe', id: 5, path: 'slowSetup' })
    peer.send({ type: 'call', id: 5, method: 'query', path: 'count' })
    await roundTrip(peer)
    const refused = { type: 'error', id: 5, code: 'BAD_REQUEST', message: 'id 5 is already in use' }
    expect(framesFor(peer, 5)).toEqual([refused, refused, refused])
    expect([lab.countRuns, lab.generators.length]).toEqual([0, 0])

    lab.setupGate.resolve()
    await peer.next((m) => m.id === 5 && m.type === 'data')
    expect(framesFor(peer, 5)).toEqual([refused, refused, refused, { type: 'started', id: 5 }, { type: 'data', id: 5, data: 'tick' }])
    expect(lab.generators).toHaveLength(1)
    inv.track(lab.generators[0]!.ended, "the slowSetup generator's finally")
    peer.send({ type: 'unsubscribe', id: 5 })
    await inv.check()
  })

  it('an unsubscribe while the setup is pending ends the subscription: nothing is sent for it and its generator never starts', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'subscribe', id: 5, path: 'slowSetup' })
    await within(lab.setupEntered.promise, "slowSetup's middleware to start")
    peer.send({ type: 'unsubscribe', id: 5 })
    await roundTrip(peer)
    lab.setupGate.resolve()
    // The id is free again at once: a new subscription under it is a new one.
    peer.send({ type: 'subscribe', id: 5, path: 'ticks' })
    await peer.next((m) => m.id === 5 && m.type === 'data')
    expect(framesFor(peer, 5)).toEqual([
      { type: 'started', id: 5 },
      { type: 'data', id: 5, data: 'tick' },
    ])
    expect(lab.generators).toHaveLength(1) // the ticks one; slowSetup's generator never ran
    inv.track(lab.generators[0]!.ended, "the ticks generator's finally")
    await inv.check()
  })
})

describe('cancel and unsubscribe for ids not in flight', () => {
  it('are ignored, whatever the id names, and the connection lives', async () => {
    const { url, server, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'call', id: 1, method: 'query', path: 'ok' })
    await peer.next((m) => m.id === 1)
    peer.send({ type: 'call', id: 2, method: 'query', path: 'gated', input: 'running' })
    peer.send({ type: 'subscribe', id: 3, path: 'ticks' })
    await peer.next((m) => m.id === 3 && m.type === 'data')
    await waitUntil(() => lab.gates.has('running'), 'the gated call to start')
    inv.track(lab.generators[0]!.ended, "the ticks generator's finally")
    const before = peer.messages.length

    peer.send({ type: 'cancel', id: 1 }) // already answered
    peer.send({ type: 'cancel', id: 99 }) // never used
    peer.send({ type: 'cancel', id: 3 }) // names a subscription
    peer.send({ type: 'cancel', id: 0 })
    peer.send({ type: 'cancel', id: MAX_ID })
    peer.send({ type: 'unsubscribe', id: 1 })
    peer.send({ type: 'unsubscribe', id: 99 })
    peer.send({ type: 'unsubscribe', id: 2 }) // names a call
    peer.send([
      { type: 'unsubscribe', id: MAX_ID },
      { type: 'cancel', id: 42 },
      { type: 'unsubscribe', id: 42 },
    ])
    await roundTrip(peer)
    expect(peer.messages.slice(before)).toEqual([{ type: 'pong' }])
    // Neither the call nor the subscription was touched.
    expect(server.stats()).toMatchObject({ inFlightCalls: 1, subscriptions: 1 })
    expect(lab.liveGenerators).toBe(1)
    lab.gates.get('running')!.resolve()
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2, data: 'done running' })

    // Once ended, their ids are unknown too.
    peer.send({ type: 'unsubscribe', id: 3 })
    await within(lab.generators[0]!.ended, 'the subscription to end')
    const after = peer.messages.length
    peer.send({ type: 'unsubscribe', id: 3 })
    peer.send({ type: 'cancel', id: 2 })
    await roundTrip(peer)
    expect(peer.messages.slice(after)).toEqual([{ type: 'pong' }])
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    await inv.check()
  })
})

describe('procedure paths that name prototype members', () => {
  const paths = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a.__proto__.b', 'valueOf', '__defineGetter__', 'nested.__proto__', 'nested.constructor', 'ok.constructor']

  it('are NOT_FOUND for call and subscribe, pollute nothing, and the connection lives', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    const sent: { id: number; path: string; kind: string }[] = []
    let id = 0
    for (const path of paths) {
      for (const kind of ['query', 'mutation', 'subscribe'] as const) {
        sent.push({ id: ++id, path, kind })
        // Raw text: an own "__proto__" key, as JSON.parse makes it (an object literal would set the prototype instead).
        const head = kind === 'subscribe' ? `"type":"subscribe","id":${id}` : `"type":"call","id":${id},"method":"${kind}"`
        peer.send(`{${head},"path":${JSON.stringify(path)},"input":{"polluted":true,"__proto__":{"polluted":true}}}`)
      }
    }
    await roundTrip(peer)
    const got = sent.map(({ id, path, kind }) => ({ path, kind, frames: framesFor(peer, id).map((m) => [m.type, m.code]) }))
    expect(got).toEqual(sent.map(({ path, kind }) => ({ path, kind, frames: [['error', 'NOT_FOUND']] })))
    expect([lab.countRuns, lab.generators.length]).toEqual([0, 0])
    expect(polluted().polluted).toBeUndefined()
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    await inv.check()
  })
})

describe('error codes from the wire are never looked up through a prototype (client side)', () => {
  const codeRouter = rpc.router({
    fail: rpc.procedure.input(z.string()).query(() => 'never' as string),
    stream: rpc.procedure.input(z.string()).subscription(async function* () {
      yield 'never'
    }),
  })
  type CodeRouter = typeof codeRouter

  /**
   * A hand-written server that speaks wirecall.v1 and fails every call and
   * subscription with the code it was sent as input, and with data that
   * tries to reach the prototype.
   */
  async function codeEchoServer(): Promise<string> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false) })
    const sockets = new Set<WsSocket>()
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          for (const ws of sockets) ws.terminate()
          wss.close(() => resolve())
        }),
    )
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    wss.on('connection', (ws) => {
      sockets.add(ws)
      ws.on('message', (raw) => {
        const message = JSON.parse(String(raw)) as { type: string; id?: number; input?: string }
        const fail = (id: number, code: string) =>
          ws.send(`{"type":"error","id":${id},"code":${JSON.stringify(code)},"message":"message for ${code}","data":{"__proto__":{"polluted":true}}}`)
        if (message.type === 'init') ws.send('{"type":"ack"}')
        else if (message.type === 'call') fail(message.id!, message.input!)
        else if (message.type === 'subscribe') {
          ws.send(`{"type":"started","id":${message.id!}}`)
          fail(message.id!, message.input!)
        }
      })
    })
    return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
  }

  const codes = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '', 'not_found', 'retryable']

  it.each(codes)('a server error with code %j reaches a real client as INTERNAL, with its message, and the client lives', async (code) => {
    const watch = watchProcess()
    const url = await codeEchoServer()
    const api = connectClient<CodeRouter>(url)

    const error = await rpcErrorOf(api.fail.query(code))
    expect([error.code, error.message, error.retryable, error.httpStatus]).toEqual(['INTERNAL', `message for ${code}`, false, 500])
    expect(Object.getPrototypeOf(error.data)).toBe(Object.prototype)

    const subscriptionError = deferred<unknown>()
    api.stream.subscribe(code, { onData: () => {}, onError: (e) => subscriptionError.resolve(e) })
    const subError = await rpcErrorOf(Promise.reject(await within(subscriptionError.promise, 'the subscription to fail')))
    expect([subError.code, subError.message]).toEqual(['INTERNAL', `message for ${code}`])

    expect(api.$connection.state).toBe('open')
    expect(polluted().polluted).toBeUndefined()
    watch.check()
  })
})

describe('a flood of subscribe/unsubscribe pairs (rate limit off)', () => {
  it('5,000 pairs in ten frames: every generator ends, memory stays flat and the server holds nothing after', async () => {
    const { url, server, inv } = await setup({ rateLimit: false })
    const peer = inv.hostile(await readyPeer(url))
    let nextId = 1
    const pairs = (n: number) => Array.from({ length: n }, () => nextId++)
    const subscribe = (ids: number[]) => ids.map((id) => ({ type: 'subscribe', id, path: 'ticks' }))
    const unsubscribe = (ids: number[]) => ids.map((id) => ({ type: 'unsubscribe', id }))
    const started = () => peer.messages.filter((m) => m.type === 'started').length

    // Warm-up, so the baseline already holds what the first subscriptions allocate once.
    const warm = pairs(200)
    peer.send(subscribe(warm))
    await waitUntil(() => started() === warm.length, 'the warm-up subscriptions to start')
    peer.send(unsubscribe(warm))
    await roundTrip(peer)
    await waitUntil(() => lab.liveGenerators === 0, 'the warm-up generators to end')
    await collectGarbage()
    const baseline = process.memoryUsage().heapUsed
    const startedBefore = lab.generators.length

    // Pairs inside one frame: most never get as far as their generator.
    for (let frame = 0; frame < 2; frame++) peer.send(pairs(500).flatMap((id) => [...subscribe([id]), ...unsubscribe([id])]))
    // A frame of 1,000 subscribes, then one of their 1,000 unsubscribes, back to back.
    for (let round = 0; round < 2; round++) {
      const ids = pairs(1_000)
      peer.send(subscribe(ids))
      peer.send(unsubscribe(ids))
    }
    // Once the pong is back nothing more starts for those ids; let the few that did start end.
    await roundTrip(peer)
    await waitUntil(() => lab.liveGenerators === 0, 'the generators of the first frames to end')
    // The same, but unsubscribing only once every generator runs (1,000 live: maxSubscriptions exactly).
    for (let round = 0; round < 2; round++) {
      const ids = pairs(1_000)
      const inRound = new Set(ids)
      peer.send(subscribe(ids))
      await waitUntil(
        () => peer.messages.filter((m) => m.type === 'started' && inRound.has(m.id as number)).length === ids.length,
        `1,000 subscriptions of round ${round} to start`,
        5_000,
      )
      expect(lab.liveGenerators).toBe(1_000)
      peer.send(unsubscribe(ids))
    }
    await roundTrip(peer)
    expect(nextId - 1 - warm.length).toBe(5_000)

    await waitUntil(() => lab.liveGenerators === 0, 'every generator to end')
    const flooded = lab.generators.slice(startedBefore)
    expect(flooded.length).toBeGreaterThanOrEqual(2_000)
    await within(Promise.all(flooded.map((g) => g.ended)), 'every generator’s finally')
    // Nothing refused (no limit was hit) and nothing sent after an unsubscribe completes a stream.
    expect(peer.messages.filter((m) => m.type === 'error' || m.type === 'complete')).toEqual([])
    expect(server.stats()).toMatchObject({ connections: 1, inFlightCalls: 0, subscriptions: 0 })

    // Every subscription's signal is freed, and the heap is back near where it was.
    await collectGarbage()
    expect(lab.signals.filter((ref) => ref.deref() !== undefined)).toHaveLength(0)
    const grown = process.memoryUsage().heapUsed - baseline
    expect(grown).toBeLessThan(8 * 1024 * 1024)
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    await inv.check()
  })
})

describe('a close reason longer than a close frame can carry (123 bytes)', () => {
  const cases: [name: string, reason: string, expected: string][] = [
    ['500 ASCII characters', 'x'.repeat(500), 'x'.repeat(123)],
    ['200 two-byte characters', 'é'.repeat(200), 'é'.repeat(61)],
    ['two-byte characters that end past byte 123', `a${'é'.repeat(200)}`, `a${'é'.repeat(61)}`],
    ['four-byte characters (surrogate pairs)', '😀'.repeat(100), '😀'.repeat(30)],
    ['four-byte characters, offset by two', `ab${'😀'.repeat(100)}`, `ab${'😀'.repeat(30)}`],
    ['three-byte characters', '€'.repeat(100), '€'.repeat(41)],
  ]

  it.each(cases)('%s: cut to valid UTF-8 within 123 bytes, and both a raw and a real client get it without error', async (_name, reason, expected) => {
    const { url, inv } = await setup({
      createContext: ({ connectionParams }) => {
        if ((connectionParams as { deny?: unknown } | undefined)?.deny === true) throw new RpcError('FORBIDDEN', reason)
        return {}
      },
    })
    const peer = inv.hostile(await rawPeer(url))
    const wsErrors: unknown[] = []
    peer.ws.on('error', (error) => wsErrors.push(error))
    peer.send({ type: 'init', params: { deny: true } })
    const closed = await within(peer.closed, 'the server to refuse the peer')
    expect(closed).toEqual({ code: 4403, reason: expected })
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123)
    expect(wsErrors).toEqual([])

    const api = connectClient<R>(url, { connectionParams: { deny: true } })
    const closes: { code: number; reason: string }[] = []
    api.$connection.on('close', (info) => closes.push(info))
    const error = await rpcErrorOf(api.ok.query())
    expect(error.code).toBe('FORBIDDEN')
    expect(error.message).toBe(`connection closed (4403): ${expected}`)
    expect(error.data).toEqual({ closeCode: 4403, closeReason: expected })
    expect(closes).toEqual([{ code: 4403, reason: expected }])
    expect(api.$connection.state).toBe('closed')
    await inv.check()
  })
})
