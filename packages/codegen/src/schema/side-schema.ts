import type { ApiModel } from '../model/api-model'
import type { TypeModel } from '../model/type-model'
import type { ConvertContext, LibraryConverter } from './convert-context'
import { arktypeConverter } from './convert-arktype'
import { convertStandardJsonSchema } from './convert-standard'
import { valibotConverter } from './convert-valibot'
import { zodConverter } from './convert-zod'
import { DefinitionPool } from './definition-pool'
import type { JsonSchema, SchemaEntry, SchemaSource } from './schema-types'
import { sortSchemaKeys } from './schema-walk'
import { TypeModelWriter } from './type-model-schema'
import { unrepresentable, wireUndefined } from './wire-schemas'

/** The libraries whose own converters come first, each recognised from the schema object itself. */
const LIBRARIES: readonly LibraryConverter[] = [zodConverter, valibotConverter, arktypeConverter]

/** One side of one procedure, and what the generator knows of it. */
export interface SideRequest {
  readonly io: 'input' | 'output'
  /** The side's validators: every `.input()` (all must pass: their schemas are `allOf`), or the `.output()`. */
  readonly validators: readonly unknown[]
  /** The side's TypeScript type, when the checker's model is at hand. */
  readonly type: TypeModel | undefined
  readonly aliases: ApiModel['aliases']
  /** No `.input()` at all: the builder types the input `undefined`, model or not. */
  readonly undeclaredInput: boolean
  readonly resolveFrom: string | undefined
}

/** A side's schema, and why parts of it are not exact (each a warning). */
export interface SideResult {
  readonly entry: SchemaEntry
  readonly notes: readonly string[]
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** One validator through its library's converter, else Standard JSON Schema; `undefined` when neither applies. */
async function convertValidator(
  validator: unknown,
  ctx: ConvertContext,
  failures: string[],
): Promise<{ root: JsonSchema; source: SchemaSource; library?: string } | undefined> {
  const library = LIBRARIES.find((l) => l.matches(validator))
  if (library !== undefined) {
    try {
      const root = await library.convert(validator, ctx)
      if (root !== undefined) return { root, source: 'validator', library: library.library }
      failures.push(`${library.library}'s converter is not installed`)
    } catch (error) {
      failures.push(`${library.library}'s converter failed: ${message(error)}`)
    }
  }
  try {
    const root = convertStandardJsonSchema(validator, ctx)
    if (root !== undefined) return { root, source: 'standard-json-schema' }
  } catch (error) {
    failures.push(`Standard JSON Schema failed: ${message(error)}`)
  }
  return undefined
}

/** Sources 1 and 2: every validator of the side converted, or `undefined` if one cannot be. */
async function fromValidators(req: SideRequest, failures: string[]): Promise<SideResult | undefined> {
  const pool = new DefinitionPool()
  const ctx: ConvertContext = { io: req.io, pool, notes: [], resolveFrom: req.resolveFrom }
  const parts: { root: JsonSchema; source: SchemaSource; library?: string }[] = []
  for (const validator of req.validators) {
    const part = await convertValidator(validator, ctx, failures)
    if (part === undefined) return undefined
    parts.push(part)
  }
  // Several `.input()` schemas each validate what the client sent: the wire value meets all of them.
  const root = parts.length === 1 ? parts[0]!.root : { allOf: parts.map((p) => p.root) }
  const libraries = [...new Set(parts.flatMap((p) => (p.library === undefined ? [] : [p.library])))]
  const source: SchemaSource = parts.every((p) => p.source === 'validator') ? 'validator' : 'standard-json-schema'
  const schema = sortSchemaKeys(pool.finish(root)) as JsonSchema
  return {
    entry: { schema, source, ...(source === 'validator' && { library: libraries.join('+') }) },
    notes: ctx.notes,
  }
}

/**
 * The schema of one side, from the first source that applies: the
 * validator library's converter, Standard JSON Schema, the TypeScript type,
 * and last `{}` marked `x-wirecall-unrepresentable`. A converted validator
 * with parts it could not describe yields to the TypeScript type when the
 * model has it; without the model it stands, and each part is a warning.
 */
export async function sideSchema(req: SideRequest): Promise<SideResult> {
  const failures: string[] = []
  if (req.validators.length > 0) {
    const converted = await fromValidators(req, failures)
    // A validator whose schema has holes (a transform's output, a custom check) gives way to the
    // TypeScript type when there is one: that type is the validator's own (`inferSchemaOutput`), exact.
    if (converted !== undefined && (converted.notes.length === 0 || req.type === undefined)) return converted
  }
  if (req.type !== undefined || req.undeclaredInput) {
    const pool = new DefinitionPool()
    const notes: string[] = []
    const root = req.type === undefined ? wireUndefined() : new TypeModelWriter(req.aliases, pool, notes).write(req.type)
    return { entry: { schema: sortSchemaKeys(pool.finish(root)) as JsonSchema, source: 'typescript' }, notes }
  }
  const why = [
    req.validators.length === 0 ? `no ${req.io} validator` : `the ${req.io} validator has no JSON Schema (${failures.join('; ')})`,
    'and no TypeScript types to read',
  ].join(', ')
  return { entry: { schema: unrepresentable(why), source: 'unrepresentable' }, notes: [why] }
}
