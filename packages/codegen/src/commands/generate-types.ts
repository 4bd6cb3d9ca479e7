import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import type { Command } from '../cli/io'
import { CliError } from '../cli-error'
import { paramsFlag, parseFlags } from '../cli/parse-flags'
import { parseRouterSpec } from '../load/router-spec'
import type { ApiModel } from '../model/api-model'
import { manifestToApiModel, readRemoteApi } from '../remote/read-remote'
import { printApiDeclarations } from '../types/print-declarations'
import { readApiModel } from '../types/read-api-model'

const OPTIONS = {
  router: { type: 'string' },
  url: { type: 'string' },
  params: { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  'self-contained': { type: 'boolean' },
  tsconfig: { type: 'string' },
} as const



/**
 * `wirecall generate types (--router <file>#<export> | --url <ws-url> [--params json])
 * --out api.d.ts [--name AppApi] [--self-contained] [--tsconfig path]`:
 * writes the standalone declaration file and prints one summary line to stderr.
 */
export const generateTypes: Command = async (args, io) => {
  const started = performance.now()
  const values = parseFlags('generate types', args, OPTIONS)
  if ((values.router === undefined) === (values.url === undefined)) throw new CliError('USAGE', 'generate types needs one of --router <file>#<export> or --url <ws-url>')
  if (values.out === undefined) throw new CliError('USAGE', 'generate types needs --out <file.d.ts>')
  const name = values.name ?? 'AppApi'
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new CliError('USAGE', `--name: "${name}" is not an identifier`)
  if (values.url !== undefined && values.tsconfig !== undefined) throw new CliError('USAGE', '--tsconfig goes with --router, not --url')
  if (values.router !== undefined && values.params !== undefined) throw new CliError('USAGE', '--params goes with --url, not --router')

  let model: ApiModel
  if (values.router !== undefined) {
    const tsconfig = values.tsconfig === undefined ? undefined : isAbsolute(values.tsconfig) ? values.tsconfig : resolve(io.cwd, values.tsconfig)
    model = await readApiModel(parseRouterSpec(values.router, io.cwd), { tsconfig })
  } else {
    const remote = await readRemoteApi(values.url!, { params: paramsFlag(values.params), signal: io.signal })
    model = manifestToApiModel(remote.manifest)
  }

  const text = printApiDeclarations(model, { name, selfContained: values['self-contained'] === true })
  const out = resolve(io.cwd, values.out)
  try {
    await mkdir(dirname(out), { recursive: true })
    await writeFile(out, text)
  } catch (error) {
    throw new CliError('IO', `--out: cannot write ${out}: ${error instanceof Error ? error.message : String(error)}`)
  }
  const ms = Math.round(performance.now() - started)
  const shown = relative(io.cwd, out).startsWith('..') ? out : relative(io.cwd, out)
  io.stderr.write(`wirecall: wrote ${shown}: ${model.procedures.length} procedures, ${model.aliases.size} named types (${ms} ms)\n`)
  return 0
}
