import type { ProcedureType } from '@wirecall/core'
import type { JsonSchema } from '../schema/schema-types'

/**
 * A router's normalised API: what `api.lock.json` holds, what
 * `wirecall api check` compares, and what the schema endpoint answers.
 * Keys sorted, schemas normalised, so that equal APIs give equal files.
 */
export interface ApiManifest {
  readonly format: 'wirecall-api/1'
  readonly protocol: 'wirecall.v1'
  /** By dotted path, sorted. */
  readonly procedures: { readonly [path: string]: ManifestProcedure }
}

export interface ManifestProcedure {
  readonly kind: ProcedureType
  readonly idempotent?: true
  readonly resync?: true
  readonly input: JsonSchema
  /** For a subscription: each event. */
  readonly output: JsonSchema
}
