import fc from 'fast-check'
import type { JsonSchema } from '@wirecall/codegen'

/**
 * A fast-check arbitrary of the values a schema accepts, for the keywords
 * the envelope schemas use (`type`, `const`, `enum`, integer and number
 * bounds, string lengths, `properties`/`required`, `items`, `maxItems`, `{}`). Any other
 * keyword throws: a new envelope rule then needs a generator here too.
 * Strings mix ASCII with astral characters, which the parser counts as two.
 */
export function arbitraryOf(schema: JsonSchema): fc.Arbitrary<unknown> {
  const known = new Set(['type', 'const', 'enum', 'minimum', 'maximum', 'exclusiveMinimum', 'minLength', 'maxLength', 'properties', 'required', 'items', 'maxItems', 'description'])
  for (const key of Object.keys(schema)) if (!known.has(key)) throw new Error(`arbitraryOf: no generator for keyword ${key}`)
  if ('const' in schema) return fc.constant(schema.const)
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]))
  switch (schema.type) {
    case undefined:
      return fc.jsonValue()
    case 'integer': {
      const min = (schema.minimum as number | undefined) ?? -Number.MAX_SAFE_INTEGER
      const max = (schema.maximum as number | undefined) ?? Number.MAX_SAFE_INTEGER
      // fc.integer stops at 2^31; ids go to 2^53 - 1.
      const wide = fc.bigInt({ min: BigInt(min), max: BigInt(max) }).map(Number)
      return fc.oneof(fc.constantFrom(min, max), fc.integer({ min: Math.max(min, -1000), max: Math.min(max, 1000) }), wide)
    }
    case 'number': {
      const above = schema.exclusiveMinimum as number
      return fc.oneof(fc.double({ min: above, minExcluded: true, noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0.5, 1e300, Number.MIN_VALUE))
    }
    case 'string': {
      const minLength = (schema.minLength as number | undefined) ?? 0
      const maxLength = (schema.maxLength as number | undefined) ?? 40
      // Built to an exact length in code units (the parser's count), mixing in astral characters, which count two.
      const length = fc.oneof(fc.integer({ min: minLength, max: Math.min(maxLength, minLength + 12) }), fc.constantFrom(minLength, maxLength, Math.max(minLength, maxLength - 1)))
      return length.chain((n) =>
        fc.array(fc.constantFrom('a', 'Z', ' ', '.', '😀'), { minLength: n, maxLength: n }).map((units) => {
          let text = ''
          for (const unit of units) if (text.length + unit.length <= n) text += unit
          return text.padEnd(n, 'a')
        }),
      )
    }
    case 'array':
      return fc.array(arbitraryOf(schema.items as JsonSchema), { maxLength: Math.min(4, (schema.maxItems as number | undefined) ?? 4) })
    case 'object': {
      const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {}
      const required = (schema.required as string[] | undefined) ?? []
      const model: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [key, sub] of Object.entries(properties)) model[key] = arbitraryOf(sub)
      return fc.record(model, { requiredKeys: Object.keys(properties).filter((key) => required.includes(key)) })
    }
    default:
      throw new Error(`arbitraryOf: no generator for type ${String(schema.type)}`)
  }
}

/** Values a field should refuse, or might: wrong types, out-of-range numbers, lengths one past a bound, `null`. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    -1, 1.5, -0, 0, 1, '1', '', true, null, [], {}, 2 ** 53, Number.MAX_SAFE_INTEGER, 3_600_000, 3_600_001, 1e300, 0.5,
    'query', 'mutation', 'QUERY', 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(1024), 'x'.repeat(1025), '😀'.repeat(512), '😀'.repeat(513),
    ['a'], [''], { maxInFlightCalls: 0 }, { burst: 1.5 }, { messagesPerSecond: 0 }, { messagesPerSecond: 0.25, other: 'ignored' },
  ),
  fc.jsonValue({ maxDepth: 2 }),
)
