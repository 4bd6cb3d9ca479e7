import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import SuperJSON from 'superjson'
import { checkPayload, defaultSerializer, payloadLimitDefaults, RpcError, superjsonSerializer, type PayloadLimits } from '@wirecall/core'

/**
 * `checkPayload`: the bounds a server puts on what untrusted peers send,
 * checked before superjson walks it. Accepted payloads are real superjson
 * output; refused ones are hand-made the way a hostile peer would make
 * them, as JSON text parsed the way the server parses it.
 */

interface Payload {
  json: unknown
  meta?: unknown
}

/** `value` as it arrives at the server: superjson output through JSON text. */
function wire(value: unknown, instance: { serialize(v: unknown): Payload } = SuperJSON as never): Payload {
  return JSON.parse(JSON.stringify(instance.serialize(value))) as Payload
}

/** A hand-made payload, parsed from JSON text as the server would (own `__proto__` keys and all). */
function hostile(text: string): Payload {
  return JSON.parse(text) as Payload
}

function accepts(payload: Payload, limits?: PayloadLimits): void {
  expect(() => checkPayload(payload.json, payload.meta, limits)).not.toThrow()
}

/** The error `checkPayload` refuses `payload` with, checked to be BAD_REQUEST. */
function refusal(payload: Payload, limits?: PayloadLimits): RpcError {
  try {
    checkPayload(payload.json, payload.meta, limits)
  } catch (error) {
    expect(error).toBeInstanceOf(RpcError)
    expect((error as RpcError).code).toBe('BAD_REQUEST')
    return error as RpcError
  }
  throw new Error(`expected checkPayload to refuse ${JSON.stringify(payload).slice(0, 200)}`)
}

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now()
  const result = run()
  return { result, ms: performance.now() - start }
}

/** `depth` arrays nested in one another, built without recursion. */
function nestedArrays(depth: number, leaf: unknown = 1): unknown {
  let value = leaf
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort()
afterEach(() => {
  // Nothing any test does may leave a trace on Object.prototype.
  expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys)
})

class Point {
  constructor(
    public x = 0,
    public y = 0,
  ) {}
}
const registered = new SuperJSON()
registered.registerClass(Point, 'Point')
const ticket = Symbol('ticket')
registered.registerSymbol(ticket, 'ticket')
class Money {
  constructor(readonly cents: number) {}
}
registered.registerCustom<Money, string>(
  { isApplicable: (v): v is Money => v instanceof Money, serialize: (v) => String(v.cents), deserialize: (s) => new Money(Number(s)) },
  'money',
)

describe('payloadLimitDefaults', () => {
  it('are the documented bounds, and frozen', () => {
    expect(payloadLimitDefaults).toEqual({ maxDepth: 64, maxBigIntDigits: 1_000, maxReferencePaths: 1_000, allowAnnotations: [] })
    expect(Object.isFrozen(payloadLimitDefaults)).toBe(true)
    expect(Object.isFrozen(payloadLimitDefaults.allowAnnotations)).toBe(true)
  })
})

describe('checkPayload: depth', () => {
  it('accepts primitives and plain JSON without meta', () => {
    for (const json of [undefined, null, true, 0, 'x', [], {}, { a: [1, { b: 'c' }] }]) accepts({ json })
  })

  it('accepts 64 levels and refuses 65, in arrays and in objects', () => {
    accepts({ json: nestedArrays(64) })
    expect(refusal({ json: nestedArrays(65) }).message).toMatch(/nested deeper than 64 levels/)
    const objects = (depth: number) => JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth)) as unknown
    accepts({ json: objects(64) })
    refusal({ json: objects(65) })
  })

  it('counts levels under an own __proto__ key like any other (it is data, walked as such)', () => {
    const underProto = (depth: number) => JSON.parse(`{"__proto__":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`) as unknown
    accepts({ json: underProto(64) })
    expect(refusal({ json: underProto(65) }).message).toMatch(/nested deeper than 64 levels/)
  })

  it('refuses 100,000 levels from JSON.parse without overflowing the stack, at once', () => {
    // JSON.parse itself copes with this on Node 20 (it is not recursive); superjson and validators are.
    const json = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown
    const { result, ms } = timed(() => {
      try {
        checkPayload(json, undefined)
      } catch (error) {
        return error
      }
    })
    expect(result).toBeInstanceOf(RpcError)
    expect((result as RpcError).code).toBe('BAD_REQUEST')
    expect(ms).toBeLessThan(50)
    // The same with meta: the depth bound comes first.
    refusal({ json, meta: { values: { 0: ['Date'] }, v: 1 } })
  })

  it('takes maxDepth from the limits', () => {
    refusal({ json: nestedArrays(9) }, { maxDepth: 8 })
    accepts({ json: nestedArrays(100) }, { maxDepth: 100 })
    refusal({ json: [] }, { maxDepth: 0 })
    accepts({ json: 'flat' }, { maxDepth: 0 })
  })

  it('walks a wide payload in linear time', () => {
    const json = JSON.parse(JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ id: i, tags: ['a', 'b'], at: { n: i } })))) as unknown
    const { ms } = timed(() => checkPayload(json, undefined))
    expect(ms).toBeLessThan(200)
  })

  it('bounds annotation paths by maxDepth too, so a deep meta is refused without recursion', () => {
    // 100,000 nested objects in meta.values over a json of 64 (a path to match as far as it goes).
    const deepTree = '{"a":'.repeat(100_000) + '["Date"]' + '}'.repeat(100_000)
    const deepJson = '{"a":'.repeat(64) + '"x"' + '}'.repeat(64)
    const payload = hostile(`{"json":${deepJson},"meta":{"values":${deepTree},"v":1}}`)
    const { result, ms } = timed(() => refusal(payload))
    expect(result.message).toMatch(/deeper than the depth limit/)
    expect(ms).toBeLessThan(50)
    // One path of 100,000 segments.
    expect(refusal({ json: {}, meta: { values: { ['a.'.repeat(100_000) + 'a']: ['Date'] }, v: 1 } }).message).toMatch(/deeper/)
    expect(refusal({ json: {}, meta: { referentialEqualities: { ['a.'.repeat(100_000) + 'a']: ['b'] }, v: 1 } }).message).toMatch(/deeper/)
  })

  it('accepts superjson output for values as deep as maxDepth allows (the meta tree nests twice as deep)', () => {
    let value: unknown = new Date(0)
    for (let i = 0; i < 40; i++) value = new Set([value])
    accepts(wire(value))
    let mapped: unknown = 1n
    for (let i = 0; i < 31; i++) mapped = new Map([['k', mapped]])
    accepts(wire(mapped)) // 62 levels of json
  })
})

describe('checkPayload: annotations', () => {
  it('accepts real superjson output of the default types', () => {
    const shared = { id: 1 }
    for (const value of [
      new Date(0),
      new Map<unknown, unknown>([
        [new Date(0), { n: 1n }],
        ['k', new Set([1, 2])],
      ]),
      new Set([new Date(1), undefined, 3n]),
      12345678901234567890n,
      [undefined, NaN, -0, Infinity, -Infinity],
      { a: undefined, b: { c: undefined, d: [new Date(2)] } },
      new URL('https://example.com/a?b=c'),
      { u8: new Uint8Array([1, 2]), f64: new Float64Array([1.5, NaN]), i32: new Int32Array([-1]) },
      { 'a.b': new Date(0), 'c\\d': 1n, '': 2n, '.': 3n, '\\.': 4n, 0: 5n, '01': 6n },
      { first: shared, again: [shared], inMap: new Map([[shared, shared]]), inSet: new Set([shared]) },
      [new Map([[1n, new Set([new Map([['deep', new Date(3)]])])]])],
    ]) {
      accepts(wire(value))
    }
  })

  it("accepts wirecall's float-array transforms, which are custom annotations", () => {
    const payload = JSON.parse(JSON.stringify(defaultSerializer.serialize({ a: new Float32Array([NaN, -0]), b: new Float64Array([Infinity]) }))) as Payload
    expect(JSON.stringify(payload.meta)).toContain('wirecall.Float32Array')
    accepts(payload)
    expect(defaultSerializer.deserialize(payload)).toEqual({ a: new Float32Array([NaN, -0]), b: new Float64Array([Infinity]) })
  })

  it.each([
    ['regexp', /a+$/giu],
    ['Error', new Error('boom', { cause: new TypeError('inner') })],
    ['class', new Point(1, 2)],
    ['symbol', ticket],
    ['custom', new Money(250)],
  ] as const)('refuses %s by default and accepts it when allowed', (annotation, value) => {
    const payload = wire({ value }, registered)
    expect(refusal(payload).message).toMatch(new RegExp(`annotation "${annotation}" is not accepted`))
    accepts(payload, { allowAnnotations: [annotation] })
    // Allowing another kind does not allow this one.
    refusal(payload, { allowAnnotations: annotation === 'regexp' ? ['Error'] : ['regexp'] })
  })

  it.each([
    ['a name superjson finds on Object.prototype', '"constructor"'],
    ['toString', '"toString"'],
    ['__proto__', '"__proto__"'],
    ['an unknown name', '"Symbol"'],
    ['a number', '5'],
    ['null', 'null'],
    ['an object', '{}'],
    ['a one-element tuple', '["class"]'],
    ['a tuple with a non-string name', '["class",5]'],
    ['an unknown tuple', '["bogus","x"]'],
    ['an unknown typed array', '["typed-array","BigInt64Array"]'],
    ['a typed array named constructor', '["typed-array","constructor"]'],
  ])('refuses an unknown annotation: %s', (_name, annotation) => {
    expect(refusal(hostile(`{"json":{"a":[1]},"meta":{"values":{"a":[${annotation}]},"v":1}}`)).message).toMatch(/unknown annotation/)
  })

  it('refuses custom annotations other than wirecall\'s unless "custom" is allowed', () => {
    const payload = hostile('{"json":["1"],"meta":{"values":[["custom","wirecall.Float16Array"]],"v":1}}')
    refusal(payload)
    accepts(payload, { allowAnnotations: ['custom'] })
  })

  it('refuses a typed array revived from a number (new Uint8Array(2 ** 32) allocates 4 GB)', () => {
    expect(refusal(hostile('{"json":4294967296,"meta":{"values":[["typed-array","Uint8Array"]],"v":1}}')).message).toMatch(/not an array/)
    refusal(hostile('{"json":{"a":"1000000000"},"meta":{"values":{"a":[["custom","wirecall.Float64Array"]]},"v":1}}'))
  })

  it.each([
    ['a string', '"x"'],
    ['null', 'null'],
    ['a number', '5'],
    ['an empty tuple', '[]'],
    ['a tuple with three elements', '["Date",{},1]'],
    ['a tuple with array children', '["set",[["Date"]]]'],
    ['a tuple with string children', '["set","x"]'],
  ])('refuses a malformed tree: %s', (_name, tree) => {
    refusal(hostile(`{"json":["2020-01-01T00:00:00.000Z"],"meta":{"values":${tree},"v":1}}`))
  })

  it('refuses `values: "x"`, which sends superjson itself into unbounded recursion', () => {
    const payload = hostile('{"json":1,"meta":{"values":"x","v":1}}')
    expect(() => SuperJSON.deserialize(payload as never)).toThrow(RangeError)
    refusal(payload)
  })

  it.each([
    [' an inherited property', '{"json":{},"meta":{"values":{"toString":["Date"]},"v":1}}'],
    ['a missing key', '{"json":{"a":1},"meta":{"values":{"b":["Date"]},"v":1}}'],
    ['an index written as 01', '{"json":["x","1"],"meta":{"values":{"01":["bigint"]},"v":1}}'],
    ['an index written as 0x1', '{"json":["x","1"],"meta":{"values":{"0x1":["bigint"]},"v":1}}'],
    ['an index out of range', '{"json":["1"],"meta":{"values":{"1":["bigint"]},"v":1}}'],
    ['a path into a string', '{"json":{"a":"123"},"meta":{"values":{"a.0":["bigint"]},"v":1}}'],
  ])('refuses an annotation path that does not lead to a value of json:%s', (_name, text) => {
    expect(refusal(hostile(text)).message).toMatch(/does not match the payload/)
  })

  it('refuses annotations applied through a value superjson already revived (a deduped Set shifts positions)', () => {
    // superjson applies "a" first (a Set of "1" and the long string), then
    // "a.1" through the Set: its second entry is the long string, not json.a[1].
    const long = '9'.repeat(100_000)
    const payload = hostile(`{"json":{"a":["1","1","${long}"]},"meta":{"values":{"a":["set"],"a.1":["bigint"]},"v":1}}`)
    expect(refusal(payload).message).toMatch(/overlap/)
    // Children inside the node's own tuple are applied first, which is how superjson writes them.
    accepts(hostile('{"json":{"a":["1","2"]},"meta":{"values":{"a":["set",{"1":["bigint"]}]},"v":1}}'))
  })

  it('refuses two annotations on one value ("number" then "typed-array" would be new Float64Array(1e9))', () => {
    const payload = hostile(
      '{"json":{"a":{"b":["1000000000"]}},"meta":{"values":{"a":{"b":["number"]},"a.b":[["typed-array","Float64Array"]]},"v":1}}',
    )
    expect(refusal(payload).message).toMatch(/overlap/)
  })
})

describe('checkPayload: bigints', () => {
  it('refuses a bigint of a million digits in well under 50 ms', () => {
    const payload = { json: { n: '9'.repeat(1_000_000) }, meta: { values: { n: ['bigint'] }, v: 1 } }
    const { result, ms } = timed(() => refusal(payload))
    expect(result.message).toMatch(/bigint longer than 1000 digits/)
    expect(ms).toBeLessThan(50)
  })

  it('accepts maxBigIntDigits digits with a sign and refuses one more', () => {
    accepts(wire(-(10n ** 999n))) // 1,000 digits
    accepts(wire(10n ** 999n))
    refusal(wire(10n ** 1_000n))
    accepts(wire(10n ** 1_000n), { maxBigIntDigits: 1_001 })
    accepts({ json: '+12', meta: { values: ['bigint'], v: 1 } })
  })

  it('refuses a bigint inside a Map key found through the annotation tree', () => {
    expect(refusal(wire(new Map([[10n ** 2_000n, 'big']]))).message).toMatch(/bigint longer/)
  })

  it.each([
    ['a number', '123'],
    ['an array (BigInt() joins it)', '["123"]'],
    ['a hex string', '"0xff"'],
    ['an empty string', '""'],
    ['a sign alone', '"-"'],
    ['whitespace', '" 5 "'],
    ['a fraction', '"1.5"'],
  ])('refuses a bigint that is not a decimal string: %s', (_name, json) => {
    refusal(hostile(`{"json":${json},"meta":{"values":["bigint"],"v":1}}`))
  })
})

describe('checkPayload: reference paths', () => {
  it('accepts superjson references: shared objects, Map keys and values, a circular root', () => {
    const shared = { id: 1 }
    accepts(wire({ a: shared, b: [shared], m: new Map([[shared, shared]]), s: new Set([shared]) }))
    const circular: Record<string, unknown> = { name: 'loop' }
    circular.self = circular
    const payload = wire({ circular, more: circular })
    accepts(payload)
    const root: Record<string, unknown> = { at: new Date(0) }
    root.self = root
    const rootPayload = wire(root)
    expect(Array.isArray((rootPayload.meta as { referentialEqualities: unknown }).referentialEqualities)).toBe(true)
    accepts(rootPayload)
  })

  it('accepts maxReferencePaths paths and refuses one more (keys and values count)', () => {
    const shared = { id: 1 }
    const payload = wire({ list: Array.from({ length: 1_000 }, () => shared) }) // "list.0" + 999 paths
    accepts(payload)
    expect(refusal(wire({ list: Array.from({ length: 1_001 }, () => shared) })).message).toMatch(/more than 1000 reference paths/)
    refusal(payload, { maxReferencePaths: 999 })
    accepts(wire({ list: Array.from({ length: 1_001 }, () => shared) }), { maxReferencePaths: 1_001 })
  })

  it('refuses a table of 100,000 paths in well under 50 ms, in every form superjson reads', () => {
    const json = { a: { x: 1 }, b: {} }
    const paths = Array.from({ length: 100_000 }, (_, i) => `b.k${i}`)
    const forms = [
      { a: paths },
      [paths],
      [['b'], { a: paths }],
      Object.fromEntries(paths.map((p) => [p, []])),
    ]
    for (const referentialEqualities of forms) {
      const meta = JSON.parse(JSON.stringify({ referentialEqualities, v: 1 })) as unknown
      const { result, ms } = timed(() => refusal({ json, meta }))
      expect(result.message).toMatch(/more than 1000 reference paths/)
      expect(ms).toBeLessThan(50)
    }
  })

  it('refuses paths that walk far into a Set or Map (superjson finds the n-th entry by walking n)', () => {
    // 999 paths to the last entries of a 250,000-entry Set: ~250 million steps
    // in superjson (about half a second), though within maxReferencePaths.
    const size = 250_000
    const json = { s: Array.from({ length: size }, (_, i) => i), b: {} }
    const meta = { values: { s: ['set'] }, referentialEqualities: { b: Array.from({ length: 999 }, (_, i) => `s.${size - 1 - i}`) }, v: 1 }
    const { result, ms } = timed(() => refusal({ json, meta }))
    expect(result.message).toMatch(/too far into Sets and Maps/)
    expect(ms).toBeLessThan(50)
    // A Map costs its row; the same paths near the front are fine.
    accepts({ json, meta: { ...meta, referentialEqualities: { b: Array.from({ length: 999 }, (_, i) => `s.${i}`) } } })
    const mapJson = { m: Array.from({ length: size }, (_, i) => [i, i]), b: {} }
    const mapRefs = { b: Array.from({ length: 999 }, (_, i) => `m.${size - 1 - i}.1`) }
    refusal({ json: mapJson, meta: { values: { m: ['map'] }, referentialEqualities: mapRefs, v: 1 } })
    // A Map path must name key (0) or value (1) after the row.
    refusal({ json: mapJson, meta: { values: { m: ['map'] }, referentialEqualities: { b: ['m.0'] }, v: 1 } })
    refusal({ json: mapJson, meta: { values: { m: ['map'] }, referentialEqualities: { b: ['m.0.2'] }, v: 1 } })
  })

  it.each([
    ['an inherited property (superjson would copy Object.prototype.toString into the input)', { x: ['toString'] }],
    ['a missing key', { x: ['nope'] }],
    ['an index written as 01', { x: ['list.01'] }],
    ['a path through a primitive', { x: ['x.y'] }],
  ])('refuses a reference path that does not lead to a value of json: %s', (_name, referentialEqualities) => {
    const json = { x: 'str', list: [{}, {}] }
    expect(refusal({ json, meta: { referentialEqualities, v: 1 } }).message).toMatch(/does not match the payload/)
  })

  it.each([
    ['a string', '"x"'],
    ['null', 'null'],
    ['an array of three', '[[],{},{}]'],
    ['an array whose root list is not an array', '["a"]'],
    ['an array whose table is not an object', '[[],"x"]'],
    ['a table entry that is not an array', '{"a":"b"}'],
    ['a path that is not a string', '{"a":[5]}'],
  ])('refuses a malformed table: %s', (_name, table) => {
    refusal(hostile(`{"json":{"a":{},"b":{}},"meta":{"referentialEqualities":${table},"v":1}}`))
  })
})

describe('checkPayload: prototype keys in meta paths', () => {
  const forbidden = ['__proto__', 'prototype', 'constructor']

  it.each(forbidden)('refuses %s as a segment of an annotation path, anywhere in the tree', (segment) => {
    const json = JSON.parse(`{"a":{"${segment}":{"b":"2020-01-01T00:00:00.000Z"}}}`) as unknown
    for (const values of [
      `{"${segment}":["Date"]}`,
      `{"a.${segment}.b":["Date"]}`,
      `{"a":{"${segment}":{"b":["Date"]}}}`,
      `["map",{"${segment}":["Date"]}]`,
    ]) {
      expect(refusal({ json, meta: JSON.parse(`{"values":${values},"v":1}`) as unknown }).message).toMatch(
        new RegExp(`segment "${segment}" is not allowed`),
      )
    }
    // Legacy paths (no `v`) too.
    refusal({ json, meta: JSON.parse(`{"values":{"a.${segment}.b":["Date"]}}`) as unknown })
  })

  it.each(forbidden)('refuses %s in reference paths, as key or value', (segment) => {
    const json = { a: {}, b: {} }
    refusal({ json, meta: { referentialEqualities: JSON.parse(`{"${segment}":["a"]}`) as unknown, v: 1 } })
    refusal({ json, meta: { referentialEqualities: { a: [`b.${segment}`] }, v: 1 } })
    refusal({ json, meta: { referentialEqualities: [[`${segment}.x`]], v: 1 } })
  })

  it('reads segments as superjson does: an escaped dot makes one segment, so "a\\.__proto__" is harmless', () => {
    accepts({ json: { 'a.__proto__': '2020-01-01T00:00:00.000Z' }, meta: { values: { 'a\\.__proto__': ['Date'] }, v: 1 } })
    accepts(wire({ 'x.__proto__': new Date(0) }))
  })

  it('refuses escapes superjson refuses, and reads legacy paths (no v) the legacy way', () => {
    const json = { 'c\\d': '1' }
    expect(refusal({ json, meta: { values: { 'c\\d': ['bigint'] }, v: 1 } }).message).toMatch(/malformed path/)
    accepts({ json, meta: { values: { 'c\\d': ['bigint'] } } })
    accepts({ json, meta: { values: { 'c\\\\d': ['bigint'] }, v: 1 } })
  })
})

describe('checkPayload: meta', () => {
  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'x'],
    ['a number', 1],
  ])('refuses a meta that is %s', (_name, meta) => {
    expect(refusal({ json: 1, meta }).message).toMatch(/meta must be an object/)
  })

  it('refuses a non-numeric v and ignores keys superjson does not read', () => {
    refusal({ json: 1, meta: { v: '1' } })
    accepts({ json: 1, meta: {} })
    accepts({ json: 1, meta: { v: 1, extra: { whatever: true } } })
  })

  it('throws nothing but RpcError, whatever it is handed', () => {
    const throwing = {
      get a(): unknown {
        throw new Error('getter')
      },
    }
    const error = refusal({ json: throwing })
    expect(error.message).toMatch(/malformed/)
    refusal({ json: { a: 1 }, meta: { values: { a: ['Date'] }, get v(): number {
      throw new Error('getter')
    } } })
    // A cycle from an in-process caller is refused at maxDepth, not walked forever.
    const cycle: unknown[] = []
    cycle.push(cycle)
    refusal({ json: cycle })
  })
})

describe('checkPayload: properties', () => {
  const forbidden = new Set(['__proto__', 'prototype', 'constructor'])
  const key = fc.oneof(
    fc.string({ maxLength: 5 }).filter((k) => !forbidden.has(k)),
    fc.constantFrom('a.b', 'c\\d', '', '.', '\\', '\\.', '0', '01', '10'),
  )
  const leaf = fc.oneof(
    fc.string({ maxLength: 5 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }),
    fc.date({ noInvalidDate: true }),
    fc.constant(new URL('https://example.com/a?b=c')),
    fc.float32Array({ maxLength: 3 }),
    fc.float64Array({ maxLength: 3 }),
    fc.uint8Array({ maxLength: 3 }),
    fc.int16Array({ maxLength: 3 }),
  )
  const { value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof({ depthSize: 'small', maxDepth: 5 }, leaf, tie('array'), tie('object'), tie('set'), tie('map'), tie('shared')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
    set: fc.array(tie('value'), { maxLength: 4 }).map((items) => new Set(items)),
    map: fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((entries) => new Map(entries)),
    shared: tie('value').map((v) => ({ first: v, again: [v], inSet: new Set([v]) })),
  }))

  it('accepts whatever the default serializer makes of values of the accepted types', () => {
    fc.assert(
      fc.property(value, (v) => {
        const payload = JSON.parse(JSON.stringify(defaultSerializer.serialize(v))) as Payload
        checkPayload(payload.json, payload.meta)
        // Not followed by deserialize: superjson cannot always revive its own
        // output (a reference that replaces a Map key moves that entry to the
        // end, and later positional paths then miss).
      }),
      { numRuns: 500 },
    )
  })

  const segment = fc.constantFrom('a', 'b', '0', '1', '01', '2', '__proto__', 'constructor', 'toString', '', 'a.b', 'a\\.b', '\\', '0.1', '1.0')
  const annotation = fc.oneof(
    fc.constantFrom('undefined', 'bigint', 'Date', 'regexp', 'set', 'map', 'Error', 'URL', 'number', 'constructor', 'toString'),
    fc.tuple(
      fc.constantFrom('class', 'symbol', 'custom', 'typed-array', 'x'),
      fc.constantFrom('Float64Array', 'Uint8Array', 'wirecall.Float32Array', 'Point', 'constructor'),
    ),
    fc.jsonValue({ maxDepth: 2 }),
  )
  const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      fc.tuple(annotation),
      fc.tuple(annotation, fc.dictionary(segment, tie('tree'), { maxKeys: 3 })),
      fc.dictionary(segment, tie('tree'), { maxKeys: 3 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  }))
  const paths = fc.array(segment, { maxLength: 3 })
  const references = fc.oneof(fc.dictionary(segment, paths, { maxKeys: 3 }), fc.tuple(paths, fc.dictionary(segment, paths, { maxKeys: 3 })), fc.jsonValue({ maxDepth: 2 }))
  const meta = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({ values: tree, referentialEqualities: references, v: fc.oneof(fc.constant(1), fc.constant(0), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }),
  )
  const { json } = fc.letrec<{ json: unknown }>((tie) => ({
    json: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom('1', '-12', '2020-01-01T00:00:00.000Z', 'NaN', '/a+/g'),
      fc.array(tie('json'), { maxLength: 3 }),
      fc.dictionary(segment, tie('json'), { maxKeys: 3 }),
    ),
  }))

  it('throws only BAD_REQUEST RpcErrors on arbitrary json and meta; what it accepts, superjson revives without harm', () => {
    fc.assert(
      fc.property(json, meta, (json, meta) => {
        // Through JSON text, as from the wire (own __proto__ keys included).
        const payload = JSON.parse(JSON.stringify({ json, meta })) as Payload
        let accepted = true
        try {
          checkPayload(payload.json, payload.meta)
        } catch (error) {
          expect(error).toBeInstanceOf(RpcError)
          expect((error as RpcError).code).toBe('BAD_REQUEST')
          accepted = false
        }
        if (accepted && payload.meta !== undefined) {
          try {
            defaultSerializer.deserialize(payload)
          } catch (error) {
            // superjson may still refuse (an invalid URL, say), but never by overflowing or allocating.
            expect(error).not.toBeInstanceOf(RangeError)
          }
        }
        expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('superjsonSerializer and hostile data', () => {
  // A superjson instance of the app's own: without one, superjsonSerializer() is the compact codec (tested in compact-serializer.test.ts).
  const serializer = superjsonSerializer(new SuperJSON())

  it('passes an own __proto__ key through as data, without touching Object.prototype', () => {
    const json = JSON.parse('{"__proto__":{"polluted":1},"a":1}') as Record<string, unknown>
    const plain = serializer.deserialize({ json }) as Record<string, unknown>
    // No meta: the JSON is handed over as parsed, with its own "__proto__" key.
    expect(Object.keys(plain)).toEqual(['__proto__', 'a'])
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype)
    expect(plain.polluted).toBeUndefined()
    accepts({ json })
  })

  it('drops own __proto__ keys when superjson revives the payload', () => {
    const json = JSON.parse('{"__proto__":{"polluted":1},"at":"2020-01-01T00:00:00.000Z","m":[["k",{"__proto__":{"polluted":2}}]]}') as unknown
    const meta = { values: { at: ['Date'], m: ['map'] }, v: 1 }
    accepts({ json, meta })
    const revived = serializer.deserialize({ json, meta }) as { at: Date; m: Map<string, object> }
    expect(Object.keys(revived)).toEqual(['at', 'm'])
    expect(revived.at).toEqual(new Date('2020-01-01T00:00:00.000Z'))
    expect(Object.keys(revived.m.get('k')!)).toEqual([])
    expect(Object.getPrototypeOf(revived.m.get('k'))).toBe(Object.prototype)
  })

  it('superjson refuses constructor/prototype/__proto__ keys only when it walks the value: plain JSON skips it', () => {
    // JSON-plain: the fast path sends it as it is and superjson never sees it.
    expect(serializer.serialize({ constructor: 'x' })).toEqual({ json: { constructor: 'x' } })
    // Beside a Date, superjson walks it and throws; the server answers that call with INTERNAL.
    expect(() => serializer.serialize({ constructor: 'x', at: new Date(0) })).toThrow(/Detected property constructor/)
    expect(() => serializer.serialize({ nested: { prototype: 1 }, n: 1n })).toThrow(/Detected property prototype/)
  })

  it('superjson serializes a circular object (as a reference), it does not throw', () => {
    const circular: Record<string, unknown> = { name: 'loop' }
    circular.self = circular
    const payload = serializer.serialize(circular)
    expect(payload).toEqual({ json: { name: 'loop', self: null }, meta: { referentialEqualities: [['self']], v: 1 } })
    const wired = JSON.parse(JSON.stringify(payload)) as Payload
    accepts(wired)
    const revived = serializer.deserialize(wired) as Record<string, unknown>
    expect(revived.self).toBe(revived)
  })
})
