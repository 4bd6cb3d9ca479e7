import type { JsonSchema } from './schema-types'

/*
 * The JSON Schemas of what the default serializer (core's compactSerializer,
 * superjson's format) writes in `json` for each value JSON cannot carry as it
 * is. Each is marked with `x-wirecall-type`, whose value is the annotation
 * exactly as `meta.values` holds it (`"Date"`, `"map"`,
 * `["typed-array", "Uint8Array"]`), so a decoder in another language that
 * reads the schema knows what to rebuild without reading `meta` first.
 * docs/encoding.md "Types" is the table these follow.
 */

/** The keyword naming a value's meta annotation. */
export const WIRE_TYPE = 'x-wirecall-type'
/** The keyword marking a part the generator could not describe: any JSON may be there. */
export const UNREPRESENTABLE = 'x-wirecall-unrepresentable'
/** Every keyword the generated schemas add: register them as annotations in a strict validator (`ajv.addVocabulary(WIRE_KEYWORDS)`). */
export const WIRE_KEYWORDS: readonly string[] = [WIRE_TYPE, UNREPRESENTABLE]

/** `NaN`, `Infinity`, `-Infinity`, `-0`: the numbers that travel as strings under a `number` annotation. */
export type SpecialNumber = 'NaN' | 'Infinity' | '-Infinity' | '-0'
export const SPECIAL_NUMBERS: readonly SpecialNumber[] = ['NaN', 'Infinity', '-Infinity', '-0']

/**
 * `Date.prototype.toISOString()`: four-digit years, or a sign and six digits
 * outside 0000–9999. A pattern rather than `format: date-time`, which
 * refuses the six-digit years the serializer does write.
 */
const ISO_DATE = '^(?:\\d{4}|[+-]\\d{6})-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$'
/** A bigint's decimal digits as `String(n)` writes them: no `+`, no leading zeros, no `-0`. */
const BIGINT_DIGITS = '^(?:0|-?[1-9][0-9]*)$'

export const wireDate = (): JsonSchema => ({ type: 'string', pattern: ISO_DATE, [WIRE_TYPE]: 'Date' })

export const wireBigint = (): JsonSchema => ({ type: 'string', pattern: BIGINT_DIGITS, [WIRE_TYPE]: 'bigint' })

/** A bigint literal: its digits, as a constant. */
export const wireBigintLiteral = (digits: string): JsonSchema => ({ const: digits, [WIRE_TYPE]: 'bigint' })

/** `undefined` (a property set to it, an array element, the whole payload) is `null` in `json`. */
export const wireUndefined = (): JsonSchema => ({ type: 'null', [WIRE_TYPE]: 'undefined' })

/** The numbers JSON cannot hold, as strings; `specials` are those the value may be. */
export const wireSpecialNumbers = (specials: readonly SpecialNumber[]): JsonSchema =>
  specials.length === 1 ? { const: specials[0], [WIRE_TYPE]: 'number' } : { enum: [...specials], [WIRE_TYPE]: 'number' }

/** A JavaScript `number`: finite numbers as themselves, the others as strings. */
export const wireAnyNumber = (): JsonSchema => ({ anyOf: [{ type: 'number' }, wireSpecialNumbers(SPECIAL_NUMBERS)] })

/** A Map: the array of its `[key, value]` entries, in order. */
export const wireMap = (key: JsonSchema, value: JsonSchema): JsonSchema => ({
  type: 'array',
  items: { type: 'array', prefixItems: [key, value], minItems: 2, maxItems: 2 },
  [WIRE_TYPE]: 'map',
})

/** A Set: the array of its elements, in order (unique by identity, not by JSON, so no `uniqueItems`). */
export const wireSet = (element: JsonSchema): JsonSchema => ({ type: 'array', items: element, [WIRE_TYPE]: 'set' })

/** A URL: its `href`. */
export const wireUrl = (): JsonSchema => ({ type: 'string', [WIRE_TYPE]: 'URL' })

/** A RegExp: `/source/flags`. Server to client only. */
export const wireRegExp = (): JsonSchema => ({ type: 'string', pattern: '^/[\\s\\S]*/[a-z]*$', [WIRE_TYPE]: 'regexp' })

/** An Error: `name`, `message`, and `cause` when it has one. Server to client only. */
export const wireError = (): JsonSchema => ({
  type: 'object',
  properties: { name: { type: 'string' }, message: { type: 'string' }, cause: {} },
  required: ['name', 'message'],
  [WIRE_TYPE]: 'Error',
})

const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  Int8Array: [-128, 127],
  Uint8Array: [0, 255],
  Uint8ClampedArray: [0, 255],
  Int16Array: [-32768, 32767],
  Uint16Array: [0, 65535],
  Int32Array: [-2147483648, 2147483647],
  Uint32Array: [0, 4294967295],
}

/**
 * A typed array: the array of its elements. A Float32Array or Float64Array
 * holding `NaN`, `±Infinity` or `-0` travels as wirecall's custom type with
 * those as strings; a BigInt64Array or BigUint64Array cannot be sent at all
 * (`undefined` is returned: the caller marks it unrepresentable).
 */
export function wireTypedArray(name: string): JsonSchema | undefined {
  const range = INTEGER_RANGES[name]
  if (range !== undefined) {
    return { type: 'array', items: { type: 'integer', minimum: range[0], maximum: range[1] }, [WIRE_TYPE]: ['typed-array', name] }
  }
  if (name !== 'Float32Array' && name !== 'Float64Array') return undefined
  return {
    anyOf: [
      { type: 'array', items: { type: 'number' }, [WIRE_TYPE]: ['typed-array', name] },
      { type: 'array', items: { anyOf: [{ type: 'number' }, { enum: [...SPECIAL_NUMBERS] }] }, [WIRE_TYPE]: ['custom', `wirecall.${name}`] },
    ],
  }
}

/** Any JSON, marked: the generator could not say what goes here, and `why`. */
export const unrepresentable = (why: string): JsonSchema => ({ [UNREPRESENTABLE]: true, description: why })

/** `schema`, or `undefined` sent as `null` in its place (an optional property, an optional tuple element). */
export function orUndefined(schema: JsonSchema): JsonSchema {
  if (schema[WIRE_TYPE] === 'undefined') return schema
  const members = schema.anyOf
  if (Array.isArray(members) && members.some((m) => (m as JsonSchema)[WIRE_TYPE] === 'undefined')) return schema
  return { anyOf: [schema, wireUndefined()] }
}
