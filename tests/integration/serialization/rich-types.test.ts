import { describe, expect, expectTypeOf, it } from 'vitest'
import SuperJSON from 'superjson'
import { initRpc, jsonSerializer, superjsonSerializer, type StandardSchemaV1 } from '@wirecall/core'
import { connectClient, readyPeer, startServer } from '../../helpers/harness'

/**
 * Rich types through the default serializer (superjson): what the client
 * sends is what the resolver sees (same classes, same values), and what the
 * resolver returns is what the caller gets. Every echo procedure records its
 * input server-side, so each test checks the server's view too.
 */

/**
 * A Standard Schema that accepts anything and changes nothing: the resolver
 * sees exactly what the serializer revived (a procedure without an input
 * schema would get `undefined`).
 */
function anything<T>(): StandardSchemaV1<T, T> {
  return { '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: value as T }) } }
}

const rpc = initRpc.create()
/** Inputs as the resolvers saw them, most recent last. */
const seen: unknown[] = []
const lastSeen = () => seen[seen.length - 1]

const echo = <T>() =>
  rpc.procedure.input(anything<T>()).mutation(({ input }) => {
    seen.push(input)
    return input
  })

class Money {
  constructor(
    readonly cents: bigint,
    readonly currency: string,
  ) {}
  format(): string {
    return `${this.cents} ${this.currency}`
  }
}

const router = rpc.router({
  date: echo<Date>(),
  dates: echo<Date[]>(),
  map: echo<Map<unknown, unknown>>(),
  set: echo<Set<unknown>>(),
  bigints: echo<bigint[]>(),
  maybe: echo<string | undefined>(),
  holey: echo<{ a: undefined; b: number; nested: { c: undefined; d: string } }>(),
  sparse: echo<(number | undefined)[]>(),
  numbers: echo<number[]>(),
  url: echo<URL>(),
  typed: echo<{
    u8: Uint8Array
    i8: Int8Array
    u8c: Uint8ClampedArray
    u16: Uint16Array
    i16: Int16Array
    u32: Uint32Array
    i32: Int32Array
    f32: Float32Array
    f64: Float64Array
  }>(),
  floats: echo<{ f32: Float32Array; f64: Float64Array }>(),
  combo: echo<{
    byDay: Map<string, Set<Date>>
    amounts: [bigint, { deeper: Map<bigint, URL> }]
    bytes: Uint8Array
    skipped: undefined
    flags: Set<number>
  }>(),
  json: echo<unknown>(),
  shared: echo<{ left: { at: Date }; right: { at: Date } }>(),
  money: echo<Money>(),
  nothing: rpc.procedure.query(() => undefined),
  serverMade: rpc.procedure.query(() => ({
    pattern: /^wire(call)?\/v\d+$/giu,
    dotAll: new RegExp('a.b', 's'),
    error: new Error('boom'),
    rangeError: new RangeError('out of range'),
    failures: [new Error('first'), new TypeError('second')],
  })),
})
type R = typeof router

async function setup() {
  const { url } = await startServer({ router })
  return connectClient<R>(url)
}

describe('rich types', () => {
  it('Date goes both ways', async () => {
    const api = await setup()
    const leap = new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789))
    const out = await api.date.mutate(leap)
    expectTypeOf(out).toEqualTypeOf<Date>()
    expect(lastSeen()).toBeInstanceOf(Date)
    expect((lastSeen() as Date).getTime()).toBe(leap.getTime())
    expect(out).toBeInstanceOf(Date)
    expect(out.getTime()).toBe(leap.getTime())

    const many = [new Date(0), new Date(-86_400_000 * 365), new Date(8.64e15)]
    const back = await api.dates.mutate(many)
    expect(back.map((d) => d instanceof Date && d.getTime())).toEqual(many.map((d) => d.getTime()))
    expect((lastSeen() as Date[]).every((d) => d instanceof Date)).toBe(true)
  })

  it('Map keeps non-string keys, entry order and rich values both ways', async () => {
    const api = await setup()
    const objectKey = { k: 1 }
    const map = new Map<unknown, unknown>([
      [1, 'one'],
      ['1', 'string one'],
      [objectKey, new Date(5)],
      [null, [1, 2]],
      [2n, new Set(['x'])],
    ])
    const out = await api.map.mutate(map)
    for (const value of [lastSeen(), out]) {
      expect(value).toBeInstanceOf(Map)
      const m = value as Map<unknown, unknown>
      expect([...m.keys()]).toEqual([1, '1', { k: 1 }, null, 2n])
      expect(m.get(1)).toBe('one')
      expect(m.get('1')).toBe('string one')
      expect(m.get(null)).toEqual([1, 2])
      expect(m.get(2n)).toEqual(new Set(['x']))
      const dateEntry = [...m.entries()][2]!
      expect(dateEntry[1]).toBeInstanceOf(Date)
      expect((dateEntry[1] as Date).getTime()).toBe(5)
    }
  })

  it('Set keeps members, order and their types both ways', async () => {
    const api = await setup()
    const set = new Set<unknown>([1, '1', 3n, new Date(7), null, undefined])
    const out = await api.set.mutate(set)
    for (const value of [lastSeen(), out]) {
      expect(value).toBeInstanceOf(Set)
      const members = [...(value as Set<unknown>)]
      expect(members).toHaveLength(6)
      expect(members.slice(0, 3)).toEqual([1, '1', 3n])
      expect(members[3]).toBeInstanceOf(Date)
      expect(members[4]).toBeNull()
      expect(members[5]).toBeUndefined()
      expect((value as Set<unknown>).has(undefined)).toBe(true)
    }
  })

  it('BigInt goes both ways, past 2^53 and negative', async () => {
    const api = await setup()
    const values = [0n, 1n, -1n, 2n ** 64n + 1n, -(2n ** 63n), BigInt(Number.MAX_SAFE_INTEGER) + 2n]
    const out = await api.bigints.mutate(values)
    expectTypeOf(out).toEqualTypeOf<bigint[]>()
    for (const value of [lastSeen() as unknown[], out]) {
      expect(value.every((v) => typeof v === 'bigint')).toBe(true)
      expect(value).toEqual(values)
    }
  })

  it('undefined at the top level: sent as no input, answered as no data', async () => {
    const api = await setup()
    const out = await api.maybe.mutate(undefined)
    expect(lastSeen()).toBeUndefined()
    expect(out).toBeUndefined()
    expect(await api.maybe.mutate('defined')).toBe('defined')
    expect(await api.nothing.query()).toBeUndefined()
  })

  it('undefined inside objects and arrays keeps its key and its slot', async () => {
    const api = await setup()
    const out = await api.holey.mutate({ a: undefined, b: 1, nested: { c: undefined, d: 'x' } })
    for (const value of [lastSeen() as typeof out, out]) {
      expect(Object.keys(value).sort()).toEqual(['a', 'b', 'nested'])
      expect('a' in value && value.a === undefined).toBe(true)
      expect(Object.keys(value.nested).sort()).toEqual(['c', 'd'])
      expect(value.nested.c).toBeUndefined()
    }
    const arr = await api.sparse.mutate([1, undefined, 3, undefined])
    for (const value of [lastSeen() as typeof arr, arr]) {
      expect(value).toHaveLength(4)
      expect(value[0]).toBe(1)
      expect(value[1]).toBeUndefined()
      expect(value[2]).toBe(3)
      expect(value[3]).toBeUndefined()
    }
  })

  it('NaN, Infinity, -Infinity and -0 survive both ways', async () => {
    const api = await setup()
    const values = [NaN, Infinity, -Infinity, -0, 0, Number.MAX_VALUE, Number.MIN_VALUE, -1.5]
    const out = await api.numbers.mutate(values)
    for (const value of [lastSeen() as number[], out]) {
      expect(value).toHaveLength(values.length)
      expect(Number.isNaN(value[0])).toBe(true)
      expect(value[1]).toBe(Infinity)
      expect(value[2]).toBe(-Infinity)
      expect(Object.is(value[3], -0)).toBe(true)
      expect(Object.is(value[4], 0)).toBe(true)
      expect(value.slice(5)).toEqual([Number.MAX_VALUE, Number.MIN_VALUE, -1.5])
    }
    // And as whole inputs and outputs.
    for (const scalar of [NaN, -0, Infinity, -Infinity, 7n]) {
      const back = await api.json.mutate(scalar)
      expect(Object.is(lastSeen(), scalar)).toBe(true)
      expect(Object.is(back, scalar)).toBe(true)
    }
  })

  it('URL goes both ways', async () => {
    const api = await setup()
    const url = new URL('https://user@example.com:8443/a/b?c=1&d=%20x#frag')
    const out = await api.url.mutate(url)
    expectTypeOf(out).toEqualTypeOf<URL>()
    for (const value of [lastSeen(), out]) {
      expect(value).toBeInstanceOf(URL)
      expect((value as URL).href).toBe(url.href)
      expect((value as URL).searchParams.get('d')).toBe(' x')
      expect((value as URL).port).toBe('8443')
    }
  })

  it('typed arrays go both ways with their class and contents', async () => {
    const api = await setup()
    const input = {
      u8: Uint8Array.from([0, 1, 127, 255]),
      i8: Int8Array.from([-128, -1, 0, 127]),
      u8c: Uint8ClampedArray.from([0, 200, 255]),
      u16: Uint16Array.from([0, 65_535]),
      i16: Int16Array.from([-32_768, 32_767]),
      u32: Uint32Array.from([0, 4_294_967_295]),
      i32: Int32Array.from([-2_147_483_648, 2_147_483_647]),
      f32: Float32Array.from([1.5, -2.25, 3.125]),
      f64: Float64Array.from([Math.PI, -Number.MAX_VALUE, Number.EPSILON]),
    }
    const out = await api.typed.mutate(input)
    expectTypeOf(out.u8).toEqualTypeOf<Uint8Array>()
    for (const value of [lastSeen() as typeof input, out]) {
      for (const key of Object.keys(input) as (keyof typeof input)[]) {
        expect(value[key]).toBeInstanceOf(input[key].constructor)
        expect([...value[key]]).toEqual([...input[key]])
      }
    }
  })

  it('float typed arrays keep NaN, Infinity, -Infinity and -0', async () => {
    const api = await setup()
    const input = {
      f32: Float32Array.from([NaN, Infinity, -Infinity, -0, 1]),
      f64: Float64Array.from([NaN, Infinity, -Infinity, -0, 1]),
    }
    const out = await api.floats.mutate(input)
    for (const value of [lastSeen() as typeof input, out]) {
      for (const array of [value.f32, value.f64]) {
        expect(array).toHaveLength(5)
        expect(Number.isNaN(array[0])).toBe(true)
        expect(array[1]).toBe(Infinity)
        expect(array[2]).toBe(-Infinity)
        expect(Object.is(array[3], -0)).toBe(true)
        expect(array[4]).toBe(1)
      }
      expect(value.f32).toBeInstanceOf(Float32Array)
      expect(value.f64).toBeInstanceOf(Float64Array)
    }
  })

  it('RegExp and Error go from server to client', async () => {
    const api = await setup()
    const out = await api.serverMade.query()
    expectTypeOf(out.pattern).toEqualTypeOf<RegExp>()
    expect(out.pattern).toBeInstanceOf(RegExp)
    expect(out.pattern.source).toBe('^wire(call)?\\/v\\d+$')
    expect(out.pattern.flags).toBe('giu')
    expect(new RegExp(out.pattern.source, 'iu').test('WIRECALL/v12')).toBe(true)
    expect(out.dotAll).toBeInstanceOf(RegExp)
    expect(out.dotAll.flags).toBe('s')
    expect(out.dotAll.test('a\nb')).toBe(true)

    expect(out.error).toBeInstanceOf(Error)
    expect(out.error.message).toBe('boom')
    expect(out.rangeError).toBeInstanceOf(Error)
    expect(out.rangeError.message).toBe('out of range')
    expect(out.rangeError.name).toBe('RangeError')
    expect(out.failures.map((e) => e instanceof Error && e.message)).toEqual(['first', 'second'])
  })

  it('nested combinations go both ways', async () => {
    const api = await setup()
    const input = {
      byDay: new Map([
        ['2024-01-01', new Set([new Date(0), new Date(1)])],
        ['2024-01-02', new Set<Date>()],
      ]),
      amounts: [10n ** 30n, { deeper: new Map([[2n, new URL('https://a.example/x')]]) }] as [bigint, { deeper: Map<bigint, URL> }],
      bytes: new Uint8Array([1, 2, 3]),
      skipped: undefined,
      flags: new Set([1, 2, 3]),
    }
    const out = await api.combo.mutate(input)
    expectTypeOf(out.byDay).toEqualTypeOf<Map<string, Set<Date>>>()
    for (const value of [lastSeen() as typeof input, out]) {
      expect(value).toEqual(input)
      const day = value.byDay.get('2024-01-01')!
      expect(day).toBeInstanceOf(Set)
      expect([...day].every((d) => d instanceof Date)).toBe(true)
      expect(typeof value.amounts[0]).toBe('bigint')
      expect(value.amounts[1].deeper.get(2n)).toBeInstanceOf(URL)
      expect(value.bytes).toBeInstanceOf(Uint8Array)
      expect('skipped' in value).toBe(true)
      expect(value.flags).toBeInstanceOf(Set)
    }
  })

  it('a repeated reference arrives as equal values', async () => {
    const api = await setup()
    const at = { at: new Date(99) }
    const out = await api.shared.mutate({ left: at, right: at })
    for (const value of [lastSeen() as typeof out, out]) {
      expect(value.left.at).toBeInstanceOf(Date)
      expect(value.right.at).toBeInstanceOf(Date)
      expect(value.left.at.getTime()).toBe(99)
      expect(value.right.at.getTime()).toBe(99)
    }
  })

  it('a plain JSON value round trips unchanged, and travels without serializer metadata', async () => {
    const api = await setup()
    const value = {
      text: 'héllo \u2028 "quoted" 😀',
      n: [0, 1, -1, 1.5, 1e21, -2e-7],
      flags: [true, false, null],
      nested: { empty: {}, list: [], deep: [[[{ x: 'y' }]]] },
    }
    const out = await api.json.mutate(value)
    expect(lastSeen()).toEqual(value)
    expect(Object.getPrototypeOf(lastSeen())).toBe(Object.prototype)
    expect(out).toEqual(value)
    expect(JSON.stringify(out)).toBe(JSON.stringify(value))

    // On the wire: plain JSON in `input`/`data`, and no `meta` either way.
    const peer = await readyPeer((await startServer({ router })).url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'json', input: value })
    const result = await peer.next((m) => m.id === 1)
    expect(result).toEqual({ type: 'result', id: 1, data: value })
    expect(lastSeen()).toEqual(value)
  })

  it('with jsonSerializer on both ends, values travel as plain JSON (no revival)', async () => {
    const { url } = await startServer({ router, serializer: jsonSerializer })
    const api = connectClient<R>(url, { serializer: jsonSerializer })
    const out: unknown = await api.date.mutate(new Date(0))
    expect(lastSeen()).toBe('1970-01-01T00:00:00.000Z')
    expect(out).toBe('1970-01-01T00:00:00.000Z')
    expect(await api.json.mutate({ a: [1, 'b', null] })).toEqual({ a: [1, 'b', null] })
  })

  it('a custom superjson instance carries a registered class both ways', async () => {
    const sj = new SuperJSON()
    sj.registerCustom<Money, { cents: string; currency: string }>(
      {
        isApplicable: (v): v is Money => v instanceof Money,
        serialize: (v) => ({ cents: v.cents.toString(), currency: v.currency }),
        deserialize: (v) => new Money(BigInt(v.cents), v.currency),
      },
      'Money',
    )
    const serializer = superjsonSerializer(sj)
    // Custom transforms from clients are refused unless the server opts in, registered or not (docs/security.md).
    const { url } = await startServer({ router, serializer, payloadLimits: { allowAnnotations: ['custom'] } })
    const api = connectClient<R>(url, { serializer })
    const out = await api.money.mutate(new Money(12_345n, 'EUR'))
    expect(lastSeen()).toBeInstanceOf(Money)
    expect(out).toBeInstanceOf(Money)
    expect(out.format()).toBe('12345 EUR')
  })
})
