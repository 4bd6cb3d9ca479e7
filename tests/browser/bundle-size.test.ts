import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { CLIENT_BUNDLE_GZIP_BUDGET_BYTES } from './budget'
import { bundle, packageEntries, type Bundle } from './bundle'

/**
 * What `@wirecall/client` costs a browser app: fixtures/bundle-entry.ts (a
 * client, a query, a mutation, a subscription both ways, the connection
 * state) bundled by esbuild against the BUILT packages (packages/*\/dist,
 * as an app installing from npm gets them; `pnpm test` builds first),
 * the default serializer included, tree-shaken and minified, then gzipped at level 9.
 * Deterministic: sizes, not timings.
 */

const entry = fileURLToPath(new URL('./fixtures/bundle-entry.ts', import.meta.url))

/** Which part of the repository or of node_modules an input of the bundle belongs to. */
function owner(input: string): string {
  const modules = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/)
  if (modules) return modules[1]!
  const pkg = input.match(/packages\/([^/]+)\//)
  if (pkg) return `@wirecall/${pkg[1]}`
  return 'the app (bundle-entry.ts)'
}

/** Minified bytes each owner contributes, largest first. */
function breakdown(b: Bundle): [string, number][] {
  const totals = new Map<string, number>()
  for (const output of Object.values(b.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      totals.set(owner(input), (totals.get(owner(input)) ?? 0) + bytesInOutput)
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1])
}

describe('the browser bundle of @wirecall/client', () => {
  it(`stays within ${CLIENT_BUNDLE_GZIP_BUDGET_BYTES} bytes gzipped (esbuild, minified, serializer included)`, async () => {
    for (const [name, file] of Object.entries(packageEntries('dist'))) {
      if (name !== '@wirecall/server' && !existsSync(file)) throw new Error(`${name} is not built (${file} is missing): run 'pnpm build' first`)
    }
    const raw = await bundle(entry, { packages: 'dist' })
    const minified = await bundle(entry, { packages: 'dist', minify: true })
    const gzipped = gzipSync(minified.code, { level: 9 }).length
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
    const parts = breakdown(minified)
    console.log(
      [
        `@wirecall/client browser bundle: raw ${raw.code.length} B (${kb(raw.code.length)}), minified ${minified.code.length} B (${kb(minified.code.length)}), gzipped ${gzipped} B (${kb(gzipped)}); budget ${CLIENT_BUNDLE_GZIP_BUDGET_BYTES} B`,
        ...parts.map(([name, bytes]) => `  ${name}: ${bytes} B minified`),
      ].join('\n'),
    )

    const owners = parts.map(([name]) => name)
    expect(owners).toContain('@wirecall/client')
    expect(owners).toContain('@wirecall/core')
    // The default serializer (the compact codec, superjson's format) is part of the price, and superjson itself is not:
    // wirecall never imports it, so it reaches a bundle only through an app's own superjsonSerializer(instance).
    expect(minified.code).toContain('compactSerializer')
    expect(owners).not.toContain('superjson')
    expect(owners).not.toContain('copy-anything')
    expect(owners).not.toContain('@wirecall/server')
    expect(owners).not.toContain('ws')
    expect(minified.code).not.toMatch(/["']node:|require\(/) // nothing a browser cannot load
    expect(gzipped).toBeLessThanOrEqual(CLIENT_BUNDLE_GZIP_BUDGET_BYTES)
  })
})
