import type { JsonSchema } from '../schema/schema-types'
import { jsonEqual } from './canonical-json'
import { resolveRef } from './resolve-ref'
import { isAnnotation, isSchemaObject, WIRE_TYPE, type SchemaNode } from './schema-keywords'

/** `true`/`false` when known; `undefined` when the schema uses a keyword this matcher does not evaluate. */
export type Match = boolean | undefined

const EVALUATED = new Set([
  '$ref', '$defs', 'definitions', 'type', 'const', 'enum', 'anyOf', 'oneOf', 'allOf', 'not',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern',
  'items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'properties', 'required', 'additionalProperties',
  'propertyNames', 'minProperties', 'maxProperties', WIRE_TYPE,
])

/**
 * Whether a JSON value is valid against a schema of the generator's
 * vocabulary: how the comparison checks that an enum value, a constant or a
 * property name is still accepted. `format` and unknown keywords make the
 * answer `undefined` (cannot tell), never a guess.
 */
export function matchValue(value: unknown, schema: SchemaNode, root: JsonSchema, depth = 0): Match {
  if (typeof schema === 'boolean') return schema
  if (depth > 64) return undefined
  const results: Match[] = []
  for (const keyword of Object.keys(schema)) {
    if (!EVALUATED.has(keyword) && !isAnnotation(keyword)) return undefined
  }
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(root, schema.$ref)
    results.push(target === undefined ? undefined : matchValue(value, target, root, depth + 1))
  }
  if ('const' in schema) results.push(jsonEqual(value, schema.const))
  if (Array.isArray(schema.enum)) results.push(schema.enum.some((member) => jsonEqual(value, member)))
  if (schema.type !== undefined) results.push(typesOf(schema.type).some((type) => hasType(value, type)))
  const sub = (node: unknown): Match => (isSchemaObject(node) || typeof node === 'boolean' ? matchValue(value, node, root, depth + 1) : undefined)
  if (Array.isArray(schema.anyOf)) results.push(any(schema.anyOf.map(sub)))
  if (Array.isArray(schema.allOf)) results.push(all(schema.allOf.map(sub)))
  if (Array.isArray(schema.oneOf)) {
    const matches = schema.oneOf.map(sub)
    results.push(matches.includes(undefined) ? undefined : matches.filter(Boolean).length === 1)
  }
  if (schema.not !== undefined) {
    const inner = sub(schema.not)
    results.push(inner === undefined ? undefined : !inner)
  }
  if (typeof value === 'number') results.push(matchNumber(value, schema))
  if (typeof value === 'string') results.push(matchString(value, schema))
  if (Array.isArray(value)) results.push(matchArray(value, schema, root, depth))
  else if (isSchemaObject(value)) results.push(matchObject(value, schema, root, depth))
  return all(results)
}

function typesOf(type: unknown): string[] {
  return Array.isArray(type) ? type.filter((t): t is string => typeof t === 'string') : typeof type === 'string' ? [type] : []
}

/** The JSON type test, `integer` included. */
export function hasType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null': return value === null
    case 'boolean': return typeof value === 'boolean'
    case 'string': return typeof value === 'string'
    case 'number': return typeof value === 'number'
    case 'integer': return typeof value === 'number' && Number.isInteger(value)
    case 'array': return Array.isArray(value)
    case 'object': return isSchemaObject(value)
    default: return false
  }
}

function all(results: readonly Match[]): Match {
  if (results.includes(false)) return false
  return results.includes(undefined) ? undefined : true
}

function any(results: readonly Match[]): Match {
  if (results.includes(true)) return true
  return results.includes(undefined) ? undefined : false
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined)

function matchNumber(value: number, schema: JsonSchema): Match {
  const min = num(schema.minimum), max = num(schema.maximum), xmin = num(schema.exclusiveMinimum), xmax = num(schema.exclusiveMaximum), step = num(schema.multipleOf)
  if (min !== undefined && value < min) return false
  if (max !== undefined && value > max) return false
  if (xmin !== undefined && value <= xmin) return false
  if (xmax !== undefined && value >= xmax) return false
  if (step !== undefined && !Number.isInteger(value / step)) return false
  return true
}

function matchString(value: string, schema: JsonSchema): Match {
  const length = [...value].length
  const min = num(schema.minLength), max = num(schema.maxLength)
  if (min !== undefined && length < min) return false
  if (max !== undefined && length > max) return false
  if (typeof schema.pattern === 'string') {
    try {
      if (!new RegExp(schema.pattern, 'u').test(value)) return false
    } catch {
      return undefined
    }
  }
  return true
}

function matchArray(value: readonly unknown[], schema: JsonSchema, root: JsonSchema, depth: number): Match {
  const min = num(schema.minItems), max = num(schema.maxItems)
  if (min !== undefined && value.length < min) return false
  if (max !== undefined && value.length > max) return false
  if (schema.uniqueItems === true && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) return undefined
  const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as unknown[]) : []
  const results = value.map((item, index) => {
    const node = index < prefix.length ? prefix[index] : schema.items
    if (node === undefined) return true
    return isSchemaObject(node) || typeof node === 'boolean' ? matchValue(item, node, root, depth + 1) : undefined
  })
  return all(results)
}

function matchObject(value: Readonly<Record<string, unknown>>, schema: JsonSchema, root: JsonSchema, depth: number): Match {
  const properties = isSchemaObject(schema.properties) ? schema.properties : {}
  const required = Array.isArray(schema.required) ? schema.required : []
  const keys = Object.keys(value)
  const min = num(schema.minProperties), max = num(schema.maxProperties)
  if (min !== undefined && keys.length < min) return false
  if (max !== undefined && keys.length > max) return false
  if (required.some((name) => typeof name === 'string' && !Object.hasOwn(value, name))) return false
  const results: Match[] = keys.map((key) => {
    const node = Object.hasOwn(properties, key) ? properties[key] : schema.additionalProperties
    const names = schema.propertyNames === undefined ? true : isSchemaObject(schema.propertyNames) || typeof schema.propertyNames === 'boolean' ? matchValue(key, schema.propertyNames, root, depth + 1) : undefined
    const item = node === undefined ? true : isSchemaObject(node) || typeof node === 'boolean' ? matchValue(value[key], node, root, depth + 1) : undefined
    return all([names, item])
  })
  return all(results)
}
