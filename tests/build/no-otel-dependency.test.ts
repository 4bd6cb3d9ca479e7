import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { bundle, type Bundle } from '../browser/bundle'

/**
 * OpenTelemetry stays out of the three packages (issue 20): core, server
 * and client only declare the hooks, and `@wirecall/otel` is the one
 * package that imports `@opentelemetry/api`. Checked where it matters to
 * an app: the manifests (no `@opentelemetry/*` dependency of any kind),
 * the built files (no import of one, in JavaScript or in declarations),
 * and a browser bundle of a client app that does not import
 * `@wirecall/otel` (nothing of OpenTelemetry in it, whether or not the
 * app passes hooks of its own). What `@wirecall/otel` adds to that bundle
 * when an app does import it is printed. Runs against the built packages:
 * `pnpm test` builds first.
 */

const root = fileURLToPath(new URL('../../', import.meta.url))
const PACKAGES = ['core', 'server', 'client'] as const
const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies'] as const

/** Every file under `dir`, as absolute paths. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(path) : [path]
  })
}

/**
 * The modules a built file imports that are OpenTelemetry's or
 * `@wirecall/otel`: `import`, `export … from`, `require(…)`, `import(…)`
 * (an `import("…")` type in a declaration file too) and `/// <reference types>`,
 * as TypeScript's pre-processor reads them, so an `@example` in a TSDoc
 * comment that shows `wirecallOtel` does not count.
 */
function otelImports(code: string): string[] {
  const info = ts.preProcessFile(code, true, true)
  return [...info.importedFiles, ...info.typeReferenceDirectives]
    .map((file) => file.fileName)
    .filter((name) => name.startsWith('@opentelemetry/') || name === '@wirecall/otel' || name.startsWith('@wirecall/otel/'))
}

/** Which bundle inputs belong to OpenTelemetry or to `@wirecall/otel`. */
function otelInputs(b: Bundle): string[] {
  return Object.keys(b.metafile.inputs).filter((input) => /@opentelemetry[/+]|packages\/otel\//.test(input))
}

const gzipped = (b: Bundle) => gzipSync(b.code, { level: 9 }).length

// The app of the bundle-size test, and two variants of it written beside the
// type-check fixtures' generated files (gitignored): the same app with
// hooks of its own, and with `@wirecall/otel`.
const fixtures = fileURLToPath(new URL('../browser/fixtures/', import.meta.url))
const appEntry = join(fixtures, 'bundle-entry.ts')
const generated = fileURLToPath(new URL('./fixtures/ts/.gen/', import.meta.url))
const otelDist = join(root, 'packages/otel/dist/index.js')

/** bundle-entry.ts with `instrumentation` added to its client's options, written to `.gen/<name>.ts`. */
function appVariant(name: string, imports: string[], instrumentation: string, declarations: string[] = []): string {
  const app = readFileSync(appEntry, 'utf8').replace(`from './router'`, `from '${join(fixtures, 'router')}'`)
  const client = /createRpcClient<TestRouter>\(\{ (url: .+?) \}\)/
  expect(app, 'bundle-entry.ts creates its client as this test expects').toMatch(client)
  const code = [...imports, ...declarations, app.replace(client, `createRpcClient<TestRouter>({ $1, instrumentation: ${instrumentation} })`)].join('\n')
  mkdirSync(generated, { recursive: true })
  const file = join(generated, `${name}.ts`)
  writeFileSync(file, code)
  return file
}

describe('OpenTelemetry stays out of @wirecall/core, server and client', () => {
  it.each(PACKAGES)('@wirecall/%s: no @opentelemetry/* (nor @wirecall/otel) among its dependencies of any kind', (pkg) => {
    const manifest = JSON.parse(readFileSync(join(root, `packages/${pkg}/package.json`), 'utf8')) as Record<string, unknown>
    for (const field of DEPENDENCY_FIELDS) {
      const names = Object.keys((manifest[field] as Record<string, string> | undefined) ?? {})
      expect(
        names.filter((name) => name.startsWith('@opentelemetry/') || name === '@wirecall/otel'),
        `${pkg} ${field}`,
      ).toEqual([])
    }
  })

  it.each(PACKAGES)('@wirecall/%s: its built files (JavaScript and declarations) import nothing from @opentelemetry', (pkg) => {
    const dist = join(root, `packages/${pkg}/dist`)
    expect(existsSync(join(dist, 'index.js')), `packages/${pkg}/dist (run pnpm build)`).toBe(true)
    const files = filesUnder(dist).filter((file) => /\.(c?js|d\.c?ts)$/.test(file))
    expect(files.length).toBeGreaterThanOrEqual(4) // index.js, index.cjs, index.d.ts, index.d.cts at least
    const found = files.flatMap((file) => otelImports(readFileSync(file, 'utf8')).map((spec) => `${file.replace(root, '')}: ${spec}`))
    expect(found).toEqual([])
  })

  it('the import check finds what it looks for, and not a mention in a comment (so an empty answer above means something)', () => {
    const code = [
      `import { trace } from "@opentelemetry/api";`,
      `const core = require('@opentelemetry/core')`,
      `export * from '@wirecall/otel'`,
      `type T = import('@opentelemetry/sdk-metrics').MeterProvider`,
      `/** @example import { wirecallOtel } from '@wirecall/otel' */`,
    ].join('\n')
    expect(otelImports(code)).toEqual(['@opentelemetry/api', '@opentelemetry/core', '@wirecall/otel', '@opentelemetry/sdk-metrics'])
  })
})

describe('the browser bundle of a client app', () => {
  it('holds nothing of OpenTelemetry without @wirecall/otel, hooks of its own or not; @wirecall/otel adds only itself and @opentelemetry/api', async () => {
    for (const pkg of ['client', 'core']) {
      expect(existsSync(join(root, `packages/${pkg}/dist/index.js`)), `packages/${pkg}/dist (run pnpm build)`).toBe(true)
    }
    // The app whose size tests/browser/bundle-size.test.ts budgets.
    const plain = await bundle(appEntry, { packages: 'dist', minify: true })
    // The same app with a hook object of its own: the hook interface is types, and the client's calls to it are already in `plain`.
    const hooked = await bundle(
      appVariant('bundle-hooks', [`import type { ClientInstrumentation } from '@wirecall/client'`], '[timing]', [
        `const timing: ClientInstrumentation = { onCall: async (call, next) => { const started = performance.now(); const outcome = await next(); console.log(call.path, outcome.status, performance.now() - started); return outcome } }`,
      ]),
      { packages: 'dist', minify: true },
    )
    for (const [name, b] of [
      ['bundle-entry.ts', plain],
      ['bundle-entry.ts with hooks of its own', hooked],
    ] as const) {
      expect(otelInputs(b), name).toEqual([])
      expect(b.code, name).not.toMatch(/opentelemetry/i)
    }
    // Nothing but the app's few lines: the library code is the same bytes.
    const libraryBytes = (b: Bundle) =>
      Object.values(b.metafile.outputs)
        .flatMap((output) => Object.entries(output.inputs))
        .filter(([input]) => /packages\/(client|core)\/dist\//.test(input))
        .reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0)
    expect(libraryBytes(hooked)).toBe(libraryBytes(plain))

    expect(existsSync(otelDist), 'packages/otel/dist (run pnpm build)').toBe(true)
    const withOtel = await bundle(appVariant('bundle-otel', [`import { wirecallOtel } from '${otelDist}'`], '[wirecallOtel()]'), {
      packages: 'dist',
      minify: true,
    })
    const inputs = otelInputs(withOtel)
    expect(inputs.some((input) => input.includes('packages/otel/dist/'))).toBe(true)
    expect(inputs.some((input) => /@opentelemetry[/+]api/.test(input))).toBe(true)
    // @opentelemetry/api and @wirecall/otel only: no SDK comes with it (the app picks and bundles its own).
    expect(inputs.filter((input) => !input.includes('packages/otel/dist/') && !/@opentelemetry[/+]api/.test(input))).toEqual([])

    const bytesOf = (b: Bundle, match: RegExp) =>
      Object.values(b.metafile.outputs)
        .flatMap((output) => Object.entries(output.inputs))
        .filter(([input]) => match.test(input))
        .reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0)
    console.log(
      [
        `client app bundle (bundle-entry.ts, minified, gzip -9): ${gzipped(plain)} B; with hooks of its own: ${gzipped(hooked)} B; with @wirecall/otel: ${gzipped(withOtel)} B (+${gzipped(withOtel) - gzipped(plain)} B gzipped)`,
        `  @wirecall/otel: ${bytesOf(withOtel, /packages\/otel\/dist\//)} B minified, @opentelemetry/api: ${bytesOf(withOtel, /@opentelemetry[/+]api/)} B minified, ` +
          `@wirecall/core and client: +${libraryBytes(withOtel) - libraryBytes(plain)} B minified (what the otel package uses of them); an SDK and an exporter come on top, the app's choice`,
      ].join('\n'),
    )
    expect(gzipped(withOtel)).toBeGreaterThan(gzipped(plain))
  })
})
