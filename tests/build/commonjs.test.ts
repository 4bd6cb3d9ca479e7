import { afterAll, describe, expect, it } from 'vitest'
import { pageSteps } from '../docs/page-steps'
import { clean, compile, project, removeProjects } from './tsc-projects'

/**
 * docs/runtimes/commonjs.md's claims, compiled against the built packages
 * (issue 17, point 8) with both compilers the repository supports, under
 * each `module` setting the page names: a CommonJS project needs nothing
 * special; a `.cts` file that imports a type from an ES module needs the
 * `resolution-mode` attribute under node16 and node18 only (TS1541
 * without it), and compiles with it under all four. Each project's
 * `node_modules` is the repository's, where `@wirecall/*` are the
 * workspace packages and their dist/.
 */

const modules = ['nodenext', 'node20', 'node18', 'node16'] as const
type ModuleSetting = (typeof modules)[number]

function fileOf(page: string, path: string): string {
  const step = pageSteps(page).find((s) => s.kind === 'file' && s.path === path)
  if (step?.kind !== 'file') throw new Error(`${page} shows no ${path}`)
  return step.text
}

const router = fileOf('docs/getting-started.md', 'router.ts')
const cjsClient = fileOf('docs/runtimes/commonjs.md', 'client.ts')
const report = fileOf('docs/runtimes/commonjs.md', 'report.cts')
const attribute = " with { 'resolution-mode': 'import' }"

afterAll(removeProjects)

function consumer(type: 'commonjs' | 'module', files: Record<string, string>, module: ModuleSetting): string {
  // skipLibCheck: what is tested is the consumer's imports; dist.test.ts checks the declarations themselves.
  const compilerOptions = { target: 'es2022', module, strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }
  return project({ type, files, compilerOptions, nodeModules: 'repository' })
}

describe('docs/runtimes/commonjs.md, compiled with TypeScript 5.9 and 7 against the built packages', { timeout: 120_000 }, () => {
  it('the page shows the attribute it talks about', () => {
    expect(report).toContain(`from './router.js'${attribute}`)
  })

  it.each(modules)('a CommonJS project: client.ts and router.ts compile under module %s', async (module) => {
    expect(await compile(consumer('commonjs', { 'router.ts': router, 'client.ts': cjsClient }, module))).toEqual(clean)
  })

  it.each(modules)('an ES module project: report.cts, with the attribute, compiles under module %s', async (module) => {
    expect(await compile(consumer('module', { 'router.ts': router, 'report.cts': report }, module))).toEqual(clean)
  })

  it.each(modules)('an ES module project: report.cts, without the attribute, under module %s', async (module) => {
    const printed = await compile(consumer('module', { 'router.ts': router, 'report.cts': report.replace(attribute, '') }, module))
    if (module === 'nodenext' || module === 'node20') {
      expect(printed).toEqual(clean)
      return
    }
    for (const output of Object.values(printed)) {
      expect(output).toMatch(/^report\.cts\(\d+,\d+\): error TS1541: Type-only import of an ECMAScript module from a CommonJS module must have a 'resolution-mode' attribute\.$/)
    }
  })
})
