import type { ConvertContext } from './convert-context'
import { addNumberSpecials, ANY_NUMBER_POLICY } from './number-specials'
import type { JsonSchema } from './schema-types'
import { splitTypeArrays } from './split-type-arrays'

interface StandardJsonSchemaProps {
  readonly jsonSchema?: {
    readonly input?: (options: { target: string }) => Record<string, unknown>
    readonly output?: (options: { target: string }) => Record<string, unknown>
  }
}

/** Whether the validator offers Standard JSON Schema (`~standard.jsonSchema`). */
export function offersStandardJsonSchema(schema: unknown): boolean {
  const props = (schema as { '~standard'?: StandardJsonSchemaProps } | null)?.['~standard']
  return typeof props?.jsonSchema?.input === 'function' && typeof props.jsonSchema.output === 'function'
}

/**
 * Standard JSON Schema: `schema['~standard'].jsonSchema[io]({ target: 'draft-2020-12' })`.
 * What the validator does with rich types is its own affair (no override
 * exists in this interface), so numbers are widened to every special one:
 * the schema may be looser than the validator, never stricter. Throws what
 * the validator throws (a type it cannot convert).
 */
export function convertStandardJsonSchema(schema: unknown, ctx: ConvertContext): JsonSchema | undefined {
  if (!offersStandardJsonSchema(schema)) return undefined
  const props = (schema as { '~standard': StandardJsonSchemaProps })['~standard']
  const convert = ctx.io === 'input' ? props.jsonSchema!.input! : props.jsonSchema!.output!
  const raw = convert({ target: 'draft-2020-12' })
  return ctx.pool.absorb(addNumberSpecials(splitTypeArrays(raw), ANY_NUMBER_POLICY))
}
