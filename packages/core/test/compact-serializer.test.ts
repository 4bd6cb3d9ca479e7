import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import SuperJSON from 'superjson'
import { describe, expect, it } from 'vitest'
import { compactSerializer } from '../src/compact-serializer'
import { registerFloatArrays } from '../src/float-arrays'
import { checkPayload } from '../src/payload-guard'
import { superjsonSerializer } from '../src/serializer'

/**
 * compactSerializer against superjson itself: superjson with wirecall's
 * float-array customs (what `defaultSerializer` runs) is the reference. What
 * the compact codec writes must be byte for byte what superjson writes (so
 * superjson reads it as its own), and it must read that text back to the
 * value sent: same structure, same identities (shared and circular
 * references), same order; where superjson reads it right, as superjson does.
 */

interface Payload {
  json: unknown
  meta?: unknown
}

const instance = new SuperJSON()
registerFloatArrays(instance)
const reference = superjsonSerializer(instance)
const compact = compactSerializer

/** A payload as the peer receives it: through JSON text. */
const wire = (payload: Payload): Payload => JSON.parse(JSON.stringify(payload)) as Payload

/** The wire text a serializer gives for `value`, or how it fails (serialize, or JSON.stringify after it). */
function text(serializer: typeof compact, value: unknown): string {
  try {
    return JSON.stringify(serializer.serialize(value))
  } catch (error) {
    return `throws ${(error as Error).constructor.name}`
  }
}

/**
 * A description of a value that equality can compare: structure, order of
 * keys and entries, -0, and identity (a value met again is `{ ref: n }`).
 * `sent`: as it arrives through JSON, where an array's holes and an invalid
 * Date are null.
 */
function shape(value: unknown, sent = false): unknown {
  const ids = new Map<object, number>()
  const go = (v: unknown): unknown => {
    if (typeof v === 'bigint') return { bigint: String(v) }
    if (typeof v === 'number') return Object.is(v, -0) ? { number: '-0' } : Number.isNaN(v) ? { number: 'NaN' } : v
    if (typeof v !== 'object' || v === null) return v
    const id = ids.get(v)
    if (id !== undefined) return { ref: id }
    ids.set(v, ids.size)
    if (v instanceof Map) return { map: [...v].map(([k, x]) => [go(k), go(x)]) }
    if (v instanceof Set) return { set: [...v].map(go) }
    if (Array.isArray(v)) {
      // superjson's JSON of an array ends at its last element: trailing holes are gone.
      const length = sent ? Object.keys(v).length && Math.max(...Object.keys(v).map(Number)) + 1 : v.length
      return { array: Array.from({ length }, (_, i) => (i in v ? go(v[i]) : sent ? null : 'hole')) }
    }
    if (v instanceof Date) return sent && Number.isNaN(v.getTime()) ? null : { date: v.getTime() }
    if (v instanceof RegExp || v instanceof URL) return { [v.constructor.name]: String(v) }
    if (v instanceof Error) return { error: [v.name, v.message, go(v.cause)] }
    if (ArrayBuffer.isView(v)) return { [v.constructor.name]: Array.from(v as unknown as ArrayLike<unknown>, go) }
    return { [String(Object.getPrototypeOf(v)?.constructor?.name)]: Object.entries(v).map(([k, x]) => [k, go(x)]) }
  }
  return go(value)
}

/** Decodes with a serializer; how it fails, when it does. */
function decoded(serializer: typeof compact, payload: Payload): unknown {
  try {
    return shape(serializer.deserialize(payload))
  } catch (error) {
    return `throws ${(error as Error).message}`
  }
}

/**
 * True when superjson refuses `value` for a `__proto__`, `constructor` or
 * `prototype` key ("Detected property ..."). The codec writes such a key as
 * data instead, unless a path must go through it: where superjson fails
 * this way, the codec's text is checked against the value, not superjson's.
 */
function refusedKey(value: unknown): boolean {
  try {
    reference.serialize(value)
    return false
  } catch (error) {
    return /^Detected property (__proto__|constructor|prototype)\b/.test((error as Error).message)
  }
}

/**
 * Where superjson refuses a key the codec writes as data (see
 * {@link refusedKey}): the codec reads its text back as `value`, and so does
 * superjson, as far as it can (its copy drops `__proto__` keys).
 */
function writtenWhereSuperjsonRefuses(value: unknown, ours: string): void {
  expect(refusedKey(value)).toBe(true)
  expect(ours).not.toMatch(/^throws/)
  const payload = JSON.parse(ours) as Payload
  expect(decoded(compact, payload)).toEqual(shape(value, true))
  const viaSuperjson = decoded(reference, wire(payload))
  expect(typeof viaSuperjson === 'string' && viaSuperjson.startsWith('throws'), String(viaSuperjson)).toBe(false)
}

/**
 * Writes what superjson writes for `value` (the same text, or the same
 * failure), so superjson reads it as its own; and reads it back as `value`
 * (as it arrives through JSON: holes and invalid Dates are null).
 */
function faithful(value: unknown): void {
  const ours = text(compact, value)
  if (ours !== text(reference, value) && !ours.startsWith('throws')) return writtenWhereSuperjsonRefuses(value, ours)
  expect(ours).toBe(text(reference, value))
  if (ours.startsWith('throws')) return
  expect(decoded(compact, JSON.parse(ours) as Payload)).toEqual(shape(value, true))
}

/** Everything the two codecs must agree on for `value`. */
function agree(value: unknown): void {
  const ours = text(compact, value)
  if (ours !== text(reference, value) && !ours.startsWith('throws')) return writtenWhereSuperjsonRefuses(value, ours)
  // (a) Same wire text as superjson (or the same failure), hence superjson reads ours as its own.
  expect(ours).toBe(text(reference, value))
  if (ours.startsWith('throws')) return
  const payload = JSON.parse(ours) as Payload
  // (b) We read superjson's output (the same text) as superjson reads it.
  const expected = shape(reference.deserialize(wire(payload)))
  expect(decoded(compact, wire(payload))).toEqual(expected)
  // Without JSON text in between too (an in-process transport), and without touching the payload.
  const own = compact.serialize(value)
  const before = JSON.stringify(own)
  expect(decoded(compact, own)).toEqual(decoded(reference, reference.serialize(value)))
  expect(JSON.stringify(own)).toBe(before)
}

class Point {
  constructor(
    public x: number,
    public at = new Date(0),
  ) {}
}

const typedArrays = [
  new Int8Array([-128, 0, 127]),
  new Uint8Array([0, 1, 255]),
  new Uint8ClampedArray([0, 128, 255]),
  new Int16Array([-32768, 32767]),
  new Uint16Array([65535]),
  new Int32Array([-(2 ** 31), 2 ** 31 - 1]),
  new Uint32Array([2 ** 32 - 1]),
  new Float32Array([1.5, -2.25]),
  new Float64Array([Math.PI, -Number.MAX_VALUE, Number.MIN_VALUE]),
  new Uint8Array(0),
]

/** [name, value, what it decodes to (default: an equal value)] */
const cases: [string, unknown, unknown?][] = [
  ['Date', new Date(1234)],
  ['Date in an object', { at: new Date(-1e12) }],
  ['invalid Date (null, as superjson: JSON.stringify makes it null)', [new Date(Number.NaN)], [null]],
  ['Map', new Map<unknown, unknown>([['a', 1], [2, new Date(0)]])],
  ['empty Map', new Map()],
  ['Map with object keys', new Map<unknown, unknown>([[{ k: 1 }, 'v'], [[1, 2], { deep: new Set([1n]) }]])],
  ['Map with a -0 key (a Map makes it 0) and a -0 value', new Map([[-0, -0]])],
  ['Map with undefined key and value', new Map([[undefined, undefined]])],
  ['Set', new Set([1, 'x', new Date(5), undefined])],
  ['empty Set', new Set()],
  ['bigint', 12345678901234567890n],
  ['negative bigint', -5n],
  ['huge bigint', 2n ** 4000n - 1n],
  ['undefined at the top', undefined],
  ['undefined in an object', { a: undefined, b: 1 }],
  ['undefined in an array', [undefined, 1, undefined]],
  ['sparse array (holes become null, as superjson makes them)', [1, , 3], [1, null, 3]], // eslint-disable-line no-sparse-arrays
  ['sparse array with undefined', [, undefined], [null, undefined]], // eslint-disable-line no-sparse-arrays
  ['URL', new URL('https://example.com/a b?c=d#e')],
  ['RegExp', /ab+c/gi],
  ['RegExp with slashes and flags', /a\/b[/]/muy],
  ['RegExp with an empty-looking source', new RegExp('')],
  ['NaN, ±Infinity, -0', [Number.NaN, Infinity, -Infinity, -0, 0]],
  ['-0 at the top', -0],
  ['NaN at the top', Number.NaN],
  ['-0 as a Set element', new Set([-0])],
  ...typedArrays.map((array): [string, unknown] => [array.constructor.name, array]),
  ['Float32Array with NaN, ±Infinity, -0', new Float32Array([Number.NaN, Infinity, -Infinity, -0, 1.5])],
  ['Float64Array with NaN, ±Infinity, -0', new Float64Array([Number.NaN, Infinity, -Infinity, -0, 1e300])],
  ['Error', new Error('boom')],
  ['TypeError (an Error named TypeError)', new TypeError('bad')],
  ['Error with a cause', new Error('outer', { cause: new Error('inner', { cause: 42 }) })],
  ['keys with dots and backslashes', { 'a.b': new Date(0), 'c\\d': [undefined], 'e\\.f': { '.': 1n }, '\\': { '\\\\.': -0 } }],
  ['empty key', { '': { '': new Set([1]) } }],
  ['nested', { a: [{ b: new Map([['c', new Set([new Date(0), [undefined]]) as unknown]]) }] }],
  ['deep (past the JSON fast path depth)', JSON.parse('['.repeat(200) + '1' + ']'.repeat(200))],
  // What superjson has no transform for: left to JSON.stringify.
  ['class instance (its JSON: own enumerable properties)', { p: new Point(1) }, { p: { x: 1, at: '1970-01-01T00:00:00.000Z' } }],
  ['function in an object (dropped)', { f: () => 1, d: new Date(0) }, { d: new Date(0) }],
  ['function in an array (null)', [() => 1, undefined], [null, undefined]],
  ['symbol (dropped)', { s: Symbol('s'), u: undefined }, { u: undefined }],
  ['a function repeated (superjson tracks it: a reference from null to null)', [Math.max, Math.max], [null, null]],
  ['trailing holes (gone, as superjson drops them)', [1, undefined, , ,], [1, undefined]], // eslint-disable-line no-sparse-arrays
  ['DataView (its JSON: {})', [new DataView(new ArrayBuffer(2)), undefined], [{}, undefined]],
  ['ArrayBuffer (its JSON: {})', [new ArrayBuffer(2), undefined], [{}, undefined]],
  ['boxed string', [new String('s'), undefined], ['s', undefined]], // eslint-disable-line no-new-wrappers
]

describe('compactSerializer: superjson wire format', () => {
  it.each(cases)('%s', (_name, value, expected = value) => {
    agree(value)
    // And the value comes back (through superjson as well as through us).
    const payload = wire(compact.serialize(value))
    expect(shape(compact.deserialize(payload))).toEqual(shape(expected))
    expect(shape(reference.deserialize(payload))).toEqual(shape(expected))
  })

  it('sends JSON-plain values as they are, without meta', () => {
    const value = { a: [1, 'b', null, { c: true }] }
    expect(compact.serialize(value)).toEqual({ json: value })
    expect(compact.serialize(value).json).toBe(value)
    expect(compact.deserialize({ json: value })).toBe(value)
  })

  it('writes meta as superjson does', () => {
    expect(compact.serialize({ at: new Date(0), tags: new Set(['x']), n: 10n })).toStrictEqual({
      json: { at: '1970-01-01T00:00:00.000Z', tags: ['x'], n: '10' },
      meta: { values: { at: ['Date'], tags: ['set'], n: ['bigint'] }, v: 1 },
    })
    expect(compact.serialize(new Set([new Date(0)]))).toStrictEqual({
      json: ['1970-01-01T00:00:00.000Z'],
      meta: { values: ['set', { 0: ['Date'] }], v: 1 },
    })
    expect(compact.metaFormat).toBe('superjson')
  })

  it('writes the float-array customs as wirecall registers them on superjson', () => {
    expect(compact.serialize(new Float32Array([Number.NaN, -0, Infinity, 2]))).toEqual({
      json: ['NaN', '-0', 'Infinity', 2],
      meta: { values: [['custom', 'wirecall.Float32Array']], v: 1 },
    })
    // Without NaN, ±Infinity or -0: superjson's own typed-array format.
    expect(compact.serialize(new Float64Array([2]))).toEqual({
      json: [2],
      meta: { values: [['typed-array', 'Float64Array']], v: 1 },
    })
  })

  it('keeps a revived Error to name, message and cause, as superjson does', () => {
    const error = compact.deserialize(wire(compact.serialize(Object.assign(new RangeError('r'), { extra: 1 })))) as Error
    expect(error).toBeInstanceOf(Error)
    expect([error.name, error.message, 'extra' in error]).toEqual(['RangeError', 'r', false])
    // No stack from the payload (superjson never sends one; it would take the peer's).
    const hostile = compact.deserialize({ json: { name: 'E', message: 'm', stack: 'at evil()' }, meta: { values: ['Error'] } })
    expect((hostile as Error).stack).toBeUndefined()
  })

  it('cannot carry a BigInt64Array, as superjson cannot: JSON.stringify throws, and the annotation is refused', () => {
    expect(text(compact, new BigInt64Array([1n]))).toBe('throws TypeError')
    expect(text(reference, new BigUint64Array([1n]))).toBe('throws TypeError')
    const payload = { json: ['1'], meta: { values: [['typed-array', 'BigInt64Array']], v: 1 } }
    expect(() => compact.deserialize(payload)).toThrow(/BigInt64Array/)
    expect(() => reference.deserialize(payload)).toThrow()
  })

  it.each([
    ['__proto__', '{"__proto__":{"a":1},"d":"1970-01-01T00:00:00.000Z"}'],
    ['constructor', '{"constructor":"x","d":"1970-01-01T00:00:00.000Z"}'],
    ['prototype', '[{"prototype":[1]},"1970-01-01T00:00:00.000Z"]'],
  ])('writes a %s key as data next to a value that needs meta (superjson refuses), and reads it back', (key, json) => {
    const value = JSON.parse(json, (k, v: unknown) => (k === 'd' || k === '1' ? new Date(0) : v)) as unknown
    expect(() => reference.serialize(value)).toThrow(`Detected property ${key}`)
    const payload = compact.serialize(value)
    // The key is an own property of the JSON, and nothing set a prototype.
    expect(JSON.stringify(payload.json)).toBe(json)
    const back = compact.deserialize(wire(payload)) as Record<string, unknown> | [Record<string, unknown>, Date]
    const holder = Array.isArray(back) ? back[0] : back
    expect(Object.getPrototypeOf(holder)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(holder, key)).toEqual({
      value: key === '__proto__' ? { a: 1 } : key === 'constructor' ? 'x' : [1],
      writable: true,
      enumerable: true,
      configurable: true,
    })
    expect(Array.isArray(back) ? back[1] : back.d).toEqual(new Date(0))
    // superjson reads our text too (its copy drops a `__proto__` key; it keeps the others).
    const viaSuperjson = reference.deserialize(wire(payload)) as Record<string, unknown> | [Record<string, unknown>, Date]
    expect(Object.hasOwn(Array.isArray(viaSuperjson) ? viaSuperjson[0] : viaSuperjson, key)).toBe(key !== '__proto__')
  })

  it('{ constructor: "x", d: Date } comes back as it went, in one serialize/deserialize round', () => {
    const out = compact.deserialize(wire(compact.serialize({ constructor: 'x', d: new Date(5) })))
    expect(out).toEqual({ constructor: 'x', d: new Date(5) })
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
  })

  it.each([
    ['a Date under a constructor key', { constructor: new Date(0) }],
    ['undefined under a prototype key', [{ prototype: undefined }]],
    ['a Set under a __proto__ key', JSON.parse('{"__proto__":{"s":null}}', (k, v: unknown) => (k === 's' ? new Set([1]) : v)) as unknown],
    ['an object shared through a constructor key', (() => { const o = { u: undefined }; return { a: o, constructor: o } })()],
    ['a cycle through a prototype key', (() => { const o: Record<string, unknown> = { d: 1 }; o.prototype = [o]; return o })()],
  ])('refuses to encode %s: no decoder follows a path through it (superjson refuses it too)', (_name, value) => {
    expect(() => compact.serialize(value)).toThrow(/forbidden key (__proto__|constructor|prototype)/)
    expect(() => reference.serialize(value)).toThrow()
  })
})

describe('compactSerializer: references', () => {
  // Not JSON-plain: a JSON-plain value skips the serializer, references and all.
  const o = { n: 1, u: undefined }
  const cycle: Record<string, unknown> = { a: 1 }
  cycle.self = cycle
  const map = new Map<unknown, unknown>()
  map.set('self', map).set(map, 'key is the map')
  const set = new Set<unknown>()
  set.add(set).add(o)
  const list: unknown[] = [o]
  list.push(list, { back: list })
  const twoCycles = new Set<unknown>()
  const holder = [twoCycles]
  twoCycles.add(twoCycles).add(holder) // both null in the JSON: the Set loses one, and gets it back
  const shortLater = { a: { b: { c: o } }, d: o } // the shortest path is met last
  const dag = { x: { y: o }, z: { y: o } }
  const errorCause = [o, new Error('e', { cause: o })]

  it.each<[string, unknown]>([
    ['a repeated object', { a: o, b: o, c: [o] }],
    ['a cycle', cycle],
    ['a cycle at the root of an array', list],
    ['a Map holding itself as key and value', map],
    ['a Set holding itself', set],
    ['a Set that holds two cycles', holder],
    ['an object key in a Map, seen elsewhere too', [o, new Map([[o, o]])]],
    ['the shortest path met last', shortLater],
    ['a repeated subtree holding a repeated object', [dag, dag]],
    ['NaN repeated (superjson tracks it)', [Number.NaN, Number.NaN]],
    ['a bigint repeated (superjson tracks it)', [1n, 1n, { b: 1n }]],
    ['a repeated Date and typed array', (() => { const d = new Date(0), u = new Uint8Array([1]); return [d, u, { d, u }] })()],
  ])('%s', (_name, value) => {
    faithful(value)
    // superjson reads the same text to an equal value (up to the order of Set and Map entries).
    expect(reference.deserialize(wire(compact.serialize(value)))).toEqual(value)
  })

  it('finds Set and Map entries where superjson loses them', () => {
    // superjson moves a replaced key to the end, then looks for row 1 ('a.b') and finds the key row.
    const moved = new Map<unknown, unknown>()
    moved.set(moved, '').set('a.b', { '': moved })
    // Two cycles are both null in the JSON: new Set() keeps one, and 0n moves to position 1.
    const root: Record<string, unknown> = {}
    const deduped = new Set<unknown>([root])
    deduped.add(deduped).add(0n)
    root[''] = deduped
    // Two keys null in the JSON: new Map() keeps one row, with the second value.
    const rows = new Map<unknown, unknown>()
    const holder = [rows]
    rows.set(rows, 1).set(holder, 2)
    // A NaN key seen before: superjson deletes it (`NaN !== NaN`).
    const nan = [Number.NaN, new Map([[Number.NaN, 1]])]
    // d is met first inside c, but its shortest path is position 1: superjson fixes the cycle back
    // to c inside the copy of d at 0.a.b, then replaces that copy with the one at 1.
    const c: Record<string, unknown> = {}
    const d: Record<string, unknown> = { 'a.b': c }
    c['a.b'] = d
    const longFirst = new Set([c, d])
    for (const value of [moved, root, holder, nan, longFirst]) {
      faithful(value)
      expect(reference.deserialize(wire(reference.serialize(value)))).not.toEqual(value)
    }
  })

  it('restores a reference through an Error (superjson leaves a copy there, or null for a cycle)', () => {
    const selfCaused = new Error('e')
    selfCaused.cause = selfCaused
    for (const value of [errorCause, selfCaused]) {
      expect(text(compact, value)).toBe(text(reference, value))
      expect(shape(compact.deserialize(wire(compact.serialize(value))))).toEqual(shape(value))
    }
    expect(shape(reference.deserialize(wire(reference.serialize(errorCause))))).toEqual(shape([o, new Error('e', { cause: { ...o } })]))
  })

  it('restores identities', () => {
    const decode = (value: unknown) => compact.deserialize(wire(compact.serialize(value)))
    const a = decode({ a: o, b: o }) as { a: object; b: object }
    expect(a.a).toBe(a.b)
    const c = decode(cycle) as { self: unknown }
    expect(c.self).toBe(c)
    const m = decode(map) as Map<unknown, unknown>
    expect(m.get('self')).toBe(m)
    expect(m.get(m)).toBe('key is the map')
    const s = decode(set) as Set<unknown>
    expect(s.has(s)).toBe(true)
    const h = decode(holder) as [Set<unknown>]
    expect([...h[0]]).toEqual([h[0], h])
    const k = decode([o, new Map([[o, 1]])]) as [object, Map<object, number>]
    expect(k[1].get(k[0])).toBe(1)
    // Through an Error's cause too (superjson leaves a copy there).
    const e = decode(errorCause) as [object, Error]
    expect(e[1].cause).toBe(e[0])
  })
})

// ---- property tests ----------------------------------------------------------

const keys = fc.oneof(
  fc.string(),
  fc.constantFrom('a.b', 'a\\b', '\\.', '.', '', '\\', 'a\\.b.c', '0', '1', 'length', 'toString', 'hasOwnProperty', '__proto__', 'constructor'),
)

const leaves = [
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constantFrom(null, undefined, Number.NaN, -0, Infinity, -Infinity),
  fc.bigInt(),
  fc.date(),
  fc.constantFrom(/a.b/g, /[/]\//imsuy, new RegExp('x|y', 'd')),
  fc.webUrl().map((url) => new URL(url)),
  fc.tuple(fc.string(), fc.constantFrom(Error, TypeError, RangeError)).map(([m, E]) => new E(m)),
  fc.uint8ClampedArray(),
  fc.float32Array(),
  fc.float64Array(),
]

/** fc.anything, restricted to the types wirecall documents (and holes, -0, NaN, invalid Dates, ...). */
const anything = fc
  .tuple(
    fc.anything({
      key: keys,
      values: leaves,
      maxDepth: 4,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: false,
      withBoxedValues: false,
      withObjectString: false,
    }),
    fc.boolean(),
  )
  // Some objects with deleted keys (fast-check 4 has no withDeletedKeys): delete every other key.
  .map(([value, deleteKeys]) => (deleteKeys ? deleteSomeKeys(value) : value))

function deleteSomeKeys(value: unknown): unknown {
  const seen = new Set<unknown>()
  const go = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return
    seen.add(v)
    if (v instanceof Map) for (const [k, x] of v) (go(k), go(x))
    else if (v instanceof Set) v.forEach(go)
    else if (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype) {
      Object.keys(v).forEach((k, i) => {
        if (i % 2 && !Array.isArray(v)) delete (v as Record<string, unknown>)[k]
        else go((v as Record<string, unknown>)[k])
      })
    }
  }
  go(value)
  return value
}

/** Graphs: containers that hold each other (shared, circular, as Map keys) and leaves. */
const graphs = fc
  .record({
    kinds: fc.array(fc.constantFrom('object', 'array', 'map', 'set', 'error'), { minLength: 1, maxLength: 5 }),
    edges: fc.array(
      fc.record({ from: fc.nat(), to: fc.nat(), leaf: fc.option(fc.oneof(...leaves), { nil: undefined }), key: keys, asKey: fc.boolean() }),
      { maxLength: 14 },
    ),
  })
  .map(({ kinds, edges }) => {
    const nodes: unknown[] = kinds.map((kind) =>
      kind === 'object' ? {} : kind === 'array' ? [] : kind === 'map' ? new Map() : kind === 'set' ? new Set() : new Error('e'),
    )
    for (const { from, to, leaf, key, asKey } of edges) {
      const node = nodes[from % nodes.length]
      const child = leaf ?? nodes[to % nodes.length]
      if (node instanceof Map) (asKey ? node.set(child, key) : node.set(key, child))
      else if (node instanceof Set) node.add(child)
      else if (Array.isArray(node)) node.push(child)
      else if (node instanceof Error) node.cause = leaf // superjson cannot restore references through an Error (tested above)
      else if (!/^(__proto__|constructor|prototype)$/.test(key)) (node as Record<string, unknown>)[key] = child
    }
    // In an array with undefined: not JSON-plain, so the serializer sees its references.
    return [nodes[0], undefined]
  })

describe('compactSerializer: properties', () => {
  it('writes what superjson writes, and reads it back', () => {
    fc.assert(fc.property(anything, faithful), { numRuns: 2000 })
  })

  it('does so for shared and circular references', () => {
    fc.assert(fc.property(graphs, faithful), { numRuns: 2000 })
  })

  it('round-trips values superjson round-trips faithfully', () => {
    const faithful = fc.anything({
      key: keys.filter((key) => !/^(__proto__|constructor|prototype)$/.test(key)),
      values: [fc.boolean(), fc.double(), fc.string(), fc.constantFrom(null, undefined), fc.bigInt(), fc.date({ noInvalidDate: true })],
      maxDepth: 4,
      withBigInt: true,
      // Dates come from `values`, valid only: withDate would add fc.date(), whose invalid dates
      // superjson (and so the codec) turns into null, which is not a faithful round trip.
      withDate: false,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: false,
    })
    fc.assert(
      fc.property(faithful, (value) => {
        expect(compact.deserialize(wire(compact.serialize(value)))).toEqual(value)
        expect(reference.deserialize(wire(compact.serialize(value)))).toEqual(value)
      }),
      { numRuns: 500 },
    )
  })

  it('writes what the server payload guard accepts', () => {
    fc.assert(
      fc.property(fc.oneof(anything, graphs), (value) => {
        let payload: Payload
        try {
          payload = wire(compact.serialize(value))
        } catch {
          return // what superjson cannot send either (see the first property)
        }
        expect(() => checkPayload(payload.json, payload.meta, { maxDepth: 1000, allowAnnotations: ['regexp', 'Error'] })).not.toThrow()
      }),
      { numRuns: 300 },
    )
  })
})

// ---- hostile input -----------------------------------------------------------

describe('compactSerializer: hostile input', () => {
  /** A payload as the server parses it from a peer's text. */
  const hostile = (json: string, meta: string): Payload => ({ json: JSON.parse(json) as unknown, meta: JSON.parse(meta) as unknown })

  const prototypeIsClean = () => {
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(cleanPrototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(cleanArrayPrototype)
  }
  const cleanPrototype = Object.getOwnPropertyNames(Object.prototype).sort()
  const cleanArrayPrototype = Object.getOwnPropertyNames(Array.prototype).sort()

  it.each([
    ['__proto__ in a value path', '{"a":1}', '{"values":{"__proto__.polluted":["undefined"]},"v":1}'],
    ['__proto__ as own JSON key', '{"__proto__":{"polluted":"x"}}', '{"values":{"__proto__.polluted":["Date"]},"v":1}'],
    ['constructor.prototype', '{"a":1}', '{"values":{"constructor.prototype.polluted":["undefined"]},"v":1}'],
    ['constructor as own JSON key', '{"constructor":{"prototype":{"polluted":1}}}', '{"values":{"constructor.prototype.polluted":["bigint"]},"v":1}'],
    ['escaped __proto__', '{"a":1}', '{"values":{"a.__proto__":["undefined"]},"v":1}'],
    ['__proto__ in a reference', '{"a":{}}', '{"referentialEqualities":{"a":["__proto__.polluted"]},"v":1}'],
    ['__proto__ as a reference source', '{"a":{}}', '{"referentialEqualities":{"__proto__":["a"]},"v":1}'],
    ['root reference into __proto__', '{"a":{}}', '{"referentialEqualities":[["__proto__"]],"v":1}'],
    ['array __proto__', '[1]', '{"values":{"__proto__.polluted":["undefined"]},"v":1}'],
    ['inherited toString', '{"a":1}', '{"referentialEqualities":{"a":["toString"]},"v":1}'],
    ['hasOwnProperty', '{"a":1}', '{"values":{"hasOwnProperty":["undefined"]},"v":1}'],
    ['an array length', '[[1]]', '{"values":{"0.length":["number"]},"v":1}'],
    ['a non-canonical index', '[1]', '{"values":{"00":["undefined"]},"v":1}'],
    ['a missing key', '{"a":1}', '{"values":{"b":["undefined"]},"v":1}'],
    ['into a string', '{"a":"xyz"}', '{"values":{"a.0":["undefined"]},"v":1}'],
    ['a bad escape', '{"a":1}', '{"values":{"a\\\\x":["undefined"]},"v":1}'],
    ['a path that is not a string', '{"a":{}}', '{"referentialEqualities":{"a":[5]},"v":1}'],
    ['a Map side other than 0 or 1', '[[1,2]]', '{"values":["map"],"referentialEqualities":{"0.0":["0.2"]},"v":1}'],
    ['a Set index far past the end', '[{}]', '{"values":["set"],"referentialEqualities":{"0":["5"]},"v":1}'],
  ])('refuses %s, and leaves prototypes alone', (_name, json, meta) => {
    expect(() => compact.deserialize(hostile(json, meta))).toThrow()
    prototypeIsClean()
  })

  it('keeps an own __proto__ key of the JSON as an own data property, with meta as without (superjson drops it with meta)', () => {
    const json = '{"__proto__":{"polluted":1},"d":"1970-01-01T00:00:00.000Z","n":[{"__proto__":[2]}]}'
    const withMeta = compact.deserialize(hostile(json, '{"values":{"d":["Date"]},"v":1}')) as Record<string, unknown>
    const withoutMeta = compact.deserialize({ json: JSON.parse(json) as unknown }) as Record<string, unknown>
    for (const value of [withMeta, withoutMeta]) {
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(Object.keys(value)).toEqual(['__proto__', 'd', 'n'])
      expect(Object.getOwnPropertyDescriptor(value, '__proto__')).toEqual({ value: { polluted: 1 }, writable: true, enumerable: true, configurable: true })
      expect(value.polluted).toBeUndefined()
      const inner = (value.n as Record<string, unknown>[])[0]!
      expect(Object.getPrototypeOf(inner)).toBe(Object.prototype)
      expect(Object.hasOwn(inner, '__proto__')).toBe(true)
    }
    expect(withMeta.d).toEqual(new Date(0))
    expect(Object.hasOwn(reference.deserialize(hostile(json, '{"values":{"d":["Date"]},"v":1}')) as object, '__proto__')).toBe(false)
    prototypeIsClean()
  })

  it('writes an own __proto__ key back as it read it: the payload guard and a second round keep it', () => {
    const payload = hostile('{"__proto__":{"x":1},"d":"1970-01-01T00:00:00.000Z"}', '{"values":{"d":["Date"]},"v":1}')
    expect(() => checkPayload(payload.json, payload.meta)).not.toThrow()
    const again = compact.serialize(compact.deserialize(payload))
    expect(JSON.stringify(again)).toBe('{"json":{"__proto__":{"x":1},"d":"1970-01-01T00:00:00.000Z"},"meta":{"values":{"d":["Date"]},"v":1}}')
    prototypeIsClean()
  })

  it.each([
    ['class', '["class","Point"]'],
    ['custom', '["custom","other.Thing"]'],
    ['symbol', '["symbol","s"]'],
    ['a typo', '"date"'],
    ['constructor', '"constructor"'],
    ['toString', '"toString"'],
    ['__proto__', '"__proto__"'],
    ['hasOwnProperty', '"hasOwnProperty"'],
    ['BigInt64Array', '["typed-array","BigInt64Array"]'],
    ['DataView', '["typed-array","DataView"]'],
    ['Float16Array', '["typed-array","Float16Array"]'],
    ['wirecall.Uint8Array', '["custom","wirecall.Uint8Array"]'],
    ['typed-array,Int8Array', '"typed-array,Int8Array"'],
    ['set (as an array)', '["set"]'],
    ['number', '5'],
    ['null', 'null'],
  ])('refuses an unknown annotation (%s), naming it', (_name, annotation) => {
    const payload = hostile('{"a":[1]}', `{"values":{"a":[${annotation}]},"v":1}`)
    expect(() => compact.deserialize(payload)).toThrow(`unsupported annotation ${JSON.stringify(JSON.parse(annotation))}`)
    prototypeIsClean()
  })

  it.each([
    ['a string tree', '"abc"'],
    ['a string subtree', '{"a":"xyz"}'],
    ['a number for children', '{"a":["set",{"0":"q"}]}'],
    ['an empty node', '{"a":[]}'],
    ['null children', '{"a":{"b":null}}'],
  ])('refuses (or ignores, as superjson does) a malformed tree: %s', (_name, values) => {
    const payload = hostile('{"a":[[1]]}', `{"values":${values},"v":1}`)
    try {
      expect(shape(compact.deserialize(payload))).toEqual(shape(reference.deserialize(wire(payload))))
    } catch (error) {
      expect(error).toBeInstanceOf(Error)
    }
    prototypeIsClean()
  })

  it.each([
    ['referentialEqualities a string', '"abc"'],
    ['a root list that is not a list', '[5]'],
    ['paths that are not a list', '{"a":5}'],
    ['a path to nowhere', '{"a":["b.c.d"]}'],
  ])('refuses malformed references: %s', (_name, references) => {
    expect(() => compact.deserialize(hostile('{"a":{}}', `{"referentialEqualities":${references},"v":1}`))).toThrow()
  })

  it('refuses a typed array from anything but an array (no `new Uint8Array(1e9)`)', () => {
    for (const json of ['1000000000', '{"length":1000000000}', '"12"']) {
      expect(() => compact.deserialize(hostile(json, '{"values":[["typed-array","Uint8Array"]],"v":1}'))).toThrow()
      expect(() => compact.deserialize(hostile(json, '{"values":[["custom","wirecall.Float64Array"]],"v":1}'))).toThrow()
    }
    expect(() => compact.deserialize(hostile('["nan"]', '{"values":[["custom","wirecall.Float64Array"]],"v":1}'))).toThrow()
    expect(() => compact.deserialize(hostile('"5"', '{"values":["number"],"v":1}'))).toThrow()
  })

  it('refuses deep annotation trees without overflowing the stack', () => {
    const depth = 5_000
    const json = JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown
    let tree: unknown = ['undefined']
    for (let i = 0; i < depth - 1; i++) tree = { 0: tree }
    expect(() => compact.deserialize({ json, meta: { values: tree, v: 1 } })).toThrow(/too deep/)
    // A deep tree that does not match the JSON stops at the first step that leads nowhere.
    expect(() => compact.deserialize({ json: [], meta: { values: tree, v: 1 } })).toThrow(/bad path/)
  })

  it('refuses very deep JSON with an error, not a crash', () => {
    const depth = 200_000
    const json = JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown
    expect(() => compact.deserialize({ json, meta: { values: { 0: ['undefined'] }, v: 1 } })).toThrow()
  })

  it('never crashes, loops or pollutes on random metas', () => {
    const json = fc.jsonValue({ maxDepth: 3 })
    const path = fc.oneof(fc.constantFrom('0', '1', 'a', '0.0', '0.1', '__proto__', 'a.b', ''), fc.string())
    const annotation = fc.oneof(
      fc.constantFrom('undefined', 'bigint', 'Date', 'regexp', 'set', 'map', 'Error', 'URL', 'number', 'class', 'constructor'),
      fc.tuple(fc.constantFrom('typed-array', 'custom', 'class', 'symbol'), fc.constantFrom('Uint8Array', 'wirecall.Float32Array', 'X')),
    )
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(fc.tuple(annotation), fc.tuple(annotation, tie('children'))),
      children: fc.dictionary(path, tie('node'), { maxKeys: 3 }),
    }))
    const meta = fc.record(
      {
        values: fc.oneof(tree.node, tree.children, fc.jsonValue({ maxDepth: 2 })),
        referentialEqualities: fc.oneof(
          fc.dictionary(path, fc.array(path, { maxLength: 3 })),
          fc.tuple(fc.array(path, { maxLength: 3 }), fc.dictionary(path, fc.array(path, { maxLength: 3 }))),
        ),
        v: fc.constant(1),
      },
      { requiredKeys: ['v'] },
    )
    fc.assert(
      fc.property(json, meta, (json, meta) => {
        try {
          compact.deserialize(wire({ json, meta }))
        } catch (error) {
          expect(error).toBeInstanceOf(Error)
        }
        prototypeIsClean()
      }),
      { numRuns: 2000 },
    )
  })
})

// ---- size --------------------------------------------------------------------

/** esbuild comes from the browser tests' package (tests/browser), which depends on it. */
interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>
}
const esbuild = createRequire(new URL('../../../tests/browser/package.json', import.meta.url))('esbuild') as EsbuildLike

/**
 * Bytes the compact codec adds to a browser bundle (esbuild, minified, ES2022,
 * gzip -9). isJsonPlain is left out: superjsonSerializer has it too.
 */
const COMPACT_GZIP_BUDGET_BYTES = 2_100

async function measure(stubSerializer: boolean): Promise<{ minified: number; gzipped: number }> {
  const stub = (filter: RegExp, contents: string) => ({
    name: `stub ${String(filter)}`,
    setup(build: { onResolve: Function; onLoad: Function }) {
      build.onResolve({ filter }, () => ({ path: String(filter), namespace: 'stub' }))
      build.onLoad({ filter: new RegExp(''), namespace: 'stub' }, () => ({ contents }))
    },
  })
  const result = await esbuild.build({
    stdin: { contents: "export { compactSerializer } from './compact-serializer'", resolveDir: fileURLToPath(new URL('../src', import.meta.url)), loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    tsconfigRaw: {},
    // superjson itself never comes in: serializer.ts imports it, for superjsonSerializer only.
    plugins: [stubSerializer ? stub(/^\.\/serializer$/, 'export const isJsonPlain = globalThis.isJsonPlain') : stub(/^superjson$/, 'export default class {}')],
  })
  const code = result.outputFiles[0]!.text
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length }
}

describe('compactSerializer: size', () => {
  it('stays small (esbuild, minified, gzip -9)', async () => {
    const codec = await measure(true)
    const withFastPath = await measure(false)
    console.log(
      `compactSerializer: ${codec.minified} B minified, ${codec.gzipped} B gzipped; ` +
        `with isJsonPlain: ${withFastPath.minified} B minified, ${withFastPath.gzipped} B gzipped`,
    )
    expect(codec.gzipped).toBeLessThanOrEqual(COMPACT_GZIP_BUDGET_BYTES)
  })
})
