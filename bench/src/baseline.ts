/**
 * `--baseline REF`: wirecall as it was at a git commit, built the way the
 * packages are (one ESM module per package, esbuild, target es2022, the
 * other packages and `ws` left as imports), into
 * `bench/results/baseline/<commit>/` (gitignored with the results). The
 * `wirecall-baseline` implementation runs it beside today's build, so a
 * change is measured against what came before in the same run, on the same
 * machine load: how issue 20 checks that wirecall without instrumentation
 * costs what it did before the hooks existed.
 *
 * Only the packages' sources are read from git (`git archive`, which
 * touches neither the working tree nor the index).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url))
const REPO = join(BENCH_DIR, '..')

/** The directory `WIRECALL_BASELINE_DIR` names for the children: `core.mjs`, `server.mjs` and `client.mjs` of `ref`. */
export async function prepareBaseline(ref: string): Promise<{ dir: string; commit: string }> {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: REPO, encoding: 'utf8' }).trim()
  const dir = join(BENCH_DIR, 'results', 'baseline', commit.slice(0, 12))
  if (['core', 'server', 'client'].every((pkg) => existsSync(join(dir, `${pkg}.mjs`)))) return { dir, commit }

  const sources = join(dir, 'src')
  mkdirSync(sources, { recursive: true })
  const tar = execFileSync('git', ['archive', '--format=tar', commit, 'packages/core/src', 'packages/server/src', 'packages/client/src'], {
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
  })
  execFileSync('tar', ['-x', '-C', sources], { input: tar })

  for (const [pkg, platform] of [
    ['core', 'neutral'],
    ['server', 'node'],
    ['client', 'neutral'],
  ] as const) {
    await build({
      entryPoints: [join(sources, `packages/${pkg}/src/index.ts`)],
      outfile: join(dir, `${pkg}.mjs`),
      bundle: true,
      format: 'esm',
      platform,
      target: 'es2022',
      logLevel: 'warning',
      // No tsconfig: the root one maps @wirecall/* to today's sources.
      tsconfigRaw: {},
      plugins: [
        {
          name: 'packages-stay-imports',
          setup(b) {
            // One module per package, as in dist: the server and client import the baseline's own core.
            b.onResolve({ filter: /^@wirecall\/core$/ }, () => ({ path: './core.mjs', external: true }))
            // `ws`, superjson and the like come from bench/node_modules, as for the built packages.
            b.onResolve({ filter: /^[^./]/ }, ({ path }) => ({ path, external: true }))
          },
        },
      ],
    })
  }
  return { dir, commit }
}
