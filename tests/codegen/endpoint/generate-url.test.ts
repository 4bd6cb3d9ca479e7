import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RpcError, initRpc } from '@wirecall/core'
import { describeRouter } from '@wirecall/codegen'
import { freePort } from '../../helpers/child-server'
import { startServer } from '../../helpers/harness'
import { richRouter } from './fixtures/rich-router'

/**
 * `wirecall generate types --url` and `generate schema --url`: the built
 * CLI in a child process, against a real server on 127.0.0.1 with
 * `schemaEndpoint: true`. The generated `api.d.ts` is compiled with a small
 * consumer by the real `tsc` under strict settings. `pnpm test` builds
 * first; run `pnpm build` before running this file alone.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url))
const CLI = join(root, 'packages/codegen/dist/cli.js')
const TSC = join(root, 'node_modules/typescript/bin/tsc')
const TIMEOUT_MS = 60_000

interface Ran {
  code: number
  stdout: string
  stderr: string
}

function run(args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, timeout: TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr })
    })
  })
}

const wirecall = (args: string[]) => run([CLI, ...args], work)

let work: string

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('packages/codegen/dist/cli.js is missing: run pnpm build')
  work = mkdtempSync(join(tmpdir(), 'wirecall-generate-url-'))
})

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

/**
 * A front end that has nothing but the generated file and `@wirecall/client`:
 * every `@ts-expect-error` must fire (an unused one is itself an error).
 */
const CONSUMER = `import { createRpcClient, type RpcClient } from '@wirecall/client'
import type { AppApi } from './api'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const same = <A, B>(_: Equal<A, B>) => {}

export function connect(url: string): RpcClient<AppApi> {
  return createRpcClient<AppApi>({ url })
}

export async function use(api: RpcClient<AppApi>): Promise<void> {
  const greeting: string = await api.greet.query({ name: 'Ada' })
  // @ts-expect-error name is a string
  await api.greet.query({ name: 1 })
  // @ts-expect-error the input is required
  await api.greet.query()

  const post = await api.post.add.mutate({ title: 't', at: new Date(), tags: new Set(['a']), likes: 10n })
  await api.post.add.mutate({ title: 't', at: new Date(), tags: new Set<string>() })
  same<typeof post.publishedAt, Date>(true)
  same<typeof post.likes, bigint>(true)
  same<typeof post.reactions, Map<string, number>>(true)
  same<typeof post.tags, Set<string>>(true)
  same<typeof post.subtitle, string | undefined>(true)
  // @ts-expect-error at is a Date, not a string
  await api.post.add.mutate({ title: 't', at: '2026-01-01', tags: new Set<string>() })
  // @ts-expect-error likes is a bigint
  await api.post.add.mutate({ title: 't', at: new Date(), tags: new Set<string>(), likes: 1 })
  // @ts-expect-error a mutation has no query
  await api.post.add.query({ title: 't', at: new Date(), tags: new Set<string>() })
  // @ts-expect-error id is a number
  const id: string = post.id

  const list = await api.post.byStatus.query({ status: 'draft', limit: 10 })
  same<typeof list, AppApiPost[]>(true)
  // @ts-expect-error not a status
  await api.post.byStatus.query({ status: 'archived' })

  const sub = api.ticks.subscribe({ every: 1_000 }, {
    onData: (tick) => {
      same<typeof tick, { at: Date; n: number }>(true)
    },
  })
  sub.unsubscribe()
  // @ts-expect-error a subscription is not a query
  await api.ticks.query({ every: 1 })
  // @ts-expect-error no such path
  await api.nothing.query()
  void greeting
  void id
}

type AppApiPost = AppApi['post']['add']['$output']
`

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noUnusedLocals: false,
    module: 'esnext',
    moduleResolution: 'bundler',
    target: 'es2022',
    lib: ['es2022', 'dom'],
    types: [],
    noEmit: true,
    skipLibCheck: false,
    // The client as a consumer installs it: its built declarations.
    paths: { '@wirecall/client': [join(root, 'packages/client/dist/index.d.ts')] },
  },
  files: ['consumer.ts', 'api.d.ts'],
}

describe('wirecall generate types --url', () => {
  it('writes an api.d.ts from a running server that a strict consumer compiles against, with the validators\' types', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true })
    const dir = mkdtempSync(join(work, 'types-'))
    const ran = await wirecall(['generate', 'types', '--url', url, '--out', join(dir, 'api.d.ts')])
    expect(ran.stderr).toMatch(/^wirecall: wrote .*api\.d\.ts: 4 procedures/)
    expect(ran.code).toBe(0)
    const text = readFileSync(join(dir, 'api.d.ts'), 'utf8')
    expect(text).toContain('export type AppApi = {')
    expect(text).not.toMatch(/\bzod\b|\bZod|\bany\b/)
    for (const line of text.split('\n').filter((l) => /^\s*import\b/.test(l))) expect(line).toMatch(/from '@wirecall\/client'/)

    writeFileSync(join(dir, 'consumer.ts'), CONSUMER)
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2))
    const tsc = await run([TSC, '-p', join(dir, 'tsconfig.json')], dir)
    expect(tsc.stdout).toBe('')
    expect(tsc.code).toBe(0)
    expect(CONSUMER.match(/@ts-expect-error/g)).toHaveLength(9)
  })

  it('sends --params to createContext', async () => {
    const rpc = initRpc.context<{ user: string }>().create()
    const router = rpc.router({ me: rpc.procedure.query(({ ctx }) => ctx.user) })
    const createContext = ({ connectionParams }: { connectionParams: unknown }) => {
      if ((connectionParams as { token?: unknown } | undefined)?.token !== 'secret') throw new RpcError('UNAUTHORIZED', 'bad token')
      return { user: 'ada' }
    }
    const { url } = await startServer({ router, createContext, schemaEndpoint: true })
    const out = join(work, 'guarded.d.ts')
    const refused = await wirecall(['generate', 'types', '--url', url, '--out', out])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain('4401 bad token')
    const ran = await wirecall(['generate', 'types', '--url', url, '--params', '{"token":"secret"}', '--out', out])
    expect(ran.code).toBe(0)
    expect(readFileSync(out, 'utf8')).toMatch(/me: \{\s+\$kind: 'query'\s+\$input: undefined\s+\$output: unknown/)
  })

  it('exits 1 with the hint to enable schemaEndpoint when the server has none', async () => {
    const { url } = await startServer({ router: richRouter })
    const out = join(work, 'none.d.ts')
    const ran = await wirecall(['generate', 'types', '--url', url, '--out', out])
    expect(ran.code).toBe(1)
    expect(ran.stderr).toBe(
      `wirecall: ${url} has no schema endpoint (NOT_FOUND: no procedure at "$wirecall.describe"); create the server with createRpcServer({ router, schemaEndpoint: true }), or generate from the source with --router\n`,
    )
    expect(existsSync(out)).toBe(false)
  })

  it('exits 1 with a connection message when nothing listens', async () => {
    const port = await freePort()
    const ran = await wirecall(['generate', 'types', '--url', `ws://127.0.0.1:${port}/rpc`, '--out', join(work, 'closed.d.ts')])
    expect(ran.code).toBe(1)
    expect(ran.stderr).toBe(`wirecall: cannot connect to ws://127.0.0.1:${port}/rpc: connect ECONNREFUSED 127.0.0.1:${port}\n`)
  })
})

describe('wirecall generate schema --url', () => {
  it('writes the schemas the server described, and an AsyncAPI document naming the server', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true })
    const dir = mkdtempSync(join(work, 'schema-'))
    const ran = await wirecall(['generate', 'schema', '--url', url, '--out', join(dir, 'schema'), '--asyncapi', join(dir, 'asyncapi.json'), '--strict'])
    expect(ran.code, ran.stderr).toBe(0)
    const files = readdirSync(join(dir, 'schema'), { recursive: true }).map(String).filter((f) => f.endsWith('.json'))
    expect(files.length).toBeGreaterThanOrEqual(8)
    // Every procedure's sides are there, and say what the server's manifest says.
    const { manifest } = await describeRouter(richRouter)
    const written = files.map((f) => JSON.parse(readFileSync(join(dir, 'schema', f), 'utf8')) as Record<string, unknown>)
    const withoutIds = written.map(({ $schema: _s, $id: _i, ...schema }) => JSON.stringify(schema))
    for (const [path, procedure] of Object.entries(manifest.procedures)) {
      for (const side of ['input', 'output'] as const) {
        const { $schema: _s, $id: _i, ...expected } = procedure[side] as Record<string, unknown>
        expect(withoutIds, `${path} ${side}`).toContain(JSON.stringify(expected))
      }
    }
    const asyncapi = JSON.parse(readFileSync(join(dir, 'asyncapi.json'), 'utf8')) as { asyncapi: string; servers?: Record<string, { host?: string; pathname?: string }> }
    expect(asyncapi.asyncapi).toMatch(/^3\./)
    const servers = Object.values(asyncapi.servers ?? {})
    expect(servers.map((s) => `${s.host}${s.pathname ?? ''}`)).toContain(url.replace('ws://', ''))
  })

  it('exits 1 with the hint when the server has no endpoint', async () => {
    const { url } = await startServer({ router: richRouter })
    const ran = await wirecall(['generate', 'schema', '--url', url, '--out', join(work, 'no-schema')])
    expect(ran.code).toBe(1)
    expect(ran.stderr).toContain('schemaEndpoint: true')
  })
})
