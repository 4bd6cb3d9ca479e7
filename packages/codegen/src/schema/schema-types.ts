import type { ProcedureType } from '@wirecall/core'

/** A JSON Schema object (2020-12 unless a function says otherwise). */
export type JsonSchema = { readonly [keyword: string]: unknown }

/**
 * Where a schema came from, in the order the generator tries them: the
 * validator library's own converter, Standard JSON Schema, the TypeScript
 * type, and last nothing (`{}` marked `x-wirecall-unrepresentable`).
 */
export type SchemaSource = 'validator' | 'standard-json-schema' | 'typescript' | 'unrepresentable'

/** One side of one procedure. */
export interface SchemaEntry {
  /** A standalone 2020-12 schema of the wire form (named types under `$defs`), without `$schema`/`$id`. */
  readonly schema: JsonSchema
  readonly source: SchemaSource
  /** The validator library when `source` is `validator`: `zod`, `valibot`, `arktype`. */
  readonly library?: string | undefined
}

/** Both sides of one procedure. For a subscription, `output` is each event. */
export interface ProcedureSchemas {
  readonly path: string
  readonly kind: ProcedureType
  readonly idempotent: boolean
  readonly input: SchemaEntry
  readonly output: SchemaEntry
  /** A subscription that can resync (its events include `ResyncSignal`); the resync is its own message, not an event. */
  readonly resync?: boolean | undefined
}

/** Something the generator could not describe exactly; `--strict` makes any of them fail. */
export interface SchemaWarning {
  readonly path: string
  readonly side: 'input' | 'output'
  readonly message: string
}

/** Every procedure's schemas, in the router's order. */
export interface SchemaSet {
  readonly procedures: readonly ProcedureSchemas[]
  readonly warnings: readonly SchemaWarning[]
}
