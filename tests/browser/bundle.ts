import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type Metafile, type Plugin } from 'esbuild'

/**
 * esbuild bundles for the browser tests: page and worker scripts, scripts
 * for a child Node process, and the bundle whose size is budgeted.
 */

// Not `new URL(path, import.meta.url)`: Vite rewrites that pattern to an http: URL in DOM test environments (happy-dom),
// and React tests bundle their server fixtures with this too.
const repo = (path: string) => join(dirname(fileURLToPath(import.meta.url)), '../..', path)

/**
 * Which copy of the wirecall packages a bundle contains: `'source'` (the
 * TypeScript in packages/*\/src, as the rest of the tests use) or `'dist'`
 * (the built ESM in packages/*\/dist, as an app installing from npm gets).
 */
export type PackageCopy = 'source' | 'dist'

/** Options of {@link bundle}. */
export interface BundleOptions {
  /** Default `'browser'`. */
  platform?: 'browser' | 'node'
  /** Default `'source'`. */
  packages?: PackageCopy
  /** Default `false`: readable stacks when a page fails. */
  minify?: boolean
}

/** A bundle's code, and esbuild's metafile (which input contributed how many bytes). */
export interface Bundle {
  code: string
  metafile: Metafile
}

/** Entry point of each wirecall package in the chosen copy. */
export function packageEntries(copy: PackageCopy): Record<string, string> {
  const file = copy === 'source' ? 'src/index.ts' : 'dist/index.js'
  return Object.fromEntries(['client', 'core', 'server'].map((name) => [`@wirecall/${name}`, repo(`packages/${name}/${file}`)]))
}

/**
 * Resolves `@wirecall/*` imports to the chosen copy, explicitly, instead of
 * relying on tsconfig paths or workspace links. Fails the build with a clear
 * message when dist/ is asked for and has not been built.
 */
function wirecallPackages(copy: PackageCopy): Plugin {
  const entries = packageEntries(copy)
  return {
    name: 'wirecall-packages',
    setup(build) {
      build.onResolve({ filter: /^@wirecall\/(client|core|server)$/ }, ({ path }) => {
        const file = entries[path]!
        if (!existsSync(file)) {
          return { errors: [{ text: `${path} is not built: ${file} is missing. Run 'pnpm build' first.` }] }
        }
        return { path: file }
      })
    },
  }
}

/** Bundles `entry` (a path) into one ESM file, in memory. */
export async function bundle(entry: string, options: BundleOptions = {}): Promise<Bundle> {
  const platform = options.platform ?? 'browser'
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform,
    target: platform === 'browser' ? 'es2022' : 'node20',
    minify: options.minify ?? false,
    write: false,
    metafile: true,
    logLevel: 'silent',
    // A `.mjs` name, so a child `node` running the bundle from stdin or a file treats it as ESM.
    outfile: 'bundle.mjs',
    plugins: [wirecallPackages(options.packages ?? 'source')],
  })
  return { code: result.outputFiles[0]!.text, metafile: result.metafile }
}

const browserBundles = new Map<string, Promise<string>>()

/**
 * `entry` bundled for the browser (ESM, the packages' sources), cached per
 * entry for the life of the test file: pages and workers load it as a
 * module script.
 */
export function bundleForBrowser(entry: string): Promise<string> {
  let code = browserBundles.get(entry)
  if (code === undefined) {
    code = bundle(entry).then((b) => b.code)
    code.catch(() => browserBundles.delete(entry)) // let the next caller try again
    browserBundles.set(entry, code)
  }
  return code
}
