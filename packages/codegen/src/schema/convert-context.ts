import type { DefinitionPool } from './definition-pool'
import type { JsonSchema } from './schema-types'

/** One side of a procedure being converted. */
export interface ConvertContext {
  /** The input side of a validator (what it accepts) or its output side (what it produces). */
  readonly io: 'input' | 'output'
  /** Definitions of the schema being built. */
  readonly pool: DefinitionPool
  /** Why parts of the schema could not be described: each becomes a warning. */
  readonly notes: string[]
  /** Where to resolve a converter module from (the router's file), before codegen's own. */
  readonly resolveFrom: string | undefined
}

/**
 * A validator library's own JSON Schema converter, driven so that it
 * describes the wire form. `convert` resolves to the root of the schema
 * (definitions go to `ctx.pool`), or `undefined` when the converter is not
 * available (a module not installed): the next source is tried.
 */
export interface LibraryConverter {
  readonly library: string
  matches(schema: unknown): boolean
  convert(schema: unknown, ctx: ConvertContext): Promise<JsonSchema | undefined>
}

/** Empties `target` and fills it with `next`: converters' override hooks edit the node they are handed. */
export function replaceNode(target: Record<string, unknown>, next: JsonSchema): void {
  for (const key of Object.keys(target)) delete target[key]
  Object.assign(target, next)
}
