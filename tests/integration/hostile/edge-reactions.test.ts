import { afterEach, describe, expect, it } from 'vitest'
import SuperJSON from 'superjson'
import { createChannel, initRpc, jsonSerializer, superjsonSerializer, type Channel, type Serializer, type StandardSchemaV1 } from '@wirecall/core'
import type { RpcServerOptions } from '@wirecall/server'
import { connectClient, readyPeer, rpcErrorOf, startServer, waitUntil, within, type RawPeer } from '../../helpers/harness'
import { watchInvariants } from '../../helpers/invariants'

/**
 * Reactions to edge-case input that the docs decide (issue 18, "Hostile
 * input II"), each sent for real by a raw peer (or a real client) to a real
 * server on 127.0.0.1:
 *
 * - id `-0` is id 0 (docs/protocol.md, Ids);
 * - duplicate keys in a message: the last one wins (docs/protocol.md, Frames);
 * - an own `__proto__` key in an input is data, with `meta` or without
 *   (docs/security.md, Payloads from untrusted peers);
 * - a procedure without `.input()` still has its input checked against
 *   the payload limits (docs/security.md);
 * - `{ constructor: 'x', d: Date }` is a result like any other;
 * - an event id not in the form the channel writes gets a resync
 *   (docs/subscriptions.md, Ids and epochs);
 * - circular values, per serializer (docs/security.md, docs/errors.md).
 *
 * Frames are written as JSON text where `JSON.stringify` could not write
 * them (`-0`, duplicate keys, own `__proto__` keys).
 */

/** A Standard Schema that accepts anything and hands it on untouched (zod would build a new object). */
function anything<T>(): StandardSchemaV1<T, T> {
  return { '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as T }) } }
}

const rpc = initRpc.create()

/** What the procedures did; reset by `setup()`. */
const lab = {
  runs: 0,
  seen: [] as unknown[],
  /** Middleware runs of `noInput` (before the resolver: raw input). */
  noInputMiddleware: 0,
  /** `held` calls: their signal, and how to let them return. */
  held: [] as { signal: AbortSignal; release: () => void }[],
  channel: createChannel<number>({ epoch: 'e', history: 100 }) as Channel<number>,
}

const router = rpc.router({
  ok: rpc.procedure.query(() => 'ok' as const),
  held: rpc.procedure.query(async ({ signal }) => {
    await new Promise<void>((release) => {
      lab.held.push({ signal, release })
      signal.addEventListener('abort', () => release(), { once: true })
    })
    return 'released' as const
  }),
  echo: rpc.procedure.input(anything<unknown>()).mutation(({ input }) => {
    lab.runs++
    lab.seen.push(input)
    return input
  }),
  noInput: rpc.procedure
    .use(({ next }) => {
      lab.noInputMiddleware++
      return next()
    })
    .query(({ input }) => {
      lab.runs++
      lab.seen.push(input)
      return 'ran' as const
    }),
  constructorAndDate: rpc.procedure.query(() => ({ constructor: 'x', d: new Date(0) })),
  dateUnderConstructor: rpc.procedure.query(() => ({ constructor: { d: new Date(0) } })),
  circular: rpc.procedure.query(() => {
    const loop: Record<string, unknown> = { name: 'loop', at: new Date(0) }
    loop.self = loop
    return loop
  }),
  feed: rpc.procedure.subscription(({ lastEventId, signal }) => lab.channel.subscribe({ lastEventId, signal })),
})
type R = typeof router

async function setup(options: Partial<Omit<RpcServerOptions<R>, 'router'>> = {}) {
  lab.runs = 0
  lab.seen = []
  lab.noInputMiddleware = 0
  lab.held = []
  lab.channel = createChannel<number>({ epoch: 'e', history: 100 })
  const { server, url } = await startServer<R>({ router, ...options } as RpcServerOptions<R>)
  const serializer = options.serializer
  const inv = watchInvariants<R>(server, url, {
    // The probe client speaks the server's serializer.
    probe: async (api) => expect(await api.ok.query()).toBe('ok'),
  })
  const client = () => connectClient<R>(url, serializer === undefined ? {} : { serializer })
  return { server, url, inv, client }
}

afterEach(() => {
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false)
})

/** Every text frame the peer receives from now on, as sent (rawPeer keeps only parsed messages). */
function rawFrames(peer: RawPeer): string[] {
  const frames: string[] = []
  peer.ws.on('message', (data) => frames.push(String(data)))
  return frames
}

/** A plain call on `peer` that must still be answered: the connection lives. */
async function stillServes(peer: RawPeer, id: number): Promise<void> {
  peer.send({ type: 'call', id, method: 'query', path: 'ok' })
  expect(await peer.next((m) => m.id === id)).toEqual({ type: 'result', id, data: 'ok' })
}

const own = (value: unknown, key: string) => Object.getOwnPropertyDescriptor(value, key)

describe('id -0 is id 0', () => {
  it('a call with id -0 is answered with "id":0', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    const frames = rawFrames(peer)
    peer.send('{"type":"call","id":-0,"method":"query","path":"ok"}')
    const answer = await peer.next((m) => m.id === 0)
    expect(answer).toEqual({ type: 'result', id: 0, data: 'ok' })
    // JSON.parse('-0') is -0: the answer's id parsed as +0, so the server wrote 0.
    expect(Object.is(answer.id, 0)).toBe(true)
    expect(frames).toEqual(['{"type":"result","id":0,"data":"ok"}'])
    await inv.check()
  })

  it('-0 and 0 are one id: a call with id 0 while id -0 is in flight gets BAD_REQUEST "id 0 is already in use"', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send('{"type":"call","id":-0,"method":"query","path":"held"}')
    await waitUntil(() => lab.held.length === 1, 'the held call to start')
    peer.send('{"type":"call","id":0,"method":"query","path":"ok"}')
    expect(await peer.next((m) => m.id === 0)).toMatchObject({ type: 'error', id: 0, code: 'BAD_REQUEST', message: 'id 0 is already in use' })
    lab.held[0]!.release()
    expect(await peer.next((m) => m.type === 'result' && m.id === 0)).toEqual({ type: 'result', id: 0, data: 'released' })
    await inv.check()
  })

  it('a cancel with id 0 cancels the call sent as -0; the id is then free for -0 again', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send('{"type":"call","id":-0,"method":"query","path":"held"}')
    await waitUntil(() => lab.held.length === 1, 'the held call to start')
    peer.send('{"type":"cancel","id":0}')
    await waitUntil(() => lab.held[0]!.signal.aborted, 'the held call to be aborted')
    peer.send('{"type":"call","id":-0,"method":"query","path":"ok"}')
    expect(await peer.next((m) => m.id === 0)).toEqual({ type: 'result', id: 0, data: 'ok' })
    await stillServes(peer, 1)
    // Nothing was sent for the cancelled call.
    expect(peer.messages.filter((m) => m.id === 0)).toEqual([{ type: 'result', id: 0, data: 'ok' }])
    await inv.check()
  })
})

describe('duplicate keys in a message: the last one wins, as JSON.parse reads them', () => {
  it('{"id":1,"id":2} is a call with id 2: answered for 2, nothing for 1', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send('{"type":"call","id":1,"id":2,"method":"query","path":"ok"}')
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2, data: 'ok' })
    await stillServes(peer, 3)
    expect(peer.messages.filter((m) => m.id === 1)).toEqual([])
    await inv.check()
  })

  it('envelope fields: an invalid value then a valid one is valid; a valid one then an invalid one closes with 4400', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send('{"type":"ping","type":"call","id":"x","id":1,"method":"subscribe","method":"query","path":"nope","path":"ok"}')
    expect(await peer.next((m) => m.id === 1)).toEqual({ type: 'result', id: 1, data: 'ok' })
    peer.send('{"type":"call","id":2,"id":"x","method":"query","path":"ok"}')
    expect((await within(peer.closed, 'the server to close the peer')).code).toBe(4400)
    expect(peer.messages.filter((m) => m.id === 2)).toEqual([])
    await inv.check()
  })

  it('payloads: the last input, the last key inside it, the last meta and the last key inside meta win', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send('{"type":"call","id":1,"method":"mutation","path":"echo","input":{"a":1,"a":2,"b":{"c":1,"c":[3]}}}')
    expect(await peer.next((m) => m.id === 1)).toEqual({ type: 'result', id: 1, data: { a: 2, b: { c: [3] } } })
    peer.send('{"type":"call","id":2,"method":"mutation","path":"echo","input":"first","input":{"n":"7"}}')
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2, data: { n: '7' } })
    const d = '"1970-01-01T00:00:00.000Z"'
    peer.send(`{"type":"call","id":3,"method":"mutation","path":"echo","input":{"d":${d}},"meta":{"values":{"d":["bigint"]},"v":1},"meta":{"values":{"d":["Date"]},"v":1}}`)
    await peer.next((m) => m.id === 3)
    peer.send(`{"type":"call","id":4,"method":"mutation","path":"echo","input":{"d":${d}},"meta":{"values":{"d":["bigint"],"d":["Date"]},"v":1}}`)
    expect(await peer.next((m) => m.id === 4)).toMatchObject({ type: 'result', id: 4, meta: { values: { d: ['Date'] } } })
    expect(lab.seen).toEqual([{ a: 2, b: { c: [3] } }, { n: '7' }, { d: new Date(0) }, { d: new Date(0) }])
    await inv.check()
  })
})

describe('an own __proto__ key in an input is data, with meta or without', () => {
  /** Checks the input the resolver saw: `__proto__` an own data property, the prototype untouched. */
  function expectOwnProtoKey(input: unknown, value: unknown): void {
    expect(Object.getPrototypeOf(input)).toBe(Object.prototype)
    expect(own(input, '__proto__')).toEqual({ value, writable: true, enumerable: true, configurable: true })
    expect((input as { polluted?: unknown }).polluted).toBeUndefined()
  }

  it('without meta: the resolver gets it as an own property, and the answer carries it back', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    const frames = rawFrames(peer)
    peer.send('{"type":"call","id":1,"method":"mutation","path":"echo","input":{"__proto__":{"polluted":"yes"},"a":1}}')
    const answer = await peer.next((m) => m.id === 1)
    expectOwnProtoKey(lab.seen[0], { polluted: 'yes' })
    expect(frames).toEqual(['{"type":"result","id":1,"data":{"__proto__":{"polluted":"yes"},"a":1}}'])
    expectOwnProtoKey(answer.data, { polluted: 'yes' })
    await inv.check()
  })

  it('with meta: the same, beside a revived Date (the key was dropped here before)', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    const frames = rawFrames(peer)
    const json = '{"__proto__":{"polluted":"yes"},"d":"1970-01-01T00:00:00.000Z","list":[{"__proto__":[1]}]}'
    peer.send(`{"type":"call","id":1,"method":"mutation","path":"echo","input":${json},"meta":{"values":{"d":["Date"]},"v":1}}`)
    const answer = await peer.next((m) => m.id === 1)
    const input = lab.seen[0] as { d: unknown; list: unknown[] }
    expectOwnProtoKey(input, { polluted: 'yes' })
    expectOwnProtoKey(input.list[0], [1])
    expect(input.d).toEqual(new Date(0))
    expect(frames).toEqual([`{"type":"result","id":1,"data":${json},"meta":{"values":{"d":["Date"]},"v":1}}`])
    expectOwnProtoKey(answer.data, { polluted: 'yes' })
    await inv.check()
  })

  it('a real client sends one and gets it back as an own property, beside a Date', async () => {
    const { inv, client } = await setup()
    const api = client()
    const value = JSON.parse('{"__proto__":{"polluted":"yes"}}') as Record<string, unknown>
    value.d = new Date(7)
    const out = await api.echo.mutate(value)
    for (const seen of [lab.seen[0], out]) {
      expectOwnProtoKey(seen, { polluted: 'yes' })
      expect((seen as { d: unknown }).d).toEqual(new Date(7))
    }
    await inv.check({ openConnections: 1 })
  })

  it('a path through it is still refused: BAD_REQUEST, nothing polluted', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send('{"type":"call","id":1,"method":"mutation","path":"echo","input":{"__proto__":{"polluted":"1970-01-01T00:00:00.000Z"}},"meta":{"values":{"__proto__.polluted":["Date"]},"v":1}}')
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', id: 1, code: 'BAD_REQUEST', message: 'Payload refused: path segment "__proto__" is not allowed' })
    expect(lab.runs).toBe(0)
    await inv.check()
  })

  it('with superjsonSerializer(instance): kept without meta, dropped with meta (superjson copies without it); never a prototype', async () => {
    const { url, inv } = await setup({ serializer: superjsonSerializer(new SuperJSON()) })
    const peer = inv.hostile(await readyPeer(url))
    peer.send('{"type":"call","id":1,"method":"mutation","path":"echo","input":{"__proto__":{"polluted":"yes"},"a":1}}')
    await peer.next((m) => m.id === 1)
    peer.send('{"type":"call","id":2,"method":"mutation","path":"echo","input":{"__proto__":{"polluted":"yes"},"d":"1970-01-01T00:00:00.000Z"},"meta":{"values":{"d":["Date"]},"v":1}}')
    expect(await peer.next((m) => m.id === 2)).toMatchObject({ type: 'result', id: 2, data: { d: '1970-01-01T00:00:00.000Z' } })
    expectOwnProtoKey(lab.seen[0], { polluted: 'yes' })
    const withMeta = lab.seen[1] as Record<string, unknown>
    expect(Object.getPrototypeOf(withMeta)).toBe(Object.prototype)
    expect(Object.keys(withMeta)).toEqual(['d'])
    expect(withMeta.polluted).toBeUndefined()
    await inv.check()
  })
})

describe('a procedure without .input() still has its input checked against the payload limits', () => {
  /** `depth` nested arrays, as text. */
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

  it('an input 80 levels deep (maxDepth 64) gets BAD_REQUEST; neither its middleware nor its resolver runs', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send(`{"type":"call","id":1,"method":"query","path":"noInput","input":${nested(80)}}`)
    expect(await peer.next((m) => m.id === 1)).toMatchObject({
      type: 'error',
      id: 1,
      code: 'BAD_REQUEST',
      message: 'Payload refused: nested deeper than 64 levels',
    })
    expect([lab.noInputMiddleware, lab.runs]).toEqual([0, 0])
    // 64 levels pass the bound; the resolver then receives undefined, as documented.
    peer.send(`{"type":"call","id":2,"method":"query","path":"noInput","input":${nested(64)}}`)
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2, data: 'ran' })
    expect([lab.noInputMiddleware, lab.runs, lab.seen]).toEqual([1, 1, [undefined]])
    await inv.check()
  })

  it('its meta is checked too: a RegExp annotation gets BAD_REQUEST', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send('{"type":"call","id":1,"method":"query","path":"noInput","input":"/(a+)+$/","meta":{"values":["regexp"],"v":1}}')
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', id: 1, code: 'BAD_REQUEST', message: expect.stringMatching(/^Payload refused: annotation "regexp"/) as unknown })
    expect([lab.noInputMiddleware, lab.runs]).toEqual([0, 0])
    await inv.check()
  })

  it('a subscription without .input() given an input 80 levels deep gets BAD_REQUEST and never starts', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send(`{"type":"subscribe","id":1,"path":"feed","input":${nested(80)}}`)
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', id: 1, code: 'BAD_REQUEST', message: 'Payload refused: nested deeper than 64 levels' })
    expect(peer.messages.some((m) => m.type === 'started')).toBe(false)
    expect(lab.channel.subscriberCount).toBe(0)
    await inv.check()
  })
})

describe('{ constructor: "x", d: Date } is a result like any other', () => {
  it('is sent with meta for the Date, and a real client gets { constructor: "x", d: Date } back', async () => {
    const { url, inv, client } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'call', id: 1, method: 'query', path: 'constructorAndDate' })
    expect(await peer.next((m) => m.id === 1)).toEqual({
      type: 'result',
      id: 1,
      data: { constructor: 'x', d: '1970-01-01T00:00:00.000Z' },
      meta: { values: { d: ['Date'] }, v: 1 },
    })
    const api = client()
    const out = await api.constructorAndDate.query()
    expect(out).toEqual({ constructor: 'x', d: new Date(0) })
    expect(out.d).toBeInstanceOf(Date)
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    // And as an input, both ways.
    expect(await api.echo.mutate({ constructor: 'x', d: new Date(1) })).toEqual({ constructor: 'x', d: new Date(1) })
    expect(lab.seen).toEqual([{ constructor: 'x', d: new Date(1) }])
    await inv.check({ openConnections: 1 })
  })

  it('a Date under a constructor key needs a path through it, which no decoder follows: INTERNAL, the connection lives', async () => {
    const { url, inv } = await setup()
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'call', id: 1, method: 'query', path: 'dateUnderConstructor' })
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', id: 1, code: 'INTERNAL', message: 'The result could not be serialized' })
    await stillServes(peer, 2)
    await inv.check()
  })
})

describe('an event id not in the form the channel writes is not one of its ids: resync', () => {
  it.each([
    ['leading zeros', 'e.00001'],
    ['a leading zero', 'e.01'],
    ['a zero-padded newest id', 'e.003'],
    ['another epoch (the same reaction)', 'other.1'],
  ])('lastEventId %s (%s): started at the newest event, resync, then live events', async (_name, lastEventId) => {
    const { url, inv } = await setup()
    for (let i = 1; i <= 3; i++) lab.channel.publish(i)
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'subscribe', id: 1, path: 'feed', lastEventId })
    await peer.next((m) => m.type === 'resync')
    await waitUntil(() => lab.channel.subscriberCount === 1, 'the subscriber to wait for live events')
    lab.channel.publish(4)
    await peer.next((m) => m.type === 'data')
    expect(peer.messages.slice(1)).toEqual([
      { type: 'started', id: 1, eventId: 'e.3' },
      { type: 'resync', id: 1, reason: 'unknown-id' },
      { type: 'data', id: 1, eventId: 'e.4', data: 4 },
    ])
    await inv.check()
  })

  it('the canonical id e.1 resumes: events 2 and 3 are replayed, no resync', async () => {
    const { url, inv } = await setup()
    for (let i = 1; i <= 3; i++) lab.channel.publish(i)
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'subscribe', id: 1, path: 'feed', lastEventId: 'e.1' })
    await peer.next((m) => m.eventId === 'e.3' && m.type === 'data')
    expect(peer.messages.slice(1)).toEqual([
      { type: 'started', id: 1, eventId: 'e.1' },
      { type: 'data', id: 1, eventId: 'e.2', data: 2 },
      { type: 'data', id: 1, eventId: 'e.3', data: 3 },
    ])
    await inv.check()
  })
})

describe('circular values, per serializer', () => {
  const loop = () => {
    const value: Record<string, unknown> = { name: 'loop', at: new Date(0) }
    value.self = value
    return value
  }

  it.each<[string, Serializer | undefined]>([
    ['the default serializer', undefined],
    ['superjsonSerializer(instance)', superjsonSerializer(new SuperJSON())],
  ])('%s sends a circular result and a circular input as a reference, and the cycle is revived', async (_name, serializer) => {
    const { url, inv, client } = await setup(serializer === undefined ? {} : { serializer })
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'call', id: 1, method: 'query', path: 'circular' })
    expect(await peer.next((m) => m.id === 1)).toEqual({
      type: 'result',
      id: 1,
      data: { name: 'loop', at: '1970-01-01T00:00:00.000Z', self: null },
      meta: { values: { at: ['Date'] }, referentialEqualities: [['self']], v: 1 },
    })
    const api = client()
    const result = (await api.circular.query()) as Record<string, unknown>
    expect(result.self).toBe(result)
    const echoed = (await api.echo.mutate(loop())) as Record<string, unknown>
    const seen = lab.seen[0] as Record<string, unknown>
    expect(seen.self).toBe(seen)
    expect(seen.at).toEqual(new Date(0))
    expect(echoed.self).toBe(echoed)
    await inv.check({ openConnections: 1 })
  })

  it('jsonSerializer refuses a circular result: INTERNAL "The result could not be serialized", the connection lives', async () => {
    const { url, inv } = await setup({ serializer: jsonSerializer })
    const peer = inv.hostile(await readyPeer(url))
    peer.send({ type: 'call', id: 1, method: 'query', path: 'circular' })
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', id: 1, code: 'INTERNAL', message: 'The result could not be serialized' })
    await stillServes(peer, 2)
    await inv.check()
  })

  it('jsonSerializer refuses a circular input in the client: BAD_REQUEST "The input could not be serialized", nothing is sent', async () => {
    const { inv, client } = await setup({ serializer: jsonSerializer })
    const api = client()
    expect(await api.ok.query()).toBe('ok')
    const error = await rpcErrorOf(api.echo.mutate(loop()))
    expect([error.code, error.message]).toEqual(['BAD_REQUEST', 'The input could not be serialized'])
    expect(error.cause).toBeInstanceOf(TypeError)
    expect(lab.runs).toBe(0)
    expect(await api.ok.query()).toBe('ok')
    await inv.check({ openConnections: 1 })
  })
})
