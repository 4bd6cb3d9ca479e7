import type { ProcedureType } from '@wirecall/core'
import { isSchemaObject } from './schema-keywords'
import type { ApiManifest, ManifestProcedure } from './manifest-types'

const KINDS: ReadonlySet<string> = new Set<ProcedureType>(['query', 'mutation', 'subscription'])

/** Why a text is not a manifest; `undefined` when it is. */
function problem(value: unknown): string | undefined {
  if (!isSchemaObject(value)) return 'it is not a JSON object'
  if (value.format !== 'wirecall-api/1') {
    return typeof value.format === 'string' && value.format.startsWith('wirecall-api/')
      ? `its format "${value.format}" is not one this wirecall reads (wirecall-api/1)`
      : 'it has no "format": "wirecall-api/1"'
  }
  if (value.protocol !== 'wirecall.v1') return `its protocol ${JSON.stringify(value.protocol)} is not "wirecall.v1"`
  if (!isSchemaObject(value.procedures)) return 'it has no "procedures" object'
  for (const [path, entry] of Object.entries(value.procedures)) {
    if (!isSchemaObject(entry)) return `procedure "${path}" is not an object`
    if (typeof entry.kind !== 'string' || !KINDS.has(entry.kind)) return `procedure "${path}" has no kind (query, mutation or subscription)`
    if (entry.idempotent !== undefined && entry.idempotent !== true) return `procedure "${path}": "idempotent" must be true or absent`
    if (entry.resync !== undefined && entry.resync !== true) return `procedure "${path}": "resync" must be true or absent`
    if (!isSchemaObject(entry.input) || !isSchemaObject(entry.output)) return `procedure "${path}" needs "input" and "output" schema objects`
  }
  return undefined
}

/**
 * Reads a manifest from JSON text (`api.lock.json`, or what a schema
 * endpoint answered), checking its shape. Throws an `Error` whose message
 * says what is wrong; the caller adds where the text came from.
 */
export function parseManifest(text: string): ApiManifest {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new Error(`it is not JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  const why = problem(value)
  if (why !== undefined) throw new Error(why)
  return value as ApiManifest
}

/** The procedures of a manifest as entries, for iteration in path order. */
export function manifestProcedures(manifest: ApiManifest): [string, ManifestProcedure][] {
  return Object.entries(manifest.procedures).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}
