import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { bundle } from '../browser/bundle'

/**
 * The generator's weight stays in `@wirecall/codegen` (issue 15): its
 * tools (the TypeScript compiler, the loader, the AsyncAPI parser, ajv,
 * valibot's converter) are dependencies of codegen or dev-only, never of
 * core, server or client, and the validators of the tests (`@asyncapi/parser`,
 * ajv) are not even codegen's runtime dependencies. The server reaches
 * codegen only through a dynamic `import()` for its opt-in schema endpoint.
 * And the browser bundle of a client app holds nothing of any of it.
 * Runs against the built packages: `pnpm test` builds first.
 */

const root = fileURLToPath(new URL('../../', import.meta.url))
const TOOLS = ['@wirecall/codegen', 'typescript', 'jiti', '@asyncapi/parser', 'ajv', 'ajv-formats', '@valibot/to-json-schema']
const RUNTIME_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'] as const

function manifest(pkg: string): Record<string, Record<string, string> | undefined> {
  return JSON.parse(readFileSync(join(root, `packages/${pkg}/package.json`), 'utf8')) as Record<string, Record<string, string> | undefined>
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]))
}

/** Modules a built file imports, statically or with `import()`, as TypeScript's pre-processor reads them (comments do not count). */
function imports(code: string): string[] {
  const info = ts.preProcessFile(code, true, true)
  return [...info.importedFiles, ...info.typeReferenceDirectives].map((file) => file.fileName)
}

describe("codegen's tools stay out of core, server and client", () => {
  it.each(['core', 'client'])('@wirecall/%s depends on none of them, in any field', (pkg) => {
    const m = manifest(pkg)
    for (const field of RUNTIME_FIELDS) expect(Object.keys(m[field] ?? {}).filter((name) => TOOLS.includes(name)), `${pkg} ${field}`).toEqual([])
  })

  it('@wirecall/server has @wirecall/codegen at most as an optional peer, and none of the tools', () => {
    const m = manifest('server')
    expect(Object.keys(m.dependencies ?? {}).filter((name) => TOOLS.includes(name))).toEqual([])
    for (const name of Object.keys(m.peerDependencies ?? {}).filter((n) => TOOLS.includes(n))) {
      expect(name).toBe('@wirecall/codegen')
      expect((m.peerDependenciesMeta as unknown as Record<string, { optional?: boolean }> | undefined)?.[name]?.optional).toBe(true)
    }
  })

  it("@wirecall/codegen's runtime dependencies exclude the test-only validators", () => {
    const deps = Object.keys(manifest('codegen').dependencies ?? {})
    expect(deps.filter((name) => ['@asyncapi/parser', 'ajv', 'ajv-formats'].includes(name))).toEqual([])
  })

  it.each(['core', 'client', 'server'])("@wirecall/%s: its built files import none of them (the server: codegen by dynamic import only)", (pkg) => {
    const dist = join(root, `packages/${pkg}/dist`)
    expect(existsSync(join(dist, 'index.js')), `packages/${pkg}/dist (run pnpm build)`).toBe(true)
    for (const file of filesUnder(dist).filter((f) => /\.(c?js|d\.c?ts)$/.test(f))) {
      const code = readFileSync(file, 'utf8')
      const found = imports(code).filter((spec) => TOOLS.some((tool) => spec === tool || spec.startsWith(`${tool}/`)))
      if (pkg === 'server' && /\.c?js$/.test(file)) {
        // Static imports of codegen would load it (and TypeScript) for every server.
        expect(code, file).not.toMatch(/(?:^|[;\n])\s*import\s[^(;]*['"]@wirecall\/codegen['"]|require\(\s*['"]@wirecall\/codegen['"]\s*\)/)
        expect(found.filter((spec) => spec !== '@wirecall/codegen'), file).toEqual([])
      } else {
        expect(found, file).toEqual([])
      }
    }
  })

  it('the browser bundle of a client app holds nothing of codegen or its tools', async () => {
    const app = fileURLToPath(new URL('../browser/fixtures/bundle-entry.ts', import.meta.url))
    const b = await bundle(app, { packages: 'dist', minify: true })
    const inputs = Object.keys(b.metafile.inputs)
    expect(inputs.filter((input) => /packages\/codegen\/|node_modules\/(\.pnpm\/)?(typescript|jiti|@asyncapi|ajv|@valibot)/.test(input))).toEqual([])
  })
})
