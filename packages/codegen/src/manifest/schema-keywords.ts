import type { JsonSchema } from '../schema/schema-types'
import { WIRE_TYPE } from '../schema/wire-schemas'

/** A JSON Schema node: an object schema, or `true` (anything) / `false` (nothing). */
export type SchemaNode = JsonSchema | boolean

/** Keywords whose value is one subschema. */
const SINGLE = new Set(['additionalProperties', 'propertyNames', 'not', 'contains', 'if', 'then', 'else', 'unevaluatedItems', 'unevaluatedProperties', 'additionalItems', 'contentSchema'])
/** Keywords whose value is a map of name to subschema. */
const MAP = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas'])
/** Keywords whose value is a list of subschemas (`items` too, in its draft-07 array form). */
const LIST = new Set(['prefixItems', 'anyOf', 'oneOf', 'allOf'])

/**
 * Documentation, not contract: left out of the manifest, so that editing a
 * field's description or examples does not churn `api.lock.json`.
 */
export const DOC_KEYWORDS: ReadonlySet<string> = new Set(['description', 'title', 'examples', '$comment'])

/**
 * Keywords that never change which values a schema accepts. The comparison
 * skips them; every `x-` extension is one, except `x-wirecall-type` (which
 * says how the client revives a value, so changing it changes the contract).
 */
export function isAnnotation(keyword: string): boolean {
  if (keyword === WIRE_TYPE) return false
  return DOC_KEYWORDS.has(keyword) || ANNOTATIONS.has(keyword) || keyword.startsWith('x-')
}
const ANNOTATIONS = new Set(['default', 'deprecated', 'readOnly', 'writeOnly', '$schema', '$id', '$anchor', '$dynamicAnchor', 'contentEncoding', 'contentMediaType'])

// The keywords the schema writer adds, from where it defines them.
export { UNREPRESENTABLE, WIRE_TYPE } from '../schema/wire-schemas'

export function isSchemaObject(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function isSchemaNode(value: unknown): value is SchemaNode {
  return typeof value === 'boolean' || isSchemaObject(value)
}

/**
 * Rebuilds a schema with `map` applied to every subschema it holds (one
 * level down), leaving data keywords (`enum`, `const`, `required`...) as they
 * are. The one place that knows which keywords hold schemas.
 */
export function mapSubschemas(schema: JsonSchema, map: (node: SchemaNode) => SchemaNode, keep: (keyword: string) => boolean = () => true): JsonSchema {
  const out: Record<string, unknown> = {}
  for (const [keyword, value] of Object.entries(schema)) {
    if (!keep(keyword)) continue
    if (SINGLE.has(keyword) && isSchemaNode(value)) out[keyword] = map(value)
    else if (keyword === 'items' && isSchemaNode(value)) out[keyword] = map(value)
    else if ((LIST.has(keyword) || keyword === 'items') && Array.isArray(value)) out[keyword] = value.map((node) => (isSchemaNode(node) ? map(node) : node))
    else if (MAP.has(keyword) && isSchemaObject(value)) {
      const entries: Record<string, unknown> = {}
      for (const [name, node] of Object.entries(value)) entries[name] = isSchemaNode(node) ? map(node) : node
      out[keyword] = entries
    } else out[keyword] = value
  }
  return out
}

/** Calls `visit` on every subschema one level down (see {@link mapSubschemas}). */
export function forEachSubschema(schema: JsonSchema, visit: (node: SchemaNode) => void): void {
  mapSubschemas(schema, (node) => {
    visit(node)
    return node
  })
}
