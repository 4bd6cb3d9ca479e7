import type { ApiModel } from '../model/api-model'
import type { PrimitiveName, TypeModel } from '../model/type-model'
import { defRef, type DefinitionPool } from './definition-pool'
import type { JsonSchema } from './schema-types'
import {
  orUndefined,
  unrepresentable,
  wireAnyNumber,
  wireBigint,
  wireBigintLiteral,
  wireDate,
  wireError,
  wireMap,
  wireRegExp,
  wireSet,
  wireTypedArray,
  wireUndefined,
  wireUrl,
} from './wire-schemas'

function primitive(name: PrimitiveName): JsonSchema {
  switch (name) {
    case 'string':
      return { type: 'string' }
    case 'number':
      return wireAnyNumber()
    case 'boolean':
      return { type: 'boolean' }
    case 'bigint':
      return wireBigint()
    case 'null':
      return { type: 'null' }
    case 'undefined':
    case 'void':
      return wireUndefined()
    case 'unknown':
      return {}
    case 'never':
      return { not: {} }
  }
}

/**
 * Writes TypeScript types (the checker's {@link TypeModel}) as JSON Schemas
 * of their wire form. Named types (`ref`) become `$defs` of the schema being
 * built, each written once however often, and however recursively, it is
 * referred to.
 */
export class TypeModelWriter {
  constructor(
    private readonly aliases: ApiModel['aliases'],
    private readonly pool: DefinitionPool,
    /** Why parts could not be described: each becomes a warning. */
    private readonly notes: string[],
  ) {}

  private readonly written = new Map<string, string>()

  write(type: TypeModel): JsonSchema {
    switch (type.kind) {
      case 'primitive':
        return primitive(type.name)
      case 'literal':
        return { const: type.value }
      case 'bigint-literal':
        return wireBigintLiteral(type.digits)
      case 'object':
        return this.object(type)
      case 'array':
        return { type: 'array', items: this.write(type.element) }
      case 'tuple':
        return this.tuple(type)
      case 'union':
        return this.union(type.members)
      case 'intersection':
        return { allOf: type.members.map((m) => this.write(m)) }
      case 'rich':
        return this.rich(type)
      case 'ref':
        return { $ref: defRef(this.define(type.name)) }
      case 'resync':
        // A resync is its own message (`resync`), never an event: the caller drops it from the union.
        return { not: {} }
    }
  }

  /** Writes the alias `name` into the pool once; returns the name it is defined under. */
  private define(name: string): string {
    const done = this.written.get(name)
    if (done !== undefined) return done
    const target = this.aliases.get(name)
    // Reserve the name before writing: a recursive alias refers to itself.
    const defined = this.pool.reserve(name)
    this.written.set(name, defined)
    const schema = target === undefined ? this.cannot(`the type ${name} (no definition)`) : this.write(target)
    this.pool.replace(defined, schema)
    return defined
  }

  private object(type: Extract<TypeModel, { kind: 'object' }>): JsonSchema {
    const properties: Record<string, JsonSchema> = {}
    const required: string[] = []
    for (const p of type.properties) {
      const schema = this.write(p.type)
      // An optional property may be present and undefined, which travels as null.
      properties[p.name] = p.optional ? orUndefined(schema) : schema
      if (!p.optional) required.push(p.name)
    }
    return {
      type: 'object',
      ...(type.properties.length > 0 && { properties }),
      ...(required.length > 0 && { required }),
      ...(type.index !== undefined && { additionalProperties: this.write(type.index) }),
    }
  }

  /**
   * A tuple. Optional elements give one exact tuple per length (`anyOf`),
   * which strict validators accept; a rest element is `prefixItems` with
   * `items`, exact 2020-12 that ajv's `strictTuples` flags (an open tuple).
   */
  private tuple(type: Extract<TypeModel, { kind: 'tuple' }>): JsonSchema {
    const fixed = type.elements.filter((e) => !e.rest)
    const rest = type.elements.find((e) => e.rest)
    const required = fixed.filter((e) => !e.optional).length
    if (rest !== undefined) {
      const restType = rest.type.kind === 'array' ? rest.type.element : rest.type
      const prefixItems = fixed.map((e) => (e.optional ? orUndefined(this.write(e.type)) : this.write(e.type)))
      return { type: 'array', ...(prefixItems.length > 0 && { prefixItems }), minItems: required, items: this.write(restType) }
    }
    const elements = fixed.map((e) => this.write(e.type))
    const ofLength = (length: number): JsonSchema =>
      length === 0 ? { type: 'array', maxItems: 0 } : { type: 'array', prefixItems: elements.slice(0, length), minItems: length, maxItems: length }
    if (required === fixed.length) return ofLength(required)
    const lengths = Array.from({ length: fixed.length - required + 1 }, (_, i) => required + i)
    return { anyOf: lengths.map(ofLength) }
  }

  private union(members: readonly TypeModel[]): JsonSchema {
    const kept = members.filter((m) => m.kind !== 'resync')
    if (kept.length > 0 && kept.every((m) => m.kind === 'literal')) {
      return { enum: kept.map((m) => m.value) }
    }
    // `undefined | void` and the like are one wire form: each written once.
    const byText = new Map<string, JsonSchema>()
    for (const member of kept) {
      const schema = this.write(member)
      byText.set(JSON.stringify(schema), schema)
    }
    const written = [...byText.values()]
    return written.length === 1 ? written[0]! : { anyOf: written }
  }

  private rich(type: Extract<TypeModel, { kind: 'rich' }>): JsonSchema {
    const arg = (i: number): JsonSchema => (type.args[i] === undefined ? {} : this.write(type.args[i]))
    switch (type.name) {
      case 'Date':
        return wireDate()
      case 'Map':
        return wireMap(arg(0), arg(1))
      case 'Set':
        return wireSet(arg(0))
      case 'URL':
        return wireUrl()
      case 'RegExp':
        return wireRegExp()
      case 'Error':
        return wireError()
      case 'Int8Array':
      case 'Uint8Array':
      case 'Uint8ClampedArray':
      case 'Int16Array':
      case 'Uint16Array':
      case 'Int32Array':
      case 'Uint32Array':
      case 'Float32Array':
      case 'Float64Array':
      case 'BigInt64Array':
      case 'BigUint64Array':
        return wireTypedArray(type.name) ?? this.cannot(`a ${type.name}, whose bigints JSON cannot hold`)
    }
  }

  private cannot(why: string): JsonSchema {
    this.notes.push(why)
    return unrepresentable(why)
  }
}

/** Whether a subscription's event type includes wirecall's resync signal (at its top level). */
export function hasResync(type: TypeModel): boolean {
  return type.kind === 'resync' || (type.kind === 'union' && type.members.some((m) => m.kind === 'resync'))
}
