import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bundle } from '../browser/bundle'

/**
 * A scale-out fixture (a node, the publisher) bundled for Node into one ESM
 * file, from the packages' sources as the rest of the tests run them. A
 * bundle starts in a fraction of a second, which the scenarios pay for
 * every process they start (two or three per run, ten runs per scenario).
 * Resolves to the file's path; `dispose()` (in `afterAll`) removes it.
 */
export async function bundleFixture(entry: string): Promise<{ file: string; dispose(): void }> {
  const { code } = await bundle(entry, { platform: 'node' })
  const dir = mkdtempSync(join(tmpdir(), 'wirecall-scale-out-'))
  const file = join(dir, 'fixture.mjs')
  // `ws` and `redis` are CommonJS inside and require Node's modules: give the ESM bundle a `require`.
  writeFileSync(file, `import { createRequire } from 'node:module'\nconst require = createRequire(import.meta.url)\n${code}`)
  return { file, dispose: () => rmSync(dir, { recursive: true, force: true }) }
}
