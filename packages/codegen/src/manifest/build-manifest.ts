import type { SchemaSet } from '../schema/schema-types'
import { sortKeysDeep } from './canonical-json'
import type { ApiManifest, ManifestProcedure } from './manifest-types'
import { normalizeSchema } from './normalize-schema'

/** Options of {@link buildManifest}. */
export interface BuildManifestOptions {
  /**
   * Keep `description`, `title`, `examples` and `$comment` in the schemas.
   * @default false: a lock file should not change when a doc comment does
   * (`api check` ignores them either way).
   */
  readonly keepDocs?: boolean | undefined
}

/**
 * The normalised manifest of a schema set: procedures by dotted path in
 * sorted order, each with its kind, `idempotent: true` / `resync: true`
 * when so, and its input and output (for a subscription, event) schemas in
 * canonical form (see `normalizeSchema`). Equal APIs give equal manifests,
 * and {@link manifestText} equal bytes.
 */
export function buildManifest(set: SchemaSet, options: BuildManifestOptions = {}): ApiManifest {
  const normalize = { keepDocs: options.keepDocs }
  const procedures: Record<string, ManifestProcedure> = {}
  for (const procedure of [...set.procedures].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    procedures[procedure.path] = {
      kind: procedure.kind,
      ...(procedure.idempotent && { idempotent: true }),
      ...(procedure.resync === true && { resync: true }),
      input: normalizeSchema(procedure.input.schema, normalize),
      output: normalizeSchema(procedure.output.schema, normalize),
    }
  }
  return { format: 'wirecall-api/1', protocol: 'wirecall.v1', procedures }
}

/** A manifest as `api.lock.json` holds it: pretty JSON, keys sorted, two-space indent, a trailing newline. */
export function manifestText(manifest: ApiManifest): string {
  return `${JSON.stringify(sortKeysDeep(manifest), null, 2)}\n`
}
