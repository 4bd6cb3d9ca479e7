import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import type * as TS from 'typescript'
import { CliError } from '../cli-error'
import type { TypeScriptApi } from './load-typescript'

/** The options used when the router has no tsconfig.json above it. */
function defaultOptions(ts: TypeScriptApi): TS.CompilerOptions {
  return {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    skipLibCheck: true,
    allowJs: true,
    noEmit: true,
  }
}

function nearestTsconfig(ts: TypeScriptApi, file: string): string | undefined {
  return ts.findConfigFile(dirname(file), (path) => existsSync(path), 'tsconfig.json')
}

/**
 * Compiler options from `tsconfig` (or the nearest tsconfig.json above the
 * file, or the project it references that holds the file, or strict
 * defaults when there is none). Only its options are used:
 * the program's one root is the router file, so a tsconfig whose `include`
 * covers a whole monorepo costs nothing more than the router's own imports.
 */
export function readCompilerOptions(ts: TypeScriptApi, file: string, tsconfig: string | undefined): TS.CompilerOptions {
  const path = tsconfig ?? nearestTsconfig(ts, file)
  if (path === undefined) return defaultOptions(ts)
  if (!existsSync(path)) throw new CliError('LOAD', `--tsconfig: no file ${path}`)
  const parsed = parseConfig(ts, path)
  // A solution-style tsconfig (`files: []` and `references`): the options are the referenced project's that holds the file.
  if (!parsed.fileNames.some((name) => resolve(name) === file)) {
    for (const reference of parsed.projectReferences ?? []) {
      const referenced = ts.resolveProjectReferencePath(reference)
      if (!existsSync(referenced)) continue
      const project = parseConfig(ts, referenced)
      if (project.fileNames.some((name) => resolve(name) === file)) return { ...project.options, noEmit: true, allowJs: true }
    }
  }
  return { ...parsed.options, noEmit: true, allowJs: true }
}

function parseConfig(ts: TypeScriptApi, path: string): TS.ParsedCommandLine {
  const read = ts.readConfigFile(path, (p) => ts.sys.readFile(p))
  if (read.error !== undefined) {
    throw new CliError('LOAD', `${path}: ${ts.flattenDiagnosticMessageText(read.error.messageText, ' ')}`)
  }
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(resolve(path)), undefined, path)
  // Only option errors matter here: an empty `files` list (18002) or no inputs found (18003) is about its file list.
  const optionError = parsed.errors.find((d) => d.category === ts.DiagnosticCategory.Error && d.code !== 18002 && d.code !== 18003)
  if (optionError !== undefined) {
    throw new CliError('LOAD', `${path}: ${ts.flattenDiagnosticMessageText(optionError.messageText, ' ')}`)
  }
  return parsed
}

/** A program over the router file alone (and what it imports). */
export function createRouterProgram(ts: TypeScriptApi, file: string, tsconfig: string | undefined): TS.Program {
  const options = readCompilerOptions(ts, file, tsconfig)
  return ts.createProgram({ rootNames: [file], options })
}
