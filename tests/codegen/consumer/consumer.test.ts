import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../../docs/markdown'
import { consumerTsconfig, MODULE_SETTINGS } from './module-settings'
import { CONSUMER_COMPILERS, makeConsumerPackage, run, type ConsumerCompiler, type ConsumerPackage } from './packed-consumer'

/**
 * Issue 15's consumer outside the monorepo. `wirecall generate types`
 * (the built CLI, in a child process) projects tests/codegen/consumer/fixture/router.ts
 * into an `api.d.ts`, with and without `--self-contained`. A package in the
 * system's temporary folder holds only that file, `@wirecall/client` (and
 * its `@wirecall/core`) from packed tarballs, and TypeScript 5.9 and 7 from
 * npm; app/client.ts, a front end using every procedure and holding at
 * least 20 `@ts-expect-error` lines, must compile there without a message
 * under strict, exactOptionalPropertyTypes and noUncheckedIndexedAccess for
 * each (module, moduleResolution) pair of module-settings.ts. An unused
 * `@ts-expect-error` is itself an error, so a clean compile proves that
 * every one of them fires against the generated types.
 *
 * `pnpm test` builds first; run `pnpm build` before running this file alone.
 */

const CLI = join(repoRoot, 'packages/codegen/dist/cli.js')
const ROUTER = 'tests/codegen/consumer/fixture/router.ts#appRouter'
const CLIENT_SOURCE = join(repoRoot, 'tests/codegen/consumer/app/client.ts')

const VARIANTS = { default: [], 'self-contained': ['--self-contained'] } as const satisfies Record<string, readonly string[]>
type Variant = keyof typeof VARIANTS
const variants = Object.keys(VARIANTS) as Variant[]
const compilerNames = Object.keys(CONSUMER_COMPILERS) as ConsumerCompiler[]

/**
 * Names the server keeps to itself: its context interface and that
 * interface's members, its middleware, its validator library, and the
 * builder's internals. None may reach the generated file, not even in a
 * comment.
 */
const SERVER_NAMES = ['zod', 'ShopContext', 'shopSession', 'inventoryDb', 'requireShopMember', 'memberId', '_def', 'ctx', '~types', '~kind', 'StandardSchema', 'ZodType']

let consumer: ConsumerPackage | undefined
const generated = {} as Record<Variant, string>
const generatedIn = mkdtempSync(join(tmpdir(), 'wirecall-consumer-api-'))

async function generate(variant: Variant): Promise<{ text: string; ms: number }> {
  const out = join(generatedIn, variant, 'api.d.ts')
  const started = performance.now()
  const result = await run(process.execPath, [CLI, 'generate', 'types', '--router', ROUTER, '--out', out, ...VARIANTS[variant]], repoRoot)
  const ms = performance.now() - started
  if (result.code !== 0) throw new Error(`wirecall generate types ${VARIANTS[variant].join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`)
  return { text: readFileSync(out, 'utf8'), ms }
}

/** The project file of one compile: a tsconfig per (variant, setting, compiler), all in the one package. */
function projectFile(variant: Variant, label: string, compiler: ConsumerCompiler): string {
  return join(variant, `tsconfig.${label.replace('/', '-')}.${CONSUMER_COMPILERS[compiler]}.json`)
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('packages/codegen/dist/cli.js is missing: run pnpm build')
  // Settled, not all: when a generation fails, the package made meanwhile must still be there for afterAll to remove.
  const [making, ...generating] = await Promise.allSettled([makeConsumerPackage('module'), ...variants.map(generate)])
  if (making.status === 'fulfilled') consumer = making.value
  for (const result of [making, ...generating]) if (result.status === 'rejected') throw result.reason
  const made = consumer!
  for (const [i, variant] of variants.entries()) {
    const { text, ms } = (generating[i] as PromiseFulfilledResult<{ text: string; ms: number }>).value
    generated[variant] = text
    const dir = join(made.dir, variant)
    mkdirSync(dir)
    writeFileSync(join(dir, 'api.d.ts'), text)
    copyFileSync(CLIENT_SOURCE, join(dir, 'client.ts'))
    for (const setting of MODULE_SETTINGS) {
      for (const compiler of compilerNames) writeFileSync(join(made.dir, projectFile(variant, setting.label, compiler)), consumerTsconfig(setting, compiler, ['client.ts']))
    }
    console.log(`consumer: api.d.ts (${variant}) generated in ${Math.round(ms)} ms, ${text.split('\n').length} lines`)
  }
}, 240_000)

afterAll(() => {
  consumer?.remove()
  rmSync(generatedIn, { recursive: true, force: true })
})

/**
 * Module specifiers the text refers to: `from '…'`, `import('…')`,
 * `require('…')`, `/// <reference …>`. Comments are read for references
 * only: the file's header may say where `AppApi` is used from.
 */
function referencedModules(text: string): string[] {
  const found: string[] = []
  for (const m of text.matchAll(/\/\/\/\s*<reference\s+(?:types|path|lib)=['"]([^'"]+)['"]/g)) found.push(m[1]!)
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  for (const m of code.matchAll(/\bfrom\s+['"]([^'"]+)['"]/g)) found.push(m[1]!)
  for (const m of code.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]/g)) found.push(m[1]!)
  for (const m of code.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(m[1]!)
  return found
}

describe('the generated api.d.ts', () => {
  it.each(variants)('%s: exports AppApi and imports at most types from @wirecall/client (nothing when self-contained)', (variant) => {
    const text = generated[variant]
    expect(text).toMatch(/^export (?:type|interface) AppApi\b/m)
    const modules = referencedModules(text)
    if (variant === 'self-contained') {
      expect(modules).toEqual([])
      expect(text).not.toMatch(/^\s*import\b/m)
    } else {
      expect(modules.filter((name) => name !== '@wirecall/client')).toEqual([])
      // Types only: a value import would make the file a runtime dependency.
      for (const line of text.split('\n').filter((l) => /^\s*import\b/.test(l))) expect(line).toMatch(/^\s*import type\b/)
    }
  })

  it.each(variants)('%s: names nothing of the server: no context, middleware, validator or builder internals, and no any', (variant) => {
    const text = generated[variant]
    const leaked = SERVER_NAMES.filter((name) => text.includes(name))
    expect(leaked, `server names in the ${variant} api.d.ts`).toEqual([])
    expect(text).not.toMatch(/\bany\b/)
  })
})

describe('a consumer package outside the workspace, holding only api.d.ts, @wirecall/client and TypeScript', () => {
  it('has only what a consumer installs', () => {
    const manifest = JSON.parse(readFileSync(join(consumer!.dir, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }
    expect(Object.keys(manifest.devDependencies).sort()).toEqual(['@wirecall/client', '@wirecall/core', 'typescript', 'typescript-7'])
    expect(consumer!.dir.startsWith(repoRoot)).toBe(false)
    expect(existsSync(join(consumer!.dir, 'node_modules/zod'))).toBe(false)
    expect(existsSync(join(consumer!.dir, 'node_modules/@wirecall/server'))).toBe(false)
  })

  it('uses the client with at least 20 @ts-expect-error lines', () => {
    const lines = readFileSync(CLIENT_SOURCE, 'utf8').split('\n')
    const expected = lines.filter((line) => /^\s*\/\/ @ts-expect-error\b/.test(line))
    console.log(`consumer: app/client.ts holds ${expected.length} @ts-expect-error lines`)
    expect(expected.length).toBeGreaterThanOrEqual(20)
    // Each one is about the line below it: a statement, not a blank or another comment.
    for (const [i, line] of lines.entries()) {
      if (/^\s*\/\/ @ts-expect-error\b/.test(line)) expect(lines[i + 1], `line ${i + 2}`).toMatch(/^\s*[^\s/]/)
    }
  })

  // Concurrent: each is one tsc process (5.9 runs on one core), so several use every core there is.
  for (const variant of variants) {
    for (const compiler of compilerNames) {
      it.concurrent.each(MODULE_SETTINGS.map((s) => [s.label, s] as const))(`${variant}, ${compiler}, %s: compiles without a message`, { timeout: 120_000 }, async (label, setting) => {
        const project = projectFile(variant, label, compiler)
        const result = await consumer!.tsc(compiler, project)
        const printed = `${result.stdout}${result.stderr}`.trim()
        expect(printed, `${compiler} -p ${project} (moduleResolution ${setting.moduleResolution[compiler]})`).toBe('')
        expect(result.code).toBe(0)
      })
    }
  }

  it('fails when a generated type is wrong: the check can fail', async () => {
    // The same package with one field of api.d.ts changed from bigint to number.
    const broken = generated.default.replace(/(\bpriceCents: )bigint\b/, '$1number')
    expect(broken).not.toBe(generated.default)
    mkdirSync(join(consumer!.dir, 'broken'))
    writeFileSync(join(consumer!.dir, 'broken/api.d.ts'), broken)
    copyFileSync(CLIENT_SOURCE, join(consumer!.dir, 'broken/client.ts'))
    const project = join('broken', 'tsconfig.json')
    writeFileSync(join(consumer!.dir, project), consumerTsconfig(MODULE_SETTINGS[0]!, 'TypeScript 7', ['client.ts']))
    const result = await consumer!.tsc('TypeScript 7', project)
    expect(result.code).not.toBe(0)
    expect(result.stdout).toMatch(/client\.ts\(\d+,\d+\): error TS\d+/)
  })

  it('TypeScript 7 still refuses moduleResolution node10 (so the CommonJS pair is checked with bundler there)', async () => {
    const project = join('default', 'tsconfig.node10-probe.typescript-7.json')
    const probe = MODULE_SETTINGS.find((s) => s.moduleResolution['TypeScript 5.9'] === 'node10')!
    writeFileSync(join(consumer!.dir, project), consumerTsconfig({ ...probe, moduleResolution: { 'TypeScript 5.9': 'node10', 'TypeScript 7': 'node10' } }, 'TypeScript 7', ['client.ts']))
    const result = await consumer!.tsc('TypeScript 7', project)
    expect(`${result.stdout}${result.stderr}`).toContain('TS5108')
  })
})
