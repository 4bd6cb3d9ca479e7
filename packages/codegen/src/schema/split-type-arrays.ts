import type { JsonSchema } from './schema-types'
import { mapSchema } from './schema-walk'

/** Keywords that constrain one JSON type only, by type. */
const KEYWORDS_OF: Readonly<Record<string, readonly string[]>> = {
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  string: ['minLength', 'maxLength', 'pattern', 'format', 'contentEncoding', 'contentMediaType'],
  array: ['items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'contains', 'minContains', 'maxContains', 'unevaluatedItems'],
  object: [
    'properties',
    'required',
    'additionalProperties',
    'patternProperties',
    'propertyNames',
    'minProperties',
    'maxProperties',
    'dependentRequired',
    'dependentSchemas',
    'unevaluatedProperties',
  ],
}
const keywordsOf = (type: string): readonly string[] => KEYWORDS_OF[type === 'integer' ? 'number' : type] ?? []
const TYPED = new Set(Object.values(KEYWORDS_OF).flat())

/**
 * `{ type: ['number', 'null'], minimum: 0 }` as
 * `{ anyOf: [{ type: 'number', minimum: 0 }, { type: 'null' }] }`: one type
 * per node, each with its own keywords. Strict validators (ajv's
 * `strictTypes`) refuse union types unless told otherwise, and a number
 * node must stand alone to be widened to the special numbers.
 */
export function splitTypeArrays(schema: JsonSchema): JsonSchema {
  return mapSchema(schema, (node) => {
    if (!Array.isArray(node.type)) return node
    const types = node.type as readonly string[]
    if (types.length === 1) return { ...node, type: types[0] }
    const shared: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(node)) if (key !== 'type' && !TYPED.has(key)) shared[key] = value
    const anyOf = types.map((type) => {
      const branch: Record<string, unknown> = { type }
      for (const key of keywordsOf(type)) if (key in node) branch[key] = node[key]
      return branch
    })
    return { ...shared, anyOf }
  })
}
