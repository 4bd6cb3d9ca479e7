import type { JsonSchema } from './schema-types'
import { WIRE_TYPE, type SpecialNumber, wireSpecialNumbers } from './wire-schemas'
import { mapSchema } from './schema-walk'

/** Which of the numbers JSON cannot hold a validator library's `number` accepts. */
export interface NumberPolicy {
  /** `Infinity` and `-Infinity` (valibot, arktype: yes; zod 4: no). */
  readonly infinite: boolean
  readonly nan: boolean
}

/** What to assume of a validator the generator does not know (a Standard JSON Schema one): everything, so no value is refused. */
export const ANY_NUMBER_POLICY: NumberPolicy = { infinite: true, nan: true }

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined)

/**
 * The special numbers a `{ type: 'number' | 'integer', minimum, … }` node
 * can hold on the wire: `-0` (which the serializer writes as `"-0"`) when 0
 * is in range, `±Infinity` when the library accepts them and the side is
 * unbounded, `NaN` when the library accepts it.
 */
function specialsOf(node: JsonSchema, policy: NumberPolicy): SpecialNumber[] {
  const min = num(node.minimum)
  const max = num(node.maximum)
  const xmin = num(node.exclusiveMinimum)
  const xmax = num(node.exclusiveMaximum)
  const lowerBounded = min !== undefined || xmin !== undefined
  const upperBounded = max !== undefined || xmax !== undefined
  const out: SpecialNumber[] = []
  const open = node.type === 'number' && !('const' in node) && !('enum' in node)
  if (policy.nan && open) out.push('NaN')
  if (policy.infinite && open && !upperBounded) out.push('Infinity')
  if (policy.infinite && open && !lowerBounded) out.push('-Infinity')
  const zeroInRange = (min === undefined || min <= 0) && (max === undefined || max >= 0) && (xmin === undefined || xmin < 0) && (xmax === undefined || xmax > 0)
  // A literal 0 matches -0 too (`-0 === 0`), which then travels as "-0".
  const zero = 'const' in node ? node.const === 0 : Array.isArray(node.enum) ? node.enum.includes(0) : zeroInRange
  if (zero) out.push('-0')
  return out
}

/**
 * A converter's schema with every number node widened to what the
 * serializer writes for it: a number, or one of the special numbers as a
 * string marked `x-wirecall-type: "number"`. Nodes the generator built
 * itself (marked with `x-wirecall-type`) are left alone, and so are
 * nodes widened already: the function can run twice over one schema.
 */
export function addNumberSpecials(schema: JsonSchema, policy: NumberPolicy): JsonSchema {
  return mapSchema(
    schema,
    (node) => {
      if (node.type !== 'number' && node.type !== 'integer') return node
      const specials = specialsOf(node, policy)
      if (specials.length === 0) return node
      const { description, title, ...number } = node
      return { ...(title !== undefined && { title }), ...(description !== undefined && { description }), anyOf: [number, wireSpecialNumbers(specials)] }
    },
    // Built by the generator, or widened already (a definition taken in twice): left as it is.
    (node) => WIRE_TYPE in node || (Array.isArray(node.anyOf) && node.anyOf.some((m: JsonSchema) => m[WIRE_TYPE] === 'number')),
  )
}
