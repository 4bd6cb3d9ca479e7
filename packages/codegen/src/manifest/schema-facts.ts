import type { JsonSchema } from '../schema/schema-types'
import { isAnnotation, isSchemaObject, WIRE_TYPE, type SchemaNode } from './schema-keywords'

/** The JSON type names of JSON Schema, `integer` included. */
export const JSON_TYPES: readonly string[] = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string']

/** The keywords that constrain values (everything but annotations and `$defs`). */
export function constraintKeywords(schema: JsonSchema): string[] {
  return Object.keys(schema).filter((keyword) => !isAnnotation(keyword) && keyword !== '$defs' && keyword !== 'definitions')
}

/** Whether a node accepts every value: `true`, or an object with no constraint. */
export function acceptsAnything(node: SchemaNode): boolean {
  return node === true || (isSchemaObject(node) && constraintKeywords(node).length === 0)
}

/** The values a schema is limited to (`const`, else `enum`); `undefined` when it names none. */
export function valuesOf(schema: JsonSchema): readonly unknown[] | undefined {
  if ('const' in schema) return [schema.const]
  return Array.isArray(schema.enum) ? schema.enum : undefined
}

/** The JSON type of a value (`integer` for whole numbers). */
export function typeOfValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value === 'object' ? 'object' : typeof value
}

/** The JSON types a schema's `type` keyword (or, without one, its constant or enum values) allows; `undefined` for all. */
export function typesOf(schema: JsonSchema): readonly string[] | undefined {
  if (typeof schema.type === 'string') return [schema.type]
  if (Array.isArray(schema.type)) return schema.type.filter((type): type is string => typeof type === 'string')
  const values = valuesOf(schema)
  return values === undefined ? undefined : [...new Set(values.map(typeOfValue))]
}

/**
 * What a value is, for messages: the serializer's meta type when the
 * schema names one (`Date`, `bigint`, `number` for `NaN`...), else its JSON
 * types; `undefined` for any.
 */
export function kindsOf(schema: JsonSchema): readonly string[] | undefined {
  return typeof schema[WIRE_TYPE] === 'string' ? [schema[WIRE_TYPE]] : typesOf(schema)
}

/** Whether values of JSON type `type` are all of one of `types` (`integer` is a `number`). */
export function typeCovered(type: string, types: readonly string[]): boolean {
  return types.includes(type) || (type === 'integer' && types.includes('number'))
}

/** Whether some value has a type of both lists. */
export function typesOverlap(a: readonly string[], b: readonly string[]): boolean {
  return a.some((x) => b.some((y) => typeCovered(x, [y]) || typeCovered(y, [x])))
}

/** The members of a union (`anyOf`, else `oneOf`), or `undefined`. */
export function unionMembers(schema: JsonSchema): readonly SchemaNode[] | undefined {
  const members = Array.isArray(schema.anyOf) ? schema.anyOf : Array.isArray(schema.oneOf) ? schema.oneOf : undefined
  return members?.filter((member): member is SchemaNode => typeof member === 'boolean' || isSchemaObject(member))
}

/** A few words naming a schema in a message: `null`, `"draft"`, `string`, `object with kind "b"`, `Post`. */
export function describeSchema(node: SchemaNode): string {
  if (typeof node === 'boolean') return node ? 'anything' : 'nothing'
  if (typeof node.$ref === 'string') return node.$ref.split('/').pop() || 'the root type'
  const values = valuesOf(node)
  if (values !== undefined) return values.map((value) => JSON.stringify(value)).join(' | ')
  const types = typesOf(node)
  if (types?.length === 1 && types[0] === 'object' && isSchemaObject(node.properties)) {
    for (const [name, property] of Object.entries(node.properties)) {
      if (isSchemaObject(property) && 'const' in property) return `object with ${name} ${JSON.stringify(property.const)}`
    }
  }
  const members = unionMembers(node)
  if (members !== undefined) return members.map(describeSchema).join(' | ')
  return types === undefined ? 'any value' : types.join(' | ')
}
