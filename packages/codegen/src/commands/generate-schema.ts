import { writeFile, mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import type { AnyRouter } from '@wirecall/core'
import { buildAsyncApi } from '../asyncapi/build-asyncapi'
import { CliError } from '../cli-error'
import { paramsFlag, parseFlags } from '../cli/parse-flags'
import type { CliIo, Command } from '../cli/io'
import { loadRouter } from '../load/load-router'
import { parseRouterSpec } from '../load/router-spec'
import type { ApiModel } from '../model/api-model'
import { readRemoteApi } from '../remote/read-remote'
import { buildSchemaSet } from '../schema/build-schema-set'
import { manifestSchemaSet } from '../schema/manifest-schema-set'
import type { SchemaSet } from '../schema/schema-types'
import { writeSchemaFiles } from '../schema/write-schema-files'
import { readApiModel } from '../types/read-api-model'

const OPTIONS = {
  router: { type: 'string' },
  url: { type: 'string' },
  params: { type: 'string' },
  out: { type: 'string' },
  asyncapi: { type: 'string' },
  'server-url': { type: 'string' },
  strict: { type: 'boolean' },
  tsconfig: { type: 'string' },
} as const



/** The router's set: validators from the loaded router, types from the checker when TypeScript is at hand. */
async function fromRouter(text: string, tsconfig: string | undefined, io: CliIo, notes: string[]): Promise<SchemaSet> {
  const spec = parseRouterSpec(text, io.cwd)
  const router: AnyRouter = await loadRouter(spec)
  let model: ApiModel | undefined
  try {
    model = await readApiModel(spec, { tsconfig: tsconfig === undefined ? undefined : resolve(io.cwd, tsconfig) })
  } catch (error) {
    // The types are only the fallback for sides without a validator: go on with the validators alone.
    notes.push(`TypeScript types not read (${error instanceof Error ? error.message : String(error)}); sides without a validator are unrepresentable`)
  }
  return buildSchemaSet(router, { model, resolveFrom: dirname(spec.file) })
}

/**
 * `wirecall generate schema (--router <file>#<export> | --url <ws-url> [--params json]) --out <dir>
 *  [--asyncapi <file>] [--server-url ws://host:port/path] [--strict] [--tsconfig <path>]`:
 * one 2020-12 JSON Schema file per procedure side, `index.json`, and
 * optionally the AsyncAPI 3.0 document. Warnings (a side that could not be
 * described exactly) go to stderr, one a line; with `--strict` any warning
 * fails the command (exit 1) before anything is written.
 */
export const generateSchema: Command = async (args, io) => {
  const options = parseFlags('generate schema', args, OPTIONS)
  if ((options.router === undefined) === (options.url === undefined)) {
    throw new CliError('USAGE', 'generate schema needs one of --router <file>#<export> or --url <ws-url>')
  }
  if (options.out === undefined) throw new CliError('USAGE', 'generate schema needs --out <dir>')
  if (options.params !== undefined && options.url === undefined) throw new CliError('USAGE', '--params goes with --url')

  const notes: string[] = []
  const set =
    options.url !== undefined
      ? manifestSchemaSet((await readRemoteApi(options.url, { params: paramsFlag(options.params), signal: io.signal })).manifest)
      : await fromRouter(options.router!, options.tsconfig, io, notes)

  for (const note of notes) io.stderr.write(`wirecall: warning: ${note}\n`)
  for (const w of set.warnings) io.stderr.write(`wirecall: warning: ${w.path} ${w.side}: ${w.message}\n`)
  const count = notes.length + set.warnings.length
  if (options.strict === true && count > 0) {
    throw new CliError('STRICT', `${count} warning${count === 1 ? '' : 's'} with --strict; nothing written`)
  }

  const out = resolve(io.cwd, options.out)
  try {
    const written = await writeSchemaFiles(set, out, options.url === undefined ? undefined : () => ({ source: 'remote' }))
    io.stdout.write(`wrote ${written.length} files (${set.procedures.length} procedures) to ${options.out}\n`)
    if (options.asyncapi !== undefined) {
      const file = resolve(io.cwd, options.asyncapi)
      const document = buildAsyncApi(set, { url: options['server-url'] ?? options.url })
      await mkdir(dirname(file), { recursive: true })
      await writeFile(file, `${JSON.stringify(document, null, 2)}\n`)
      io.stdout.write(`wrote ${options.asyncapi}\n`)
    }
  } catch (error) {
    if (error instanceof CliError) throw error
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new CliError('IO', `generate schema: ${(error as Error).message}`)
    throw error
  }
  return 0
}
