import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, type Metafile } from 'esbuild'
import { IMPLS, isVariant, type ImplName, type WirecallVariant } from './contract'

/**
 * What each library costs a browser app: one entry per implementation in
 * src/bundles/ (the same small app: a client to ws://host/rpc, a query, a
 * mutation, a subscription, the connection state), bundled by esbuild
 * (bundle, minify, tree-shaking; platform browser, ESM) through the packages'
 * published entry points (package `exports`, esbuild's default conditions;
 * `@wirecall/*` are the workspace links to the BUILT packages/*\/dist), then
 * gzipped at level 9. Deterministic: sizes, not timings.
 *
 * The raw entry (a few lines of WebSocket + JSON) is the baseline the
 * harness divides by.
 *
 * Standalone: `npx tsx src/bundle-size.ts` prints a table and each bundle's
 * bytes per package.
 */

/** Bytes of each implementation's bundle; `null` for one that was not measured. */
export type BundleSizes = Record<ImplName, { minified: number; gzipped: number } | null>

/** The implementations with a bundle of their own: the wirecall variants have none (tests/build/no-otel-dependency.test.ts prints what `@wirecall/otel` adds to a client bundle). */
export type BundledImpl = Exclude<ImplName, WirecallVariant>
const BUNDLED: readonly BundledImpl[] = IMPLS.filter((name): name is BundledImpl => !isVariant(name))

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** The entry of each implementation, and the router files it must only import the type of. */
const ENTRIES: Record<BundledImpl, { entry: string; typeOnly: string[] }> = {
  raw: { entry: here('./bundles/raw.ts'), typeOnly: [] },
  wirecall: { entry: here('./bundles/wirecall.ts'), typeOnly: ['bundles/wirecall-router.ts'] },
  trpc: { entry: here('./bundles/trpc.ts'), typeOnly: ['bundles/trpc-router.ts'] },
  socketio: { entry: here('./bundles/socketio.ts'), typeOnly: [] },
}

/** Packages that are server code, or only used for types: none may end up in a client bundle. */
const NEVER_BUNDLED = ['zod', 'ws', '@wirecall/server', 'socket.io', 'engine.io']

/** One bundle, measured, with the minified bytes each package contributes. */
export interface MeasuredBundle {
  minified: number
  gzipped: number
  /** Minified bytes per owner (a package name, or "the entry"), largest first. */
  parts: [string, number][]
}

/** Which package (or the entry itself) an input of the metafile belongs to. */
function owner(input: string): string {
  const modules = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/)
  if (modules) return modules[1]!
  const pkg = input.match(/packages\/([^/]+)\//)
  if (pkg) return `@wirecall/${pkg[1]}`
  return 'the entry'
}

function breakdown(metafile: Metafile): [string, number][] {
  const totals = new Map<string, number>()
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      totals.set(owner(input), (totals.get(owner(input)) ?? 0) + bytesInOutput)
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1])
}

/**
 * Throws unless the bundle is something a browser loads as is: no `node:`
 * import, no `require(`, no import left external; and no server or
 * type-only code in it (the router files, zod, ws, server packages), and
 * wirecall from its built dist, not its sources.
 */
function assertBrowserOnly(name: BundledImpl, code: string, metafile: Metafile, typeOnly: string[]): void {
  const problems: string[] = []
  if (/["']node:/.test(code)) problems.push('it imports a `node:` module')
  if (code.includes('require(')) problems.push('it calls `require(`')
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) if (imported.external) problems.push(`it leaves "${imported.path}" external`)
  }
  const inputs = Object.keys(metafile.inputs)
  for (const file of typeOnly) {
    if (inputs.some((input) => input.endsWith(file))) problems.push(`${file} is bundled (only its type should be imported)`)
  }
  const sources = inputs.filter((input) => /packages\/[^/]+\/src\//.test(input))
  if (sources.length > 0) problems.push(`it bundles wirecall's sources (${sources[0]}), not the built dist`)
  const owners = new Set(inputs.map(owner))
  for (const pkg of NEVER_BUNDLED) if (owners.has(pkg)) problems.push(`${pkg} is bundled`)
  if (problems.length > 0) throw new Error(`the ${name} bundle cannot go to a browser as is: ${problems.join('; ')}`)
}

/** Bundles and measures one implementation's entry. */
export async function measureBundle(name: BundledImpl): Promise<MeasuredBundle> {
  if (name === 'wirecall') {
    // The workspace link resolves to packages/*/dist: without a build there is nothing to measure.
    for (const pkg of ['client', 'core']) {
      const file = fileURLToPath(new URL(`../../packages/${pkg}/dist/index.js`, import.meta.url))
      if (!existsSync(file)) throw new Error(`@wirecall/${pkg} is not built (${file} is missing): run 'pnpm build' at the root first`)
    }
  }
  const { entry, typeOnly } = ENTRIES[name]
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: here('..'),
    bundle: true,
    minify: true,
    treeShaking: true,
    format: 'esm',
    platform: 'browser',
    // Same target as the test suite's bundle budget (tests/browser/bundle.ts), so the figures compare.
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: `${name}.js`,
    // No tsconfig.json: the root one maps @wirecall/* to packages/*/src (for the type-checker), and
    // esbuild would follow those paths. An app resolves the package through node_modules, to dist.
    tsconfigRaw: {},
  })
  const code = result.outputFiles[0]!.text
  assertBrowserOnly(name, code, result.metafile, typeOnly)
  const minified = Buffer.byteLength(code)
  return { minified, gzipped: gzipSync(code, { level: 9 }).length, parts: breakdown(result.metafile) }
}

/**
 * Bundle sizes of the given implementations (default: all), minified and
 * minified + gzipped (level 9), in bytes. Others, and the instrumented
 * variants, are `null`.
 */
export async function measureBundles(impls: readonly ImplName[] = IMPLS): Promise<BundleSizes> {
  const sizes = Object.fromEntries(IMPLS.map((name) => [name, null])) as BundleSizes
  for (const name of BUNDLED.filter((bundled) => impls.includes(bundled))) {
    const { minified, gzipped } = await measureBundle(name)
    sizes[name] = { minified, gzipped }
  }
  return sizes
}

async function printTable(): Promise<void> {
  const measured = new Map<BundledImpl, MeasuredBundle>()
  for (const name of BUNDLED) measured.set(name, await measureBundle(name))
  const raw = measured.get('raw')!
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`
  const lines = [
    '| bundle | minified | min + gzip | gzip / raw | minified bytes per package |',
    '|---|---:|---:|---:|---|',
    ...BUNDLED.map((name) => {
      const b = measured.get(name)!
      const ratio = name === 'raw' ? 'baseline' : `${(b.gzipped / raw.gzipped).toFixed(1)}×`
      const parts = b.parts.map(([pkg, bytes]) => `${pkg} ${bytes}`).join(', ')
      return `| ${name} | ${b.minified} B (${kib(b.minified)}) | ${b.gzipped} B (${kib(b.gzipped)}) | ${ratio} | ${parts} |`
    }),
  ]
  console.log(lines.join('\n'))
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  printTable().catch((error: unknown) => {
    console.error(error)
    process.exitCode = 1
  })
}
