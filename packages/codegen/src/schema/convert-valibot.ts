import { type ConvertContext, type LibraryConverter } from './convert-context'
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

/** What the generator reads of a valibot schema. */
interface ValibotLike {
  readonly kind: 'schema'
  readonly type: string
  readonly key?: ValibotLike
  readonly value?: ValibotLike
  readonly literal?: unknown
  readonly pipe?: readonly { readonly kind: string; readonly type: string }[]
}
interface OverrideContext {
  readonly valibotSchema: ValibotLike
  readonly jsonSchema: JsonSchema
  readonly errors: readonly string[] | undefined
}
type ToJsonSchema = (schema: ValibotLike, config: object) => JsonSchema

/** valibot's `number` refuses NaN, takes ±Infinity (and `-0`, sent as `"-0"`). */
const VALIBOT_NUMBERS: NumberPolicy = { infinite: true, nan: false }

/** Actions that change a value's type; after the pipe's last schema they leave its output unknown. Type-keeping ones (`trim`, `to_lower_case`) do not. */
const RETYPING = /^(transform|raw_transform|parse_json|stringify_json|to_(?!lower_case|upper_case|min_value|max_value)\w+)$/

const isValibot = (schema: unknown): schema is ValibotLike =>
  typeof schema === 'object' &&
  schema !== null &&
  (schema as { kind?: unknown }).kind === 'schema' &&
  (schema as { '~standard'?: { vendor?: unknown } })['~standard']?.vendor === 'valibot'

/** The output of a pipe that retypes after its last schema cannot be known from the schema. */
function retypedOutput(schema: ValibotLike): boolean {
  const pipe = schema.pipe ?? []
  let lastSchema = 0
  pipe.forEach((item, i) => {
    if (item.kind === 'schema') lastSchema = i
  })
  return pipe.some((item, i) => i > lastSchema && item.kind === 'transformation' && RETYPING.test(item.type))
}

/**
 * valibot: `toJsonSchema(schema, { typeMode, target: 'draft-2020-12', errorMode: 'ignore', overrideSchema })`
 * from `@valibot/to-json-schema` (the user's copy next to the router, else
 * the one beside codegen: an optional peer). It throws on `Date` and the
 * other rich types without the override; with it, each becomes its wire
 * form. Whatever else it could not convert is marked, with its error.
 */
export const valibotConverter: LibraryConverter = {
  library: 'valibot',
  matches: isValibot,
  async convert(schema, ctx) {
    if (!isValibot(schema)) return undefined
    const mod = (await importFrom('@valibot/to-json-schema', ctx.resolveFrom, true)) as { toJsonSchema?: ToJsonSchema } | undefined
    const toJsonSchema = mod?.toJsonSchema
    if (typeof toJsonSchema !== 'function') return undefined
    const run = (s: ValibotLike): JsonSchema => {
      const raw = toJsonSchema(s, {
        typeMode: ctx.io,
        target: 'draft-2020-12',
        errorMode: 'ignore',
        overrideSchema: (o: OverrideContext) => override(o, ctx, run),
      })
      return ctx.pool.absorb(addNumberSpecials(splitTypeArrays(raw), VALIBOT_NUMBERS))
    }
    return run(schema)
  },
}

function override(o: OverrideContext, ctx: ConvertContext, run: (s: ValibotLike) => JsonSchema): JsonSchema | undefined {
  const s = o.valibotSchema
  const cannot = (why: string): JsonSchema => {
    ctx.notes.push(`${why} (valibot ${s.type})`)
    return unrepresentable(why)
  }
  if (ctx.io === 'output' && retypedOutput(s)) return cannot('the output of a transform (end the pipe with a schema of its output)')
  switch (s.type) {
    case 'date':
      return wireDate()
    case 'bigint':
      return wireBigint()
    case 'undefined':
    case 'void':
      return wireUndefined()
    case 'nan':
      return wireSpecialNumbers(['NaN'])
    case 'map':
      return wireMap(s.key ? run(s.key) : {}, s.value ? run(s.value) : {})
    case 'set':
      return wireSet(s.value ? run(s.value) : {})
    case 'literal':
      return typeof s.literal === 'bigint' ? wireBigintLiteral(String(s.literal)) : undefined
    case 'optional':
    case 'undefinedable':
    case 'nullish':
      return orUndefined(o.jsonSchema)
    case 'instance':
    case 'custom':
    case 'function':
    case 'promise':
    case 'symbol':
    case 'blob':
    case 'file':
      return cannot(`a ${s.type} schema, which has no JSON form`)
    default:
      return o.errors !== undefined && o.errors.length > 0 ? cannot(o.errors[0]!) : undefined
  }
}
