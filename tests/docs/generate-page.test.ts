import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRpcServer, type RpcServer } from '@wirecall/server'
import { runCli as run } from '../codegen/run-cli'
import { appRouter } from './fixtures/router'
import { codeBlocks, repoRoot } from './markdown'

/**
 * docs/generate.md is a promise (issue 15): every `npx wirecall generate …`
 * and `npx wirecall api …` command on the page runs as written, in the order
 * the page gives them, in a folder holding the docs' router as
 * `src/router.ts`, and exits 0 (`api check` included, against the lock and
 * the `api.d.ts` the commands above it wrote). The `--url` commands run
 * against a real server with `schemaEndpoint: true` on 127.0.0.1, its port
 * put in place of the page's 3000. And `fixtures/api.ts`, the `./api` the
 * page's client block compiles against (code-blocks.test.ts), is what
 * `generate types` writes for the docs' router today.
 * (`call` and `subscribe` run for real in tests/codegen/cli/.)
 */

const PAGE = 'docs/generate.md'
const fixtures = join(repoRoot, 'tests/docs/fixtures')

/** The page's `npx wirecall …` lines that generate or check, as argument lists, in page order. */
function pageCommands(): string[][] {
  return codeBlocks(PAGE)
    .filter((block) => block.lang === 'sh')
    .flatMap((block) => block.code.split('\n'))
    .map((line) => line.trim())
    .filter((line) => /^npx wirecall (generate|api) /.test(line))
    .map((line) => line.replace(/^npx wirecall /, '').split(/\s+/))
}

let folder: string
let server: RpcServer | undefined
let url: string

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'wirecall-generate-page-'))
  mkdirSync(join(folder, 'src'))
  for (const file of ['router.ts', 'db.ts']) copyFileSync(join(fixtures, file), join(folder, 'src', file))
  // The reader's installed packages: the workspace's (zod, @wirecall/core, typescript).
  symlinkSync(join(repoRoot, 'node_modules'), join(folder, 'node_modules'), 'dir')
  server = createRpcServer({ router: appRouter, schemaEndpoint: true })
  const { port } = await server.listen({ port: 0, host: '127.0.0.1', path: '/rpc' })
  url = `ws://127.0.0.1:${port}/rpc`
})

afterAll(async () => {
  await server?.close()
  rmSync(folder, { recursive: true, force: true })
})

describe('docs/generate.md', () => {
  it('lists the commands this test runs (so a page rewritten without them fails here)', () => {
    const words = pageCommands().map((argv) => argv.slice(0, 2).join(' '))
    expect(new Set(words)).toEqual(new Set(['generate types', 'generate schema', 'api lock', 'api check']))
    expect(pageCommands().some((argv) => argv.includes('--url'))).toBe(true)
  })

  it('every generate and api command on the page runs as written and exits 0', { timeout: 120_000 }, async () => {
    for (const argv of pageCommands()) {
      const line = argv.map((arg) => arg.replace('ws://127.0.0.1:3000/rpc', url)).map((arg) => arg.replace(/^'(.*)'$/, '$1'))
      const { status, stderr } = await run(line, folder)
      expect(status, `wirecall ${argv.join(' ')}\n${stderr}`).toBe(0)
    }
    expect(readFileSync(join(folder, 'api.d.ts'), 'utf8')).toContain('export type AppApi = {')
    expect(JSON.parse(readFileSync(join(folder, 'api.lock.json'), 'utf8'))).toMatchObject({ format: 'wirecall-api/1' })
    expect(JSON.parse(readFileSync(join(folder, 'asyncapi.json'), 'utf8'))).toMatchObject({ asyncapi: '3.0.0' })
  })

  it("fixtures/api.ts, the page's ./api, is what generate types writes for the docs' router", { timeout: 60_000 }, async () => {
    const out = join(folder, 'fixture-api.ts')
    const { status, stderr } = await run(['generate', 'types', '--router', join(fixtures, 'router.ts#appRouter'), '--out', out], repoRoot)
    expect(status, stderr).toBe(0)
    expect(readFileSync(out, 'utf8'), 'regenerate: node packages/codegen/dist/cli.js generate types --router tests/docs/fixtures/router.ts#appRouter --out tests/docs/fixtures/api.ts').toBe(
      readFileSync(join(fixtures, 'api.ts'), 'utf8'),
    )
  })
})
