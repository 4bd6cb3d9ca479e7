import { execFile } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

/**
 * The built packages, used the way users use them: by package name, from a
 * separate Node process (no vitest aliases), from ESM and from CommonJS, and
 * from TypeScript under node16 and bundler resolution. `pnpm test` builds
 * first; run `pnpm build` before running this file alone.
 */

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

describe('built packages', () => {
  it('have been built', () => {
    for (const pkg of ['core', 'server', 'client', 'tanstack-query', 'otel', 'codegen']) {
      for (const file of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
        expect(existsSync(`${root}packages/${pkg}/dist/${file}`), `${pkg}/dist/${file} (run pnpm build)`).toBe(true)
      }
    }
  })

  it.each([
    ['esm', 'smoke.mjs'],
    ['cjs', 'smoke.cjs'],
  ])('serve and call end to end when loaded as %s', async (format, file) => {
    const { stdout } = await run(process.execPath, [fixture(file)], { cwd: root, timeout: 15_000 })
    expect(JSON.parse(stdout)).toEqual({ format, date: true, instance: true, isRpcError: true, code: 'CONFLICT' })
  })

  it.each(['node16-esm', 'node16-cjs', 'bundler'])('type-check from TypeScript with %s resolution', async (config) => {
    // One usage file; under node16 its extension decides ESM (.mts) or CJS (.cts).
    mkdirSync(fixture('ts/.gen'), { recursive: true })
    for (const ext of ['mts', 'cts']) copyFileSync(fixture('ts/usage.ts'), fixture(`ts/.gen/usage.${ext}`))
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
    const result = await run(process.execPath, [tsc, '-p', fixture(`ts/tsconfig.${config}.json`)], { cwd: root, timeout: 60_000 }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }),
    )
    expect(result.stdout).toBe('')
  })
})
