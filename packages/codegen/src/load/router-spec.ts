import { isAbsolute, resolve } from 'node:path'
import { CliError } from '../cli-error'

/** Where a router is: a source file and the name it is exported under. */
export interface RouterSpec {
  /** Absolute path of the file. */
  readonly file: string
  /** The export's name: `appRouter`, or `default`. */
  readonly exportName: string
}

/**
 * Reads `--router src/router.ts#appRouter`. Without `#name` the export is
 * `default`, then the only export that is a router (see `loadRouter`).
 */
export function parseRouterSpec(text: string, cwd: string): RouterSpec {
  const hash = text.lastIndexOf('#')
  const file = hash === -1 ? text : text.slice(0, hash)
  const exportName = hash === -1 ? 'default' : text.slice(hash + 1)
  if (file === '') throw new CliError('USAGE', `--router needs a file: --router src/router.ts#appRouter (got "${text}")`)
  if (!/^[A-Za-z_$][\w$]*$/.test(exportName)) throw new CliError('USAGE', `--router: "${exportName}" is not an export name`)
  return { file: isAbsolute(file) ? file : resolve(cwd, file), exportName }
}
