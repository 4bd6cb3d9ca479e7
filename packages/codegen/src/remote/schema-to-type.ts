import { UNREPRESENTABLE, WIRE_TYPE } from '../schema/wire-schemas'
import { RICH_NAMES, type PropertyModel, type RichName, type TupleElementModel, type TypeModel } from '../model/type-model'

/**
 * Reads a wire-form JSON Schema (what `generate schema` writes and the
 * schema endpoint answers) back into a {@link TypeModel}: the inverse of
 * the schema writer, for `generate types --url`. It reads what that writer
 * emits (2020-12, `$defs`) and the draft-07 spellings (`definitions`,
 * `items` as an array); a keyword it does not know narrows nothing, so an
 * unknown schema reads as `unknown`, never as something stricter than the
 * server accepts.
 */

/** Where `$ref`s resolve: one standalone schema's named definitions, given alias names by the caller. */
export interface RefScope {
  /** The alias name of definition `name` of this schema, or `undefined` when it has none. */
  aliasOf(name: string): string | undefined
  /** The alias name of the whole schema, for a `$ref: '#'` (a recursive root). */
  rootAlias(): string
}

const UNKNOWN: TypeModel = { kind: 'primitive', name: 'unknown' }

/** `x-wirecall-type` values, lower-cased, to what they revive as. */
const RICH_BY_MARKER: ReadonlyMap<string, RichName> = new Map(RICH_NAMES.map((name) => [name.toLowerCase(), name]))

type Schema = { readonly [keyword: string]: unknown }

/**
 * How deep a schema is read before the rest reads as `unknown`: the
 * schemas come from a server, and one nested past the stack must give a
 * looser type, not a crash. No real payload type nests this deep.
 */
const MAX_DEPTH = 256
/** Nesting of the read in progress; reads are synchronous, so one counter serves them all. */
let depth = 0

/** The type a schema describes; `scope` names its `$ref` targets. */
export function schemaToType(schema: unknown, scope: RefScope): TypeModel {
  if (depth >= MAX_DEPTH) return UNKNOWN
  depth++
  try {
    return readSchema(schema, scope)
  } finally {
    depth--
  }
}

function readSchema(schema: unknown, scope: RefScope): TypeModel {
  if (schema === true) return UNKNOWN
  if (schema === false) return { kind: 'primitive', name: 'never' }
  if (!isSchema(schema)) return UNKNOWN
  if (schema[UNREPRESENTABLE] !== undefined) return UNKNOWN
  const marked = markedType(schema, scope)
  if (marked !== undefined) return marked
  if (typeof schema.$ref === 'string') return refType(schema.$ref, scope)
  const parts: TypeModel[] = []
  const own = ownType(schema, scope)
  if (own !== undefined) parts.push(own)
  const alternatives = schema.anyOf ?? schema.oneOf
  if (Array.isArray(alternatives)) parts.push(union(alternatives.map((member) => schemaToType(member, scope))))
  if (Array.isArray(schema.allOf)) parts.push(...schema.allOf.map((member) => schemaToType(member, scope)))
  return intersection(parts)
}

/** A value the serializer carries with its own meta type: `x-wirecall-type` says which, the wire form holds its arguments. */
function markedType(schema: Schema, scope: RefScope): TypeModel | undefined {
  const name = markerName(schema[WIRE_TYPE])
  if (name === undefined) return undefined
  if (name === 'undefined') return { kind: 'primitive', name: 'undefined' }
  // NaN, ±Infinity and -0 travel as strings: still a number to the reader (the union with the finite numbers collapses).
  if (name === 'number') return { kind: 'primitive', name: 'number' }
  if (name === 'bigint') {
    const literals = constants(schema)
    if (literals === undefined) return { kind: 'primitive', name: 'bigint' }
    return union(literals.filter((value): value is string => typeof value === 'string' && /^-?\d+$/.test(value)).map((digits) => ({ kind: 'bigint-literal', digits })))
  }
  const rich = RICH_BY_MARKER.get(name)
  if (rich === undefined) return undefined
  if (rich === 'Map') {
    const pair = tupleSchemas(schema.items)
    return { kind: 'rich', name: rich, args: [schemaToType(pair?.[0] ?? true, scope), schemaToType(pair?.[1] ?? true, scope)] }
  }
  if (rich === 'Set') return { kind: 'rich', name: rich, args: [schemaToType(isArrayItems(schema.items) ? schema.items : true, scope)] }
  return { kind: 'rich', name: rich, args: [] }
}

/**
 * The meta type a marker names, lower-cased: the annotation as `meta`
 * holds it, a name (`"Date"`, `"map"`) or a pair (`["typed-array",
 * "Uint8Array"]`, and wirecall's own `["custom", "wirecall.Float32Array"]`).
 */
function markerName(marker: unknown): string | undefined {
  if (typeof marker === 'string') return marker.toLowerCase()
  if (!Array.isArray(marker) || typeof marker[1] !== 'string') return undefined
  if (marker[0] === 'typed-array') return marker[1].toLowerCase()
  if (marker[0] === 'custom' && marker[1].startsWith('wirecall.')) return marker[1].slice('wirecall.'.length).toLowerCase()
  return undefined
}

function refType(ref: string, scope: RefScope): TypeModel {
  if (ref === '#') return { kind: 'ref', name: scope.rootAlias() }
  const name = definitionNameOf(ref)
  const alias = name === undefined ? undefined : scope.aliasOf(name)
  return alias === undefined ? UNKNOWN : { kind: 'ref', name: alias }
}

/** The definition a local `$ref` points at (`#/$defs/Post` → `Post`); `undefined` for any other reference. */
export function definitionNameOf(ref: string): string | undefined {
  const match = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref)
  return match === null ? undefined : unescapePointer(match[1]!)
}

/** What `const`, `enum` and `type` say, without the combinators. */
function ownType(schema: Schema, scope: RefScope): TypeModel | undefined {
  const literals = constants(schema)
  if (literals !== undefined) return union(literals.map(literalType))
  const type = schema.type
  if (Array.isArray(type)) return union(type.filter((name): name is string => typeof name === 'string').map((name) => typeNamed(name, schema, scope)))
  if (typeof type === 'string') return typeNamed(type, schema, scope)
  if (schema.properties !== undefined || schema.additionalProperties !== undefined || schema.required !== undefined) return objectType(schema, scope)
  if (schema.items !== undefined || schema.prefixItems !== undefined) return arrayType(schema, scope)
  const combined = schema.anyOf !== undefined || schema.oneOf !== undefined || schema.allOf !== undefined
  if (combined) return undefined
  // `{ not: {} }`: nothing is valid, the writer's `never`. Any other `not` narrows too little to say.
  return schema.not === true || (isSchema(schema.not) && Object.keys(schema.not).length === 0) ? { kind: 'primitive', name: 'never' } : UNKNOWN
}

function typeNamed(name: string, schema: Schema, scope: RefScope): TypeModel {
  switch (name) {
    case 'string':
      return { kind: 'primitive', name: 'string' }
    case 'number':
    case 'integer':
      return { kind: 'primitive', name: 'number' }
    case 'boolean':
      return { kind: 'primitive', name: 'boolean' }
    case 'null':
      return { kind: 'primitive', name: 'null' }
    case 'array':
      return arrayType(schema, scope)
    case 'object':
      return objectType(schema, scope)
    default:
      return UNKNOWN
  }
}

function literalType(value: unknown): TypeModel {
  if (value === null) return { kind: 'primitive', name: 'null' }
  if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value))) return { kind: 'literal', value }
  // An object or array constant has no literal type; its shape is still a value of unknown type to the reader.
  return UNKNOWN
}

function objectType(schema: Schema, scope: RefScope): TypeModel {
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((key): key is string => typeof key === 'string') : [])
  const properties: PropertyModel[] = []
  const declared = isSchema(schema.properties) ? schema.properties : {}
  for (const name of Object.keys(declared)) {
    const property = declared[name]
    const doc = isSchema(property) && typeof property.description === 'string' ? property.description : undefined
    properties.push({ name, type: schemaToType(property, scope), optional: !required.has(name), readonly: isSchema(property) && property.readOnly === true, doc })
  }
  return { kind: 'object', properties, index: indexType(schema, scope, properties.length > 0) }
}

/** The index signature: `additionalProperties` and `patternProperties`; an object that lists no property and forbids none takes any key. */
function indexType(schema: Schema, scope: RefScope, hasProperties: boolean): TypeModel | undefined {
  const members: TypeModel[] = []
  const additional = schema.additionalProperties
  if (isSchema(additional)) members.push(schemaToType(additional, scope))
  if (isSchema(schema.patternProperties)) for (const value of Object.values(schema.patternProperties)) members.push(schemaToType(value, scope))
  if (members.length > 0) return union(members)
  if (additional === true || (additional === undefined && !hasProperties)) return UNKNOWN
  return undefined
}

function arrayType(schema: Schema, scope: RefScope): TypeModel {
  const prefix = tupleSchemas(schema.prefixItems) ?? tupleSchemas(schema.items)
  if (prefix === undefined) return { kind: 'array', element: schemaToType(isArrayItems(schema.items) ? schema.items : true, scope), readonly: false }
  const minItems = typeof schema.minItems === 'number' ? schema.minItems : 0
  const elements: TupleElementModel[] = prefix.map((element, at) => ({ type: schemaToType(element, scope), optional: at >= minItems, rest: false }))
  // After the prefix: `items` (2020-12) or `additionalItems` (draft-07); absent means any number of anything.
  const rest = Array.isArray(schema.prefixItems) ? schema.items : schema.additionalItems
  const closed = rest === false || (typeof schema.maxItems === 'number' && schema.maxItems <= prefix.length)
  if (!closed) elements.push({ type: { kind: 'array', element: schemaToType(rest ?? true, scope), readonly: false }, optional: false, rest: true })
  return { kind: 'tuple', elements, readonly: false }
}

/** The element schemas of a tuple: `prefixItems`, or draft-07's `items: [...]`. */
function tupleSchemas(value: unknown): readonly unknown[] | undefined {
  if (isSchema(value) && Array.isArray(value.prefixItems)) return value.prefixItems as unknown[]
  return Array.isArray(value) ? value : undefined
}

function isArrayItems(value: unknown): value is Schema | boolean {
  return typeof value === 'boolean' || isSchema(value)
}

/** The values a schema allows when it lists them (`const`, `enum`). */
function constants(schema: Schema): readonly unknown[] | undefined {
  if ('const' in schema) return [schema.const]
  return Array.isArray(schema.enum) ? schema.enum : undefined
}

/** A union of `members`, flattened, without repeats; one member is itself, none is `never`. */
export function union(members: readonly TypeModel[]): TypeModel {
  const flat: TypeModel[] = []
  const seen = new Set<string>()
  for (const member of members.flatMap((m) => (m.kind === 'union' ? m.members : [m]))) {
    const key = JSON.stringify(member)
    if (seen.has(key)) continue
    seen.add(key)
    flat.push(member)
  }
  if (flat.some((m) => m.kind === 'primitive' && m.name === 'unknown')) return UNKNOWN
  if (flat.length === 1) return flat[0]!
  return flat.length === 0 ? { kind: 'primitive', name: 'never' } : { kind: 'union', members: flat }
}

function intersection(parts: readonly TypeModel[]): TypeModel {
  const narrowing = parts.filter((part) => !(part.kind === 'primitive' && part.name === 'unknown'))
  if (narrowing.length === 0) return UNKNOWN
  return narrowing.length === 1 ? narrowing[0]! : { kind: 'intersection', members: narrowing }
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A JSON Pointer segment: `~1` is `/`, `~0` is `~`; percent-escapes as URI fragments write them. */
function unescapePointer(segment: string): string {
  let text = segment
  try {
    text = decodeURIComponent(segment)
  } catch {
    // Not percent-encoded after all: keep it as written.
  }
  return text.replace(/~1/g, '/').replace(/~0/g, '~')
}
