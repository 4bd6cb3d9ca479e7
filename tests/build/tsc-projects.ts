import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { repoRoot } from '../docs/markdown'

/**
 * Small TypeScript projects in temporary folders, compiled by both
 * compilers the repository supports, for tests of what a consumer of the
 * built packages sees. `pnpm test` builds first; run `pnpm build` before
 * running such a test alone.
 */

const run = promisify(execFile)

export const compilers = {
  'TypeScript 5.9': join(repoRoot, 'node_modules/typescript/bin/tsc'),
  'TypeScript 7': join(repoRoot, 'node_modules/typescript-7/bin/tsc'),
} as const
export type CompilerName = keyof typeof compilers

/** What a project that compiles prints: nothing, from either compiler. */
export const clean: Record<CompilerName, string> = { 'TypeScript 5.9': '', 'TypeScript 7': '' }

export interface ProjectOptions {
  /** `type` in package.json. */
  type: 'commonjs' | 'module'
  /** Path (in the project) -> text. */
  files: Record<string, string>
  compilerOptions: Record<string, unknown>
  /**
   * `'repository'`: node_modules is the repository's (every workspace
   * package and devDependency). Otherwise only these packages, by name, each
   * linked to its folder in the repository (`{ '@wirecall/client': 'packages/client' }`).
   */
  nodeModules: 'repository' | Record<string, string>
}

/** Temporary folders made by {@link project}, removed by {@link removeProjects}. */
const made: string[] = []

/** A project folder: package.json, the files, node_modules and a tsconfig.json that compiles the `.ts`/`.cts`/`.mts` files. */
export function project(options: ProjectOptions): string {
  const dir = mkdtempSync(join(tmpdir(), 'wirecall-tsc-'))
  made.push(dir)
  if (options.nodeModules === 'repository') {
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
  } else {
    for (const [name, target] of Object.entries(options.nodeModules)) {
      mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true })
      symlinkSync(join(repoRoot, target), join(dir, 'node_modules', name), 'dir')
    }
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: options.type }))
  for (const [name, text] of Object.entries(options.files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  const sources = Object.keys(options.files).filter((name) => /\.[cm]?ts$/.test(name))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options.compilerOptions, files: sources }))
  return dir
}

export function removeProjects(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/**
 * What each compiler prints for the project in `dir` (empty when it
 * compiles), with `tsc -p dir` and the arguments `args` gives it (say, an
 * `--outDir` of its own, as the two run at once).
 */
export async function compile(dir: string, args: (compiler: CompilerName) => string[] = () => []): Promise<Record<CompilerName, string>> {
  const printed = await Promise.all(
    (Object.entries(compilers) as [CompilerName, string][]).map(async ([name, tsc]) => {
      const result = await run(process.execPath, [tsc, '-p', dir, ...args(name)], { cwd: dir, timeout: 120_000 }).catch(
        (error: { stdout?: string; stderr?: string }) => ({ stdout: `${error.stdout ?? ''}${error.stderr ?? ''}` || String(error) }),
      )
      return [name, result.stdout.trim()] as const
    }),
  )
  return Object.fromEntries(printed) as Record<CompilerName, string>
}
