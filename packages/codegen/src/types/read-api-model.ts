import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ApiModel } from '../model/api-model'
import type { RouterSpec } from '../load/router-spec'
import { CliError } from '../cli-error'
import { existsSync } from 'node:fs'
import { createRouterProgram } from './create-program'
import { findRouterType } from './find-router-type'
import { loadTypeScript } from './load-typescript'
import { ApiWalker } from './walk-api'
import { TypeWalker } from './walk-type'

/** Options of {@link readApiModel}. */
export interface ReadApiModelOptions {
  /** The tsconfig.json to compile the router with; by default the nearest one above the file. */
  readonly tsconfig?: string | undefined
}

/** Codegen's own folder: where its `typescript` resolves from when the user's has no compiler API. */
function ownFolder(): string {
  // The CJS build has `__dirname`; the ESM build and the sources have `import.meta.url`.
  return typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url))
}

/**
 * The router's wire-only API, read from the TypeScript checker's view of
 * its type: a projection (each payload type walked into a {@link TypeModel}),
 * not a bundle of the server's declarations, so nothing of its context,
 * middleware or validators comes along. Compiles with the `typescript`
 * beside the router (then codegen's own) and the nearest tsconfig.json's
 * options (or `tsconfig`).
 *
 * @throws CliError `LOAD` (no file, no such router export, no TypeScript 5
 *   compiler API), `UNREPRESENTABLE` (a function, class instance or symbol
 *   in a payload, with its path).
 */
export async function readApiModel(spec: RouterSpec, options: ReadApiModelOptions = {}): Promise<ApiModel> {
  if (!existsSync(spec.file)) throw new CliError('LOAD', `--router: no file ${spec.file}`)
  const { ts } = loadTypeScript([dirname(spec.file), ownFolder()])
  const program = createRouterProgram(ts, spec.file, options.tsconfig)
  const routerType = findRouterType(ts, program, spec)
  const checker = program.getTypeChecker()
  const types = new TypeWalker(ts, program, checker)
  const procedures = new ApiWalker(ts, checker, types).procedures(routerType)
  return { procedures, aliases: types.aliases, aliasDocs: types.aliasDocs }
}
