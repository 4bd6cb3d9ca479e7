import type { JsonSchema } from './schema-types'

/** Keywords whose value is one subschema. */
const ONE = ['additionalProperties', 'items', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'additionalItems']
/** Keywords whose value is an array of subschemas. */
const MANY = ['anyOf', 'oneOf', 'allOf', 'prefixItems']
/** Keywords whose value maps names to subschemas. */
const MAPS = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']

export const isSchemaObject = (value: unknown): value is JsonSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * A copy of `schema` with `fn` applied to every subschema, innermost first
 * (so `fn` sees children already mapped), and last to `schema` itself.
 * Data keywords (`enum`, `const`, `default`, `examples`, `x-…`) are copied
 * as they are, never walked; nor is a subschema `skip` says to leave alone.
 */
export function mapSchema(schema: JsonSchema, fn: (node: JsonSchema) => JsonSchema, skip?: (node: JsonSchema) => boolean): JsonSchema {
  if (skip?.(schema) === true) return schema
  const sub = (v: unknown): unknown => (isSchemaObject(v) ? mapSchema(v, fn, skip) : v)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(schema)) {
    if (ONE.includes(key) && isSchemaObject(value)) out[key] = sub(value)
    else if ((MANY.includes(key) || key === 'items') && Array.isArray(value)) out[key] = value.map(sub)
    else if (MAPS.includes(key) && isSchemaObject(value)) {
      const map: Record<string, unknown> = {}
      for (const [name, v] of Object.entries(value)) map[name] = sub(v)
      out[key] = map
    } else out[key] = value
  }
  return fn(out)
}

/** Calls `fn` on every subschema of `schema`, itself included. */
export function visitSchema(schema: JsonSchema, fn: (node: JsonSchema) => void): void {
  mapSchema(schema, (node) => {
    fn(node)
    return node
  })
}

/** Keys whose object values are names the user chose: their order is kept (a generated class lists fields as declared). */
const NAMED = new Set(['properties', 'patternProperties', 'dependentSchemas'])
const DATA = new Set(['const', 'enum', 'default', 'examples'])

/**
 * `schema` with every keyword object's keys sorted, so that equal schemas
 * print as equal files whatever order a converter built them in. Property
 * names keep their declared order; data (`const`, `enum`, `default`,
 * `examples`) is left as it is.
 */
export function sortSchemaKeys(schema: unknown, named = false): unknown {
  if (Array.isArray(schema)) return schema.map((s) => sortSchemaKeys(s))
  if (!isSchemaObject(schema)) return schema
  const keys = Object.keys(schema)
  if (!named) keys.sort()
  const out: Record<string, unknown> = {}
  for (const key of keys) {
    const value = schema[key]
    if (named) out[key] = sortSchemaKeys(value)
    else if (DATA.has(key) || key.startsWith('x-')) out[key] = value
    else out[key] = sortSchemaKeys(value, NAMED.has(key))
  }
  return out
}

/** Rewrites every `$ref` of `schema` with `fn` (returning the new reference). */
export function rewriteRefs(schema: JsonSchema, fn: (ref: string) => string): JsonSchema {
  return mapSchema(schema, (node) => (typeof node.$ref === 'string' ? { ...node, $ref: fn(node.$ref) } : node))
}
