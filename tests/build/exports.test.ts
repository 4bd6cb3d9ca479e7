import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

/**
 * What each built package exports, by name, as a snapshot in
 * `exports/<package>.txt`: a new export (or a lost one) fails this test
 * until the snapshot is updated with it, so growth of the public surface
 * is a decision made in review (`vitest -u` rewrites the files). Values
 * are read from ESM and CommonJS in a separate Node process and must be the
 * same; types are read from the built `.d.ts` with the compiler.
 */

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Runtime export names of a package's entry point (`core`, or a subpath
 * such as `tanstack-query/react`), as ESM and as CommonJS see it.
 */
async function valueNames(entry: string): Promise<{ esm: string[]; cjs: string[] }> {
  const pkg = entry.split('/')[0]!
  const script = `
    const { createRequire } = require('node:module')
    const req = createRequire(process.cwd() + '/packages/${pkg}/package.json')
    const cjs = Object.keys(req('@wirecall/${entry}')).sort()
    import('@wirecall/${entry}').then((m) => console.log(JSON.stringify({ esm: Object.keys(m).filter((k) => k !== 'default').sort(), cjs })))
  `
  const { stdout } = await run(process.execPath, ['-e', script], { cwd: `${root}packages/${pkg}`, timeout: 15_000 })
  return JSON.parse(stdout) as { esm: string[]; cjs: string[] }
}

/** Names the built declarations of an entry point export that are types only (interfaces, type aliases). */
function typeOnlyNames(entry: string): string[] {
  const [pkg, subpath] = entry.split('/')
  const file = `${root}packages/${pkg}/dist/${subpath ?? 'index'}.d.ts`
  const program = ts.createProgram([file], { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, noEmit: true, skipLibCheck: true })
  const checker = program.getTypeChecker()
  const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!
  return checker
    .getExportsOfModule(module)
    .filter((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
      return (target.flags & ts.SymbolFlags.Value) === 0
    })
    .map((symbol) => symbol.name)
    .sort()
}

describe.each(['core', 'server', 'client', 'tanstack-query', 'tanstack-query/react', 'otel', 'codegen', 'redis'])('@wirecall/%s exports', (entry) => {
  it('the same values from ESM and CommonJS, and only the names in its snapshot', async () => {
    const { esm, cjs } = await valueNames(entry)
    expect(cjs).toEqual(esm)
    const types = typeOnlyNames(entry)
    const text = [`# @wirecall/${entry}: values (${esm.length})`, ...esm, '', `# types only (${types.length})`, ...types, ''].join('\n')
    await expect(text).toMatchFileSnapshot(`./exports/${entry.replace('/', '-')}.txt`)
  })
})
