import { defaultSerializer } from '@wirecall/core'
import { describe, expect, test } from 'vitest'
import { strictAjv } from './strict-ajv'
import {
  wireBigint,
  wireDate,
  wireError,
  wireMap,
  wireRegExp,
  wireSet,
  wireTypedArray,
  wireUndefined,
  wireUrl,
  wireAnyNumber,
} from '../../../packages/codegen/src/schema/wire-schemas'
import type { JsonSchema } from '../../../packages/codegen/src/schema/schema-types'

// Each rich type's schema against what the default serializer really writes
// for it, and the annotation `x-wirecall-type` names against `meta`.

/** The annotation the serializer wrote for the root value. */
function rootAnnotation(value: unknown): unknown {
  const { meta } = defaultSerializer.serialize(value) as { meta?: { values?: unknown } }
  const values = meta?.values
  return Array.isArray(values) ? values[0] : undefined
}

const cases: [string, JsonSchema, unknown[]][] = [
  ['Date', wireDate(), [new Date(0), new Date(-62198755200000), new Date(8.64e15), new Date(-8.64e15), new Date(253402300800000)]],
  ['bigint', wireBigint(), [0n, -1n, 12345678901234567890n, -(10n ** 40n)]],
  ['undefined', wireUndefined(), [undefined]],
  ['URL', wireUrl(), [new URL('https://example.com/a?b=c#d')]],
  ['regexp', wireRegExp(), [/a\/b/gi, new RegExp(''), /x\ny/]],
  ['Error', wireError(), [new TypeError('bad'), new Error('with cause', { cause: new Date(0) })]],
  ['map', wireMap({}, {}), [new Map([[1, 'a'], [2, 'b']]), new Map()]],
  ['set', wireSet({}), [new Set(['a', 1]), new Set()]],
]

describe('wire schemas match the default serializer', () => {
  const ajv = strictAjv()
  test.each(cases)('%s', (annotation, schema, values) => {
    const validate = ajv.compile(schema)
    for (const value of values) {
      const { json } = defaultSerializer.serialize(value)
      expect(validate(json), `${String(json)} ${JSON.stringify(validate.errors)}`).toBe(true)
      expect(rootAnnotation(value)).toEqual(annotation)
      expect(schema['x-wirecall-type']).toEqual(annotation)
    }
  })

  test('numbers: finite as themselves, NaN, ±Infinity and -0 as marked strings', () => {
    const validate = ajv.compile(wireAnyNumber())
    for (const n of [0, 1.5, -2, Number.MAX_VALUE, NaN, Infinity, -Infinity, -0]) {
      const { json } = defaultSerializer.serialize(n)
      expect(validate(json)).toBe(true)
      if (typeof json === 'string') expect(rootAnnotation(n)).toBe('number')
    }
    expect(validate('5')).toBe(false)
  })

  test('typed arrays: each class by its annotation, float arrays with special numbers as the custom type', () => {
    const classes = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array]
    for (const C of classes) {
      const schema = wireTypedArray(C.name)!
      const validate = ajv.compile(schema)
      const plain = C.from([1, 2, 3])
      expect(validate(defaultSerializer.serialize(plain).json)).toBe(true)
      expect(rootAnnotation(plain)).toEqual(['typed-array', C.name])
      if (C === Float32Array || C === Float64Array) {
        const special = C.from([1, NaN, -0, Infinity])
        expect(validate(defaultSerializer.serialize(special).json)).toBe(true)
        expect(rootAnnotation(special)).toEqual(['custom', `wirecall.${C.name}`])
      }
    }
    expect(wireTypedArray('BigInt64Array')).toBeUndefined()
  })

  test('a six-digit-year Date, which format: date-time would refuse, passes; other strings do not', () => {
    const validate = ajv.compile(wireDate())
    expect(validate('+275760-09-13T00:00:00.000Z')).toBe(true)
    expect(validate('2025-01-01')).toBe(false)
    const bigint = ajv.compile(wireBigint())
    expect(bigint('007')).toBe(false)
    expect(bigint('+5')).toBe(false)
  })
})
