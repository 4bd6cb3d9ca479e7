import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import type { AnyRouter } from '@wirecall/core'
import { createJiti } from 'jiti'
import { CliError } from '../cli-error'
import type { RouterSpec } from './router-spec'

function isRouter(value: unknown): value is AnyRouter {
  return typeof value === 'object' && value !== null && (value as { '~wirecall'?: unknown })['~wirecall'] === 'router'
}

/**
 * Loads the router object from its source file, TypeScript or JavaScript,
 * ESM or CJS, with jiti (the file's own imports resolve from its folder, so
 * its validator library is the user's own copy). The generator reads the
 * validators from it; the types come from the checker (`readApiModel`).
 */
export async function loadRouter(spec: RouterSpec): Promise<AnyRouter> {
  if (!existsSync(spec.file)) throw new CliError('LOAD', `--router: no file ${spec.file}`)
  const jiti = createJiti(dirname(spec.file) + '/', { moduleCache: false, fsCache: false, interopDefault: false })
  let mod: Record<string, unknown>
  try {
    mod = await jiti.import<Record<string, unknown>>(spec.file)
  } catch (error) {
    throw new CliError('LOAD', `--router: loading ${spec.file} failed: ${error instanceof Error ? error.message : String(error)}`)
  }
  const value = mod[spec.exportName]
  if (isRouter(value)) return value
  const routers = Object.keys(mod).filter((key) => isRouter(mod[key]))
  if (value === undefined && spec.exportName === 'default' && routers.length === 1) return mod[routers[0]!] as AnyRouter
  const found = routers.length === 0 ? 'it exports no router' : `its routers are: ${routers.join(', ')}`
  throw new CliError('LOAD', `--router: ${spec.file} has no router exported as "${spec.exportName}" (${found}); write --router <file>#<export>`)
}
