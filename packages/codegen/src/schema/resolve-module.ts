import { statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

/** A path `createRequire` resolves from as if it were a file in `from` (a file, or a folder). */
function requireBase(from: string): string {
  try {
    return statSync(from).isDirectory() ? join(from, 'noop.js') : from
  } catch {
    return join(from, 'noop.js')
  }
}

/**
 * Imports `specifier` as the code at `from` would (the user's own copy of a
 * library, next to their router); failing that, when `fallback` is set, as
 * codegen itself would (an optional peer installed beside codegen).
 * Resolves to `undefined` when neither finds it.
 */
export async function importFrom(specifier: string, from: string | undefined, fallback: boolean): Promise<unknown> {
  if (from !== undefined) {
    let resolved: string | undefined
    try {
      resolved = createRequire(requireBase(from)).resolve(specifier)
    } catch {
      resolved = undefined
    }
    if (resolved !== undefined) return (await import(pathToFileURL(resolved).href)) as unknown
  }
  if (!fallback) return undefined
  try {
    return (await import(specifier)) as unknown
  } catch {
    return undefined
  }
}
