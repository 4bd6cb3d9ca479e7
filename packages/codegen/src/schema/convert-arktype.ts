import type { ConvertContext, LibraryConverter } from './convert-context'
import { addNumberSpecials, type NumberPolicy } from './number-specials'
import type { JsonSchema } from './schema-types'
import { splitTypeArrays } from './split-type-arrays'
import {
  unrepresentable,
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

/** What the generator calls on an arktype Type: its input and output sides, each with `toJsonSchema`. */
interface ArkSide {
  toJsonSchema(options: object): JsonSchema
}
interface ArkLike {
  readonly in: ArkSide
  readonly out: ArkSide
}
interface FallbackContext {
  readonly code: string
  readonly base: JsonSchema
  readonly domain?: string
  readonly unit?: unknown
  readonly proto?: { readonly name?: string }
  readonly out?: JsonSchema | null
}

/** arktype's `number` refuses NaN, takes ±Infinity (and `-0`, sent as `"-0"`). */
const ARKTYPE_NUMBERS: NumberPolicy = { infinite: true, nan: false }

const isArktype = (schema: unknown): schema is ArkLike =>
  (typeof schema === 'function' || (typeof schema === 'object' && schema !== null)) &&
  (schema as { '~standard'?: { vendor?: unknown } })['~standard']?.vendor === 'arktype' &&
  typeof (schema as { in?: { toJsonSchema?: unknown } }).in?.toJsonSchema === 'function'

/** A class instance by its constructor's name. */
function protoSchema(name: string): JsonSchema | undefined {
  switch (name) {
    case 'Date':
      return wireDate()
    case 'Map':
      return wireMap({}, {})
    case 'Set':
      return wireSet({})
    case 'URL':
      return wireUrl()
    case 'RegExp':
      return wireRegExp()
    case 'Error':
      return wireError()
    default:
      return wireTypedArray(name)
  }
}

function fallback(f: FallbackContext, ctx: ConvertContext): JsonSchema | undefined {
  const cannot = (why: string): JsonSchema => {
    ctx.notes.push(`${why} (arktype ${f.code})`)
    return unrepresentable(why)
  }
  switch (f.code) {
    case 'date':
      return wireDate()
    case 'domain':
      return f.domain === 'bigint' ? wireBigint() : f.domain === 'undefined' ? wireUndefined() : cannot(`a ${String(f.domain)}, which cannot cross the wire`)
    case 'unit':
      return f.unit === undefined ? wireUndefined() : typeof f.unit === 'bigint' ? wireBigintLiteral(String(f.unit)) : cannot('a unit value with no JSON form')
    case 'proto': {
      const name = f.proto?.name ?? 'an object'
      return protoSchema(name) ?? cannot(`an instance of ${name}`)
    }
    case 'morph':
      return f.out ?? cannot('the output of a morph (declare it with .pipe(..., type(...)))')
    case 'defaultValue':
      // A default with no JSON form is left out; the key stays optional.
      return undefined
    default:
      // A narrow, a pattern intersection, a variadic tuple: the base is looser, never stricter.
      return f.base
  }
}

/** arktype: `type.in.toJsonSchema({ fallback })` for the input side, `type.out.toJsonSchema(…)` for the output. */
export const arktypeConverter: LibraryConverter = {
  library: 'arktype',
  matches: isArktype,
  convert(schema, ctx) {
    if (!isArktype(schema)) return Promise.resolve(undefined)
    const side = ctx.io === 'input' ? schema.in : schema.out
    const raw = side.toJsonSchema({ dialect: null, fallback: (f: FallbackContext) => fallback(f, ctx) })
    return Promise.resolve(ctx.pool.absorb(addNumberSpecials(splitTypeArrays(raw), ARKTYPE_NUMBERS)))
  },
}
