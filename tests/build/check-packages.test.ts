import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../docs/markdown'

/**
 * scripts/check-package-files.mjs, which `pnpm check:packages` runs on
 * every package (issue 17, point 10): it passes on the real packages, and
 * fails, naming what is missing, on a copy of @wirecall/core that lacks a
 * field, its README or its LICENSE. The copy is packed by the script as the
 * real one is (`pnpm pack`). `pnpm test` builds first; run `pnpm build`
 * before running this file alone.
 */

const checker = join(repoRoot, 'scripts/check-package-files.mjs')
const work = mkdtempSync(join(tmpdir(), 'wirecall-check-packages-'))
afterAll(() => rmSync(work, { recursive: true, force: true }))

function check(...dirs: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [checker, ...dirs], { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, output: `${stdout}${stderr}` })
    })
  })
}

let copies = 0
/** A copy of packages/core (manifest, README, LICENSE, dist) in a folder named core, changed by `edit`. */
function brokenCore(edit: (dir: string, manifest: Record<string, unknown>) => void): string {
  const dir = join(work, String(copies++), 'core')
  for (const entry of ['package.json', 'README.md', 'LICENSE', 'dist']) cpSync(join(repoRoot, 'packages/core', entry), join(dir, entry), { recursive: true })
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>
  edit(dir, manifest)
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2))
  return dir
}

describe('scripts/check-package-files.mjs', { timeout: 60_000 }, () => {
  it('passes on the published packages', async () => {
    const result = await check('packages/core', 'packages/server', 'packages/client', 'packages/tanstack-query', 'packages/otel', 'packages/codegen')
    expect(result, result.output).toMatchObject({ code: 0 })
  })

  it('passes on an unchanged copy (so the failures below are the changes)', async () => {
    expect(await check(brokenCore(() => {}))).toMatchObject({ code: 0 })
  })

  it.each([
    ['homepage', 'package.json has no "homepage"'],
    ['keywords', 'package.json has no "keywords"'],
    ['repository', 'package.json "repository" is undefined'],
    ['bugs', 'package.json has no "bugs"'],
    ['description', 'package.json has no "description"'],
    ['license', 'package.json "license" is undefined, not "MIT"'],
  ])('fails on a package without "%s", and says so', async (field, message) => {
    const result = await check(brokenCore((_dir, manifest) => delete manifest[field]))
    expect(result.code).toBe(1)
    expect(result.output).toContain(`: ${message}`)
  })

  it('fails on a package whose tarball has no README.md or no LICENSE', async () => {
    const noReadme = brokenCore((dir) => rmSync(join(dir, 'README.md')))
    const noLicense = brokenCore((dir) => rmSync(join(dir, 'LICENSE')))
    const result = await check(noReadme, noLicense)
    expect(result.code).toBe(1)
    expect(result.output).toContain(`${noReadme}: the tarball has no README.md`)
    expect(result.output).toContain(`${noLicense}: the tarball has no LICENSE file`)
  })

  it('fails on a repository field that points elsewhere', async () => {
    const result = await check(brokenCore((_dir, manifest) => (manifest.repository = { type: 'git', url: 'git+https://github.com/wirecall/wirecall.git', directory: 'packages/server' })))
    expect(result.code).toBe(1)
    expect(result.output).toContain('"directory":"packages/core"')
  })
})
