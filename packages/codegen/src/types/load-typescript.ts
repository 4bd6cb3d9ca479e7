import { createRequire } from 'node:module'
import { join } from 'node:path'
import type * as TS from 'typescript'
import { CliError } from '../cli-error'

/** The TypeScript compiler API, as the `typescript` package exports it. */
export type TypeScriptApi = typeof TS

/** Where a `typescript` came from, for messages and tests. */
export interface LoadedTypeScript {
  readonly ts: TypeScriptApi
  /** The resolved entry file. */
  readonly path: string
}

/**
 * The names a TypeScript 5 may be installed under: its own, and the alias a
 * project on TypeScript 7 can add beside it (`typescript-5@npm:typescript@5.9`),
 * since one folder cannot hold two packages named `typescript`.
 */
const NAMES = ['typescript', 'typescript-5'] as const

function tryLoad(fromDir: string, name: string): LoadedTypeScript | string {
  let path: string
  try {
    path = createRequire(join(fromDir, 'noop.js')).resolve(name)
  } catch {
    return `no ${name} from ${fromDir}`
  }
  const ts = createRequire(path)(path) as Partial<TypeScriptApi>
  // TypeScript 7 (the native compiler) has no JS compiler API: its package
  // main exports a version string only.
  if (typeof ts.createProgram !== 'function') return `${path} (TypeScript ${String(ts.version ?? '?')}) has no JS compiler API`
  return { ts: ts as TypeScriptApi, path }
}

/**
 * Loads the `typescript` (or `typescript-5`) that resolves from the first
 * of `fromDirs` that has one with the JS compiler API (`createProgram`):
 * the router's folder first, so the user's own compiler reads their code,
 * then codegen's own. TypeScript 7 has no such API and is passed over.
 *
 * @throws CliError `LOAD` when none has it, saying what to install.
 */
export function loadTypeScript(fromDirs: readonly string[]): LoadedTypeScript {
  const tried: string[] = []
  for (const dir of fromDirs) {
    for (const name of NAMES) {
      const loaded = tryLoad(dir, name)
      if (typeof loaded !== 'string') return loaded
      tried.push(loaded)
    }
  }
  throw new CliError(
    'LOAD',
    `generate types needs the TypeScript 5 compiler API (TypeScript 7 has none): install it beside your router, npm install -D typescript@5.9, or in a project on TypeScript 7 under another name, npm install -D typescript-5@npm:typescript@5.9 (tried: ${tried.join('; ')})`,
  )
}
