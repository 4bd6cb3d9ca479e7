import { replaceNode, type ConvertContext, type LibraryConverter } from './convert-context'
import { addNumberSpecials, type NumberPolicy } from './number-specials'
import type { JsonSchema } from './schema-types'
import { splitTypeArrays } from './split-type-arrays'
import { importFrom } from './resolve-module'
import {
  orUndefined,
  unrepresentable,
  wireBigint,
  wireBigintLiteral,
  wireDate,
  wireMap,
  wireSet,
  wireSpecialNumbers,
  wireUndefined,
} from './wire-schemas'

/** What the generator reads of a zod 4 schema (classic or mini): its definition. */
interface ZodLike {
  readonly _zod: { readonly def: ZodDef }
  readonly toJSONSchema?: (params: object) => JsonSchema
}
interface ZodDef {
  readonly type: string
  readonly keyType?: ZodLike
  readonly valueType?: ZodLike
  readonly values?: readonly unknown[]
}
interface OverrideContext {
  readonly zodSchema: ZodLike
  readonly jsonSchema: Record<string, unknown>
  readonly path: readonly (string | number)[]
}
type ToJsonSchema = (schema: ZodLike, params: object) => JsonSchema

/** zod 4's `number` refuses NaN and ±Infinity; `-0` passes (and travels as `"-0"`). */
const ZOD_NUMBERS: NumberPolicy = { infinite: false, nan: false }

const isZod = (schema: unknown): schema is ZodLike =>
  typeof schema === 'object' && schema !== null && typeof (schema as { _zod?: { def?: unknown } })._zod?.def === 'object'

/** zod's own converter: the schema's `toJSONSchema` method (classic), else `toJSONSchema` of the user's `zod/v4/core` (mini). */
async function converterFor(schema: ZodLike, resolveFrom: string | undefined): Promise<ToJsonSchema | undefined> {
  if (typeof schema.toJSONSchema === 'function') return (s, params) => (s.toJSONSchema !== undefined ? s.toJSONSchema(params) : {})
  const core = (await importFrom('zod/v4/core', resolveFrom, false)) as { toJSONSchema?: ToJsonSchema } | undefined
  const fn = core?.toJSONSchema
  return typeof fn === 'function' ? (s, params) => fn(s, params) : undefined
}

const where = (path: readonly (string | number)[]): string => (path.length === 0 ? 'the root' : path.join('.'))

/** A literal's values as the serializer writes them: a bigint as its digits, `undefined` as null. */
function literalSchema(values: readonly unknown[]): JsonSchema | undefined {
  if (values.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return undefined
  const members = values.map((v): JsonSchema => (typeof v === 'bigint' ? wireBigintLiteral(String(v)) : v === undefined ? wireUndefined() : { const: v }))
  return members.length === 1 ? members[0]! : { anyOf: members }
}

/**
 * zod 4: `z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any', override })`.
 * zod throws on `Date`, `bigint`, `Map`, `Set` and `undefined` without the
 * override; with it, each becomes its wire form (a Map's key and value, a
 * Set's element, converted on their own and spliced in). Optional members
 * (and defaulted ones, on the input side) may be `undefined`, sent as null.
 */
export const zodConverter: LibraryConverter = {
  library: 'zod',
  matches: isZod,
  async convert(schema, ctx) {
    if (!isZod(schema)) return undefined
    const toJsonSchema = await converterFor(schema, ctx.resolveFrom)
    if (toJsonSchema === undefined) return undefined
    const run = (s: ZodLike): JsonSchema => {
      const raw = toJsonSchema(s, { io: ctx.io, target: 'draft-2020-12', unrepresentable: 'any', override: (o: OverrideContext) => override(o, ctx, run) })
      return ctx.pool.absorb(addNumberSpecials(splitTypeArrays(raw), ZOD_NUMBERS))
    }
    return run(schema)
  },
}

function override(o: OverrideContext, ctx: ConvertContext, run: (s: ZodLike) => JsonSchema): void {
  const def = o.zodSchema._zod.def
  const cannot = (why: string): void => {
    ctx.notes.push(`${why} at ${where(o.path)}`)
    replaceNode(o.jsonSchema, unrepresentable(why))
  }
  switch (def.type) {
    case 'date':
      return replaceNode(o.jsonSchema, wireDate())
    case 'bigint':
      return replaceNode(o.jsonSchema, wireBigint())
    case 'undefined':
    case 'void':
      return replaceNode(o.jsonSchema, wireUndefined())
    case 'nan':
      return replaceNode(o.jsonSchema, wireSpecialNumbers(['NaN']))
    case 'map':
      return replaceNode(o.jsonSchema, wireMap(def.keyType ? run(def.keyType) : {}, def.valueType ? run(def.valueType) : {}))
    case 'set':
      return replaceNode(o.jsonSchema, wireSet(def.valueType ? run(def.valueType) : {}))
    case 'literal': {
      const literal = literalSchema(def.values ?? [])
      if (literal !== undefined) replaceNode(o.jsonSchema, literal)
      return
    }
    case 'optional':
      return replaceNode(o.jsonSchema, orUndefined({ ...o.jsonSchema }))
    case 'default':
    case 'prefault':
      // A default fills in `undefined`: on the input side the key may hold it.
      if (ctx.io === 'input') replaceNode(o.jsonSchema, orUndefined({ ...o.jsonSchema }))
      return
    case 'transform':
      return cannot('the output of a transform (declare it with a schema after the transform)')
    case 'custom':
      return cannot('a custom (z.custom / z.instanceof) check')
    case 'symbol':
    case 'function':
    case 'promise':
      return cannot(`a ${def.type}, which cannot cross the wire`)
    default:
      return
  }
}
