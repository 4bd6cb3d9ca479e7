import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { printApiDeclarations } from '../../../packages/codegen/src/types/print-declarations'
import { readApiModel } from '../../../packages/codegen/src/types/read-api-model'
import { FIXTURES, REPO } from './helpers'

const run = promisify(execFile)

// generated-api.test-d.ts proves the checked-in files make the router's own
// client; this file proves they are what the generator writes today, and
// that they compile on their own under the strictest consumer options.
const FILES = [
  { file: 'app-api.d.ts', selfContained: false },
  { file: 'app-api.self-contained.d.ts', selfContained: true },
] as const

describe('the checked-in generated files', () => {
  it('are current (set UPDATE_GENERATED=1 to rewrite them)', async () => {
    const model = await readApiModel({ file: join(FIXTURES, 'app-router.ts'), exportName: 'appRouter' })
    for (const { file, selfContained } of FILES) {
      const fresh = printApiDeclarations(model, { selfContained })
      if (process.env.UPDATE_GENERATED === '1') await writeFile(join(FIXTURES, file), fresh)
      expect(await readFile(join(FIXTURES, file), 'utf8'), `${file} is stale: run with UPDATE_GENERATED=1`).toBe(fresh)
    }
  }, 60_000)
})

// A consumer of the generated file alone, with @wirecall/client as a
// package (its built .d.ts) and nothing of the server.
const CONSUMER = `import type { RpcClient } from '@wirecall/client'
import type { AppApi } from './api'

declare const api: RpcClient<AppApi>

export async function use(): Promise<void> {
  const greeting: string = await api.greet.query({ name: 'Ada' })
  const post = await api.post.add.mutate({ title: 't', body: 'b', priority: 'low', views: 1n }, { idempotent: true })
  const at: Date = post.createdAt
  const rich = await api.admin.rich.query()
  const count: number | undefined = rich.counts.get('x')
  const tree = await api.admin.categories.query()
  const label: string | undefined = tree.children[0]?.children[0]?.label
  await api.post.upsert.mutate({ id: '1', title: 't' }, { idempotencyKey: 'k' })
  const sub = api.ticks.subscribe({ every: 1 }, { onData: (tick) => void tick.at.getTime(), onResync: () => {} })
  sub.unsubscribe()
  // @ts-expect-error wrong input
  await api.greet.query({ name: 1 })
  // @ts-expect-error missing input
  await api.greet.query()
  // @ts-expect-error query on a subscription path
  await api.ticks.query({ every: 1 })
  // @ts-expect-error unknown path
  await api.post.remove.mutate({})
  // @ts-expect-error output used wrongly
  const wrong: number = await api.greet.query({ name: 'Ada' })
  // @ts-expect-error exactOptionalPropertyTypes: email may not be set to undefined
  const author: NonNullable<Awaited<ReturnType<typeof api.post.byAuthor.query>>>['author'] = { id: 'a', name: 'n', email: undefined }
  void [greeting, at, count, label, wrong, author]
}
`

const TSC = { '5.9': join(REPO, 'node_modules/typescript/bin/tsc'), '7': join(REPO, 'node_modules/typescript-7/bin/tsc') }
// ESM and CJS consumers: a package without `"type": "module"` under node16
// is CommonJS. TypeScript 7 has no node10 resolution any more.
const CONSUMERS = [
  { ts: '5.9', module: 'esnext', moduleResolution: 'bundler', esm: true },
  { ts: '7', module: 'esnext', moduleResolution: 'bundler', esm: true },
  { ts: '5.9', module: 'node16', moduleResolution: 'node16', esm: false },
  { ts: '7', module: 'node16', moduleResolution: 'node16', esm: false },
  { ts: '5.9', module: 'commonjs', moduleResolution: 'node10', esm: false },
] as const

describe.concurrent('the generated file compiles alone under strict consumer options', () => {
  let work: string
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wirecall-consumer-'))
  })
  afterAll(async () => {
    await rm(work, { recursive: true, force: true })
  })

  const cases = FILES.flatMap(({ file }) => CONSUMERS.map((consumer) => ({ file, ...consumer })))
  it.each(cases)('$file, TypeScript $ts, module $module / $moduleResolution', async ({ file, ts, module, moduleResolution, esm }) => {
    const dir = join(work, `${file}-${ts}-${module}`)
    await mkdir(join(dir, 'node_modules/@wirecall'), { recursive: true })
    await symlink(join(REPO, 'packages/client'), join(dir, 'node_modules/@wirecall/client'), 'dir')
    await symlink(join(REPO, 'packages/core'), join(dir, 'node_modules/@wirecall/core'), 'dir')
    await copyFile(join(FIXTURES, file), join(dir, 'api.d.ts'))
    await writeFile(join(dir, 'consumer.ts'), CONSUMER)
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, ...(esm ? { type: 'module' } : {}) }))
    const compilerOptions = {
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      isolatedModules: true,
      skipLibCheck: false,
      noEmit: true,
      target: 'es2022',
      lib: ['es2022', 'dom'],
      types: [],
      module,
      moduleResolution,
      verbatimModuleSyntax: esm,
    }
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['api.d.ts', 'consumer.ts'] }))
    const result = await run(process.execPath, [TSC[ts], '-p', dir], { cwd: dir, timeout: 120_000 }).then(
      () => ({ code: 0, stdout: '' }),
      (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
    )
    expect(result).toEqual({ code: 0, stdout: '' })
  }, 150_000)
})
