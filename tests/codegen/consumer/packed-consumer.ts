import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '../../docs/markdown'

/**
 * A package outside the workspace, as a consumer in another repository
 * has it: `@wirecall/client` and `@wirecall/core` from tarballs that
 * `pnpm pack` made of the built packages (what would be published, the
 * way tests/docs/getting-started-tarball.test.ts packs them), and the two
 * TypeScript versions the repository supports from npm, at the versions
 * the repository pins. Nothing else: no zod, no server, no workspace link.
 * `pnpm test` builds first; run `pnpm build` before running a test of it alone.
 */

const COMMAND_TIMEOUT_MS = 180_000

/** What a command printed and how it ended. */
export interface Ran {
  code: number
  stdout: string
  stderr: string
}

/**
 * The environment of a shell outside this repository: without what pnpm
 * or vitest set for this run (`npm_config_*` from pnpm would steer npm),
 * and quiet about funding and audits.
 */
export function outsideEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|NODE_OPTIONS$|VITEST|TS_NODE)/i.test(key)) env[key] = value
  }
  return { ...env, npm_config_fund: 'false', npm_config_audit: 'false', npm_config_update_notifier: 'false' }
}

/** Runs `file args` in `cwd`; never rejects: the exit code is in the result. */
export function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1
      resolve({ code, stdout, stderr: error?.killed ? `${stderr}\n(killed after ${COMMAND_TIMEOUT_MS} ms)` : stderr })
    })
  })
}

/** The TypeScript compilers installed in the consumer package: the folder under its node_modules. */
export const CONSUMER_COMPILERS = { 'TypeScript 5.9': 'typescript', 'TypeScript 7': 'typescript-7' } as const
export type ConsumerCompiler = keyof typeof CONSUMER_COMPILERS

function pinnedVersion(folder: string): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', folder, 'package.json'), 'utf8')) as { version: string }).version
}

/** A consumer package in a temporary folder; `remove()` deletes it and the tarballs. */
export interface ConsumerPackage {
  readonly dir: string
  /** The installed versions, by compiler. */
  readonly typescript: Record<ConsumerCompiler, string>
  /** `tsc -p <project>` with one of the installed compilers, run in the package. */
  tsc(compiler: ConsumerCompiler, project: string): Promise<Ran>
  remove(): void
}

/**
 * Packs `packages/core` and `packages/client` and installs them with npm,
 * with TypeScript 5.9 (as `typescript`) and 7 (as `typescript-7`), into a
 * new package under the system's temporary folder. `type` is the package's
 * module type.
 */
export async function makeConsumerPackage(type: 'module' | 'commonjs'): Promise<ConsumerPackage> {
  for (const pkg of ['core', 'client']) {
    if (!existsSync(join(repoRoot, `packages/${pkg}/dist/index.js`))) throw new Error(`packages/${pkg}/dist is missing: run pnpm build`)
  }
  const work = mkdtempSync(join(tmpdir(), 'wirecall-consumer-'))
  const remove = () => rmSync(work, { recursive: true, force: true })
  try {
    const tarballs = join(work, 'tarballs')
    const dir = join(work, 'consumer')
    mkdirSync(tarballs)
    mkdirSync(dir)
    const packed: string[] = []
    for (const pkg of ['core', 'client']) {
      const before = new Set(readdirSync(tarballs))
      const result = await run('pnpm', ['pack', '--pack-destination', tarballs], join(repoRoot, 'packages', pkg))
      if (result.code !== 0) throw new Error(`pnpm pack in packages/${pkg} failed:\n${result.stderr}`)
      packed.push(join(tarballs, readdirSync(tarballs).find((name) => !before.has(name))!))
    }
    const typescript = { 'TypeScript 5.9': pinnedVersion('typescript'), 'TypeScript 7': pinnedVersion('typescript-7') }
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'shop-front-end', version: '1.0.0', private: true, type }, null, 2)}\n`)
    const installed = await run(
      'npm',
      ['install', '--save-dev', ...packed, `typescript@${typescript['TypeScript 5.9']}`, `typescript-7@npm:typescript@${typescript['TypeScript 7']}`],
      dir,
      outsideEnv(),
    )
    if (installed.code !== 0) throw new Error(`npm install in ${dir} failed:\n${installed.stdout}\n${installed.stderr}`)
    return {
      dir,
      typescript,
      tsc: (compiler, project) => run(process.execPath, [join(dir, 'node_modules', CONSUMER_COMPILERS[compiler], 'bin/tsc'), '-p', project], dir, outsideEnv()),
      remove,
    }
  } catch (error) {
    remove()
    throw error
  }
}
