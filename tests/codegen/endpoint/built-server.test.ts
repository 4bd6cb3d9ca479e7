import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SCHEMA_ENDPOINT_PATH } from '@wirecall/server'
import { freePort, startChildServer } from '../../helpers/child-server'
import { readyPeer } from '../../helpers/harness'

/**
 * The built `@wirecall/server` in a child process, loaded from ESM and
 * from CommonJS, in an app whose node_modules holds the server (a copy:
 * resolution starts from its real path), core, ws and zod, and in a second
 * app `@wirecall/codegen` too (the optional peer). Without the generator
 * the server serves and only the describe call answers, with what to
 * install; with it, the lazy `import()` finds it from either build.
 * `pnpm test` builds first; run `pnpm build` before this file alone.
 */

const root = fileURLToPath(new URL('../../../', import.meta.url))
const packages = join(root, 'packages')
const apps = { without: '', with: '' }

const SCRIPT = (load: string) => `${load}
const rpc = initRpc.create()
const router = rpc.router({
  ping: rpc.procedure.query(() => 'pong'),
  greet: rpc.procedure.input(z.object({ name: z.string() })).output(z.string()).query(({ input }) => 'hello ' + input.name),
})
const server = createRpcServer({ router, schemaEndpoint: true })
server.listen({ port: Number(process.env.PORT), host: '127.0.0.1', path: '/rpc' }).then(() => console.log('serving'))
`

function makeApp(withCodegen: boolean): string {
  const app = mkdtempSync(join(tmpdir(), `wirecall-server-${withCodegen ? 'with' : 'without'}-codegen-`))
  const modules = join(app, 'node_modules')
  mkdirSync(join(modules, '@wirecall/server'), { recursive: true })
  cpSync(join(packages, 'server/dist'), join(modules, '@wirecall/server/dist'), { recursive: true })
  cpSync(join(packages, 'server/package.json'), join(modules, '@wirecall/server/package.json'))
  symlinkSync(join(packages, 'core'), join(modules, '@wirecall/core'), 'dir')
  if (withCodegen) symlinkSync(join(packages, 'codegen'), join(modules, '@wirecall/codegen'), 'dir')
  symlinkSync(join(packages, 'server/node_modules/ws'), join(modules, 'ws'), 'dir')
  symlinkSync(join(root, 'node_modules/zod'), join(modules, 'zod'), 'dir')
  writeFileSync(join(app, 'serve.mjs'), SCRIPT(`import { createRpcServer, initRpc } from '@wirecall/server'\nimport { z } from 'zod'`))
  writeFileSync(join(app, 'serve.cjs'), SCRIPT(`const { createRpcServer, initRpc } = require('@wirecall/server')\nconst { z } = require('zod')`))
  return app
}

beforeAll(() => {
  apps.without = makeApp(false)
  apps.with = makeApp(true)
})

afterAll(() => {
  for (const app of Object.values(apps)) if (app !== '') rmSync(app, { recursive: true, force: true })
})

/** Starts `script` of `app` in a child (killed after the test) and calls `ping` and the describe path; returns both answers. */
async function askChild(app: string, script: string): Promise<[Record<string, unknown>, Record<string, unknown>]> {
  const port = await freePort()
  await startChildServer({ args: [script], cwd: app, env: { PORT: String(port) }, readyText: 'serving', name: script })
  const peer = await readyPeer(`ws://127.0.0.1:${port}/rpc`)
  peer.send({ type: 'call', id: 1, method: 'query', path: 'ping' })
  peer.send({ type: 'call', id: 2, method: 'query', path: SCHEMA_ENDPOINT_PATH })
  const [ping, describe] = await Promise.all([1, 2].map((id) => peer.next((m) => m.id === id, 15_000)))
  return [ping!, describe!]
}

describe('the built server', () => {
  it.each(['serve.mjs', 'serve.cjs'])('without @wirecall/codegen serves, and answers the describe call NOT_IMPLEMENTED with what to install (%s)', async (script) => {
    const [ping, describe] = await askChild(apps.without, script)
    expect(ping).toEqual({ type: 'result', id: 1, data: 'pong' })
    expect(describe).toEqual({
      type: 'error',
      id: 2,
      code: 'NOT_IMPLEMENTED',
      message: 'the schema endpoint needs @wirecall/codegen: install it beside @wirecall/server (npm install @wirecall/codegen)',
    })
  })

  it.each(['serve.mjs', 'serve.cjs'])('with @wirecall/codegen installed loads it on the first describe call and answers the description (%s)', async (script) => {
    const [ping, describe] = await askChild(apps.with, script)
    expect(ping).toEqual({ type: 'result', id: 1, data: 'pong' })
    expect(describe, JSON.stringify(describe)).toMatchObject({ type: 'result' })
    const { manifest, asyncapi } = describe.data as { manifest: { format: string; procedures: Record<string, { input: unknown }> }; asyncapi: { asyncapi: string } }
    expect(manifest.format).toBe('wirecall-api/1')
    expect(Object.keys(manifest.procedures)).toEqual(['greet', 'ping'])
    expect(manifest.procedures.greet!.input).toEqual({ type: 'object', properties: { name: { type: 'string' } }, required: ['name'] })
    expect(asyncapi.asyncapi).toMatch(/^3\./)
  })
})
