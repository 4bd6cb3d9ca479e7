import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GENERATED_TSCONFIG, projectFiles } from '../typecheck/sources'

/**
 * The consumer of a generated `api.d.ts`: the type-check benchmark's
 * client.ts (500 procedures, each called with a typed input and a typed
 * field of each result read), changed in its two type lines only, from
 * `import type { AppRouter } from './router'` + `createRpcClient<AppRouter>`
 * to `import type { AppApi } from './api'` + `createRpcClient<AppApi>`.
 * Beside it only api.d.ts and the same tsconfig: no router, no zod.
 */

/** bench/.generated/codegen/ (gitignored, under bench/ so that @wirecall/client resolves through bench/node_modules to the built package). */
export const CODEGEN_ROOT = fileURLToPath(new URL('../../.generated/codegen/', import.meta.url))

/** client.ts of the wirecall type-check project, typed by the generated AppApi instead of the router. */
export function apiClientSource(): string {
  const fromRouter = projectFiles('wirecall')['client.ts']!
  const swaps: [string, string][] = [
    [`import type { AppRouter } from './router'`, `import type { AppApi } from './api'`],
    [`createRpcClient<AppRouter>(`, `createRpcClient<AppApi>(`],
  ]
  let text = fromRouter
  for (const [from, to] of swaps) {
    // Exactly once each: if the type-check project's client changes shape, this must fail, not measure something else.
    if (text.split(from).length !== 2) throw new Error(`client.ts of the type-check project no longer has exactly one "${from}"`)
    text = text.replace(from, to)
  }
  return text
}

/** Writes the consumer project afresh (api.d.ts, client.ts, tsconfig.json) and returns its directory. */
export async function writeApiConsumer(apiDeclarations: string): Promise<string> {
  const dir = join(CODEGEN_ROOT, 'api-consumer')
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, 'api.d.ts'), apiDeclarations)
  await writeFile(join(dir, 'client.ts'), apiClientSource())
  await writeFile(join(dir, 'tsconfig.json'), `${JSON.stringify(GENERATED_TSCONFIG, null, 2)}\n`)
  return dir
}
