import type { ApiManifest } from '../manifest/manifest-types'
import type { JsonSchema, SchemaEntry, SchemaSet } from './schema-types'
import { UNREPRESENTABLE } from './wire-schemas'

const entryOf = (schema: JsonSchema): SchemaEntry => ({
  schema,
  // A server's manifest keeps the schemas, not where they came from: only an unrepresentable side says so itself.
  source: schema[UNREPRESENTABLE] === true ? 'unrepresentable' : 'validator',
})

/** The schema set of a manifest read from a running server (`generate schema --url`). */
export function manifestSchemaSet(manifest: ApiManifest): SchemaSet {
  const procedures = Object.entries(manifest.procedures).map(([path, p]) => ({
    path,
    kind: p.kind,
    idempotent: p.idempotent === true,
    input: entryOf(p.input),
    output: entryOf(p.output),
    ...(p.resync === true && { resync: true }),
  }))
  return { procedures, warnings: [] }
}
