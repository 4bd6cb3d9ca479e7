import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { TANSTACK_QUERY_GZIP_BUDGET_BYTES } from './budget'

/**
 * What `@wirecall/tanstack-query` adds to a browser app, per entry point:
 * its BUILT ESM (packages/tanstack-query/dist, as an app installing from npm
 * gets it; `pnpm test` builds first) bundled by esbuild, minified, then
 * gzipped at level 9. The packages an app using it has anyway are external:
 * `@tanstack/query-core`, `react`, `@wirecall/client` and `@wirecall/core`
 * (the binding's key hash uses core's serializer, which the client already
 * brings). Deterministic: sizes, not timings.
 */

const dist = join(dirname(fileURLToPath(import.meta.url)), '../../packages/tanstack-query/dist')
const external = ['@tanstack/query-core', 'react', '@wirecall/client', '@wirecall/core']
const entries = { '.': 'index.js', './react': 'react.js' } as const

describe('the browser bundle of @wirecall/tanstack-query', () => {
  for (const [entry, file] of Object.entries(entries) as [keyof typeof entries, string][]) {
    const budget = TANSTACK_QUERY_GZIP_BUDGET_BYTES[entry]
    it(`${entry} stays within ${budget} bytes gzipped (esbuild, minified, peers external)`, async () => {
      const path = join(dist, file)
      if (!existsSync(path)) throw new Error(`@wirecall/tanstack-query is not built (${path} is missing): run 'pnpm build' first`)
      const result = await build({
        entryPoints: [path],
        bundle: true,
        format: 'esm',
        platform: 'browser',
        target: 'es2022',
        minify: true,
        write: false,
        metafile: true,
        logLevel: 'silent',
        external,
      })
      const code = result.outputFiles[0]!.text
      const gzipped = gzipSync(code, { level: 9 }).length
      console.log(`@wirecall/tanstack-query${entry === '.' ? '' : entry.slice(1)}: minified ${code.length} B, gzipped ${gzipped} B; budget ${budget} B`)
      // Only the binding's own code is counted, and nothing a browser cannot load is in it.
      expect(Object.keys(result.metafile.inputs).every((input) => input.includes('packages/tanstack-query/dist/'))).toBe(true)
      expect(code).not.toMatch(/["']node:|require\(/)
      expect(gzipped).toBeLessThanOrEqual(budget)
    })
  }
})
