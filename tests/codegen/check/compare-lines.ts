import { compareManifests } from '../../../packages/codegen/src/manifest/compare-manifests'
import { formatChange } from '../../../packages/codegen/src/manifest/format-changes'
import type { ApiManifest, ManifestProcedure } from '../../../packages/codegen/src/manifest/manifest-types'
import type { JsonSchema } from '../../../packages/codegen/src/schema/schema-types'

/** A manifest of the given procedures, as a lock file would hold them. */
export function manifest(procedures: Record<string, ManifestProcedure>): ApiManifest {
  return { format: 'wirecall-api/1', protocol: 'wirecall.v1', procedures }
}

/** The `api check` lines for one query `p` whose input (or output) changed from `old` to `next`. */
export function sideLines(side: 'input' | 'output', old: JsonSchema, next: JsonSchema): string[] {
  const other: JsonSchema = { type: 'string' }
  const proc = (schema: JsonSchema): ManifestProcedure => ({ kind: 'query', input: side === 'input' ? schema : other, output: side === 'output' ? schema : other })
  return compareManifests(manifest({ p: proc(old) }), manifest({ p: proc(next) })).map(formatChange)
}
