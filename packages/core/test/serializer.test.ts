import { describe, expect, it } from 'vitest'
import { defaultSerializer, jsonSerializer } from '@wirecall/core'
import { isJsonPlain } from '../src/json-plain'

describe('isJsonPlain', () => {
  it.each([null, true, 'x', 0, 1.5, [], [1, 'a', null], {}, { a: { b: [1, { c: 'd' }] } }, Object.create(null)])(
    'is true for %j',
    (value) => expect(isJsonPlain(value)).toBe(true),
  )
  it.each([
    ['undefined', undefined],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-0', -0],
    ['bigint', 1n],
    ['Date', new Date(0)],
    ['Map', new Map()],
    ['Set', new Set()],
    ['RegExp', /x/],
    ['Uint8Array', new Uint8Array(2)],
    ['nested undefined', { a: undefined }],
    ['sparse array', [1, , 3]],
    ['function', () => {}],
    ['symbol', Symbol('x')],
    ['class instance', new (class Point {})()],
    ['deep Date', { a: [{ b: new Date() }] }],
  ])('is false for %s', (_name, value) => expect(isJsonPlain(value)).toBe(false))

  it('gives up past the depth limit instead of recursing forever', () => {
    let deep: unknown = 1
    for (let i = 0; i < 10_000; i++) deep = [deep]
    expect(isJsonPlain(deep)).toBe(false)
  })
})

describe('defaultSerializer', () => {
  it('sends plain JSON without meta', () => {
    expect(defaultSerializer.serialize({ a: [1, 'b'] })).toEqual({ json: { a: [1, 'b'] } })
  })

  it.each([
    ['Date', new Date(1234)],
    ['Map', new Map<unknown, unknown>([['a', 1], [2, new Date(0)]])],
    ['Set', new Set([1, 'x'])],
    ['BigInt', 12345678901234567890n],
    ['undefined inside an object', { a: undefined, b: 1 }],
    ['RegExp', /ab+c/gi],
    ['Uint8Array', new Uint8Array([1, 2, 3])],
    ['NaN and -0', [NaN, -0, Infinity]],
    ['URL', new URL('https://example.com/x?y=1')],
  ])('round-trips %s through JSON text', (_name, value) => {
    const encoded = defaultSerializer.serialize(value)
    const wire = JSON.parse(JSON.stringify(encoded)) as { json: unknown; meta?: unknown }
    expect(defaultSerializer.deserialize(wire)).toEqual(value)
  })
})

describe('jsonSerializer', () => {
  it('passes values through', () => {
    expect(jsonSerializer.deserialize(jsonSerializer.serialize({ a: 1 }))).toEqual({ a: 1 })
  })
})

describe('float arrays', () => {
  it('keep NaN, ±Infinity and -0 through the default serializer', () => {
    const value = new Float64Array([1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0])
    const back = defaultSerializer.deserialize(JSON.parse(JSON.stringify(defaultSerializer.serialize(value)))) as Float64Array
    expect(back).toBeInstanceOf(Float64Array)
    expect(Array.from(back)).toEqual([1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0])
    expect(Object.is(back[4], -0)).toBe(true)
  })

  it('use superjson’s own format when there is nothing special inside', () => {
    expect(defaultSerializer.serialize(new Float32Array([1, 2])).meta).toEqual({ values: [['typed-array', 'Float32Array']], v: 1 })
  })

  it('refuse a malformed payload', () => {
    const meta = { values: [['custom', 'wirecall.Float64Array']], v: 1 }
    expect(() => defaultSerializer.deserialize({ json: 'abc', meta })).toThrow(/wirecall\.Float64Array/)
    expect(() => defaultSerializer.deserialize({ json: ['1', {}], meta })).toThrow(/compactSerializer: bad number/)
  })
})
