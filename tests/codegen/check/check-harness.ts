import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll } from 'vitest'
import { runCli as run, type CliRun as Run } from '../run-cli'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

// The in-process runner every codegen test uses, under the names these files know it by.
export { run, type Run }

/** `source` with each `[from, to]` replaced once; a `from` that is not there fails the test (a stale edit would test nothing). */
export function edit(source: string, ...edits: readonly (readonly [string, string])[]): string {
  let out = source
  for (const [from, to] of edits) {
    if (!out.includes(from)) throw new Error(`the router source has no ${JSON.stringify(from)}`)
    out = out.replace(from, to)
  }
  return out
}

/**
 * A scratch folder in the OS temp dir for the test file, removed after it:
 * each case gets a subfolder holding a router file, a tsconfig.json that
 * compiles it against the workspace sources, and a `node_modules` link to
 * the workspace's (so the router's own `zod` and `@wirecall/core` resolve
 * as a user's would).
 */
export function useScratch(): { folder(files: Readonly<Record<string, string>>, copy?: Readonly<Record<string, string>>): string } {
  let root: string | undefined
  let count = 0
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'wirecall-check-'))
  })
  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true })
  })
  return {
    folder(files, copy = {}) {
      if (root === undefined) throw new Error('useScratch: no folder before beforeAll')
      const dir = join(root, `case-${++count}`)
      mkdirSync(dir)
      symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'), 'dir')
      writeFileSync(join(dir, 'tsconfig.json'), tsconfig())
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
      for (const [name, from] of Object.entries(copy)) copyFileSync(from, join(dir, name))
      return dir
    },
  }
}

function tsconfig(): string {
  const src = (pkg: string): string[] => [join(repoRoot, 'packages', pkg, 'src/index.ts')]
  return JSON.stringify({
    extends: join(repoRoot, 'tsconfig.base.json'),
    compilerOptions: { noEmit: true, types: ['node'], paths: { '@wirecall/core': src('core'), '@wirecall/server': src('server'), '@wirecall/client': src('client') } },
    include: ['*.ts'],
  })
}

/** The `api check` cases' shape: a lock written from `base` once, then each case checks an edited router against it. */
export function useLockedBase(base: string): { check(source: string, extra?: readonly string[]): Promise<Run> } {
  const scratch = useScratch()
  let lock: string | undefined
  beforeAll(async () => {
    const dir = scratch.folder({ 'router.ts': base })
    const locked = await run(['api', 'lock', '--router', 'router.ts#appRouter', '--out', 'api.lock.json'], dir)
    if (locked.status !== 0) throw new Error(`api lock failed: ${locked.stderr}`)
    lock = join(dir, 'api.lock.json')
  }, 60_000)
  return {
    async check(source, extra = []) {
      const dir = scratch.folder({ 'router.ts': source }, { 'api.lock.json': lock! })
      return run(['api', 'check', '--router', 'router.ts#appRouter', '--against', 'api.lock.json', ...extra], dir)
    },
  }
}
