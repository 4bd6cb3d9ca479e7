import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { pageSteps } from '../docs/page-steps'
import { clean, compile, compilers, project, removeProjects, type CompilerName } from './tsc-projects'

/**
 * What docs/routers.md says a client needs of a router's types (issue 17,
 * point 9: the page said the validators' types must resolve for clients):
 *
 * - the declarations emitted for a router built with zod and valibot
 *   import `@wirecall/core` and nothing else;
 * - a client compiled against those declarations needs `@wirecall/client`
 *   and `@wirecall/core`, and no validator;
 * - a client that imports the router's source from another package of a
 *   monorepo needs `@wirecall/client` only: the router's imports resolve
 *   from the router's own folder.
 *
 * Both compilers, against the built packages.
 */

const docsRouter = (() => {
  const step = pageSteps('docs/getting-started.md').find((s) => s.kind === 'file' && s.path === 'router.ts')
  if (step?.kind !== 'file') throw new Error('docs/getting-started.md shows no router.ts')
  return step.text
})()

/** A second router with what schemas add to types: defaults, transforms, a valibot schema, an output schema. */
const richRouter = `
import { initRpc } from '@wirecall/core'
import * as v from 'valibot'
import { z } from 'zod'

const rpc = initRpc.context<{ user?: string }>().create()
const Post = z.object({ title: z.string().min(1), tags: z.array(z.string()).default([]), at: z.iso.datetime().transform((s) => new Date(s)) })

export const appRouter = rpc.router({
  post: {
    add: rpc.procedure.input(Post).output(z.object({ id: z.string() })).mutation(({ input }) => ({ id: input.title })),
    byTag: rpc.procedure.input(v.object({ tag: v.pipe(v.string(), v.minLength(1)) })).query(({ input }) => [input.tag]),
  },
})
export type AppRouter = typeof appRouter
`

const client = (routerPath: string) => `
import { createRpcClient } from '@wirecall/client'
import type { AppRouter } from '${routerPath}'

const api = createRpcClient<AppRouter>({ url: 'ws://127.0.0.1:3000/rpc' })
export const greeting: Promise<{ text: string; at: Date }> = api.greet.query({ name: 'Ada' })
`

const emitOptions = { target: 'es2022', module: 'nodenext', strict: true, declaration: true, emitDeclarationOnly: true, types: [] }
const clientOptions = { target: 'es2022', module: 'nodenext', strict: true, noEmit: true, types: [], lib: ['es2022', 'dom'] }
const outDir = (name: CompilerName) => `out-${name.replace(/\W+/g, '-')}`

/** The module specifiers a declaration file refers to: `import("x")`, `from 'x'`, `/// <reference types="x" />`. */
function referencedModules(declarations: string): string[] {
  const found = [...declarations.matchAll(/import\("([^"]+)"\)|from ["']([^"']+)["']|reference types="([^"]+)"/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
  return [...new Set(found)].sort()
}

afterAll(removeProjects)

describe("a router's types, as a client gets them", { timeout: 120_000 }, () => {
  it.each([
    ['getting-started.md', docsRouter],
    ['a zod and valibot router with defaults, transforms and an output schema', richRouter],
  ])('the declarations emitted for %s import @wirecall/core only', async (_name, router) => {
    const server = project({ type: 'module', files: { 'router.ts': router }, compilerOptions: emitOptions, nodeModules: 'repository' })
    expect(await compile(server, (name) => ['--outDir', outDir(name)])).toEqual(clean)
    for (const name of Object.keys(compilers) as CompilerName[]) {
      const declarations = readFileSync(join(server, outDir(name), 'router.d.ts'), 'utf8')
      expect(referencedModules(declarations), `${name}:\n${declarations}`).toEqual(['@wirecall/core'])
    }
  })

  it('a client compiled against the declarations needs @wirecall/client and @wirecall/core, and no validator', async () => {
    const server = project({ type: 'module', files: { 'router.ts': docsRouter }, compilerOptions: emitOptions, nodeModules: 'repository' })
    expect(await compile(server, (name) => ['--outDir', outDir(name)])).toEqual(clean)
    const declarations = readFileSync(join(server, outDir('TypeScript 5.9'), 'router.d.ts'), 'utf8')
    const files = { 'router.d.ts': declarations, 'client.ts': client('./router.js') }
    const both = { '@wirecall/client': 'packages/client', '@wirecall/core': 'packages/core' }
    expect(await compile(project({ type: 'module', files, compilerOptions: clientOptions, nodeModules: both }))).toEqual(clean)

    const clientOnly = await compile(project({ type: 'module', files, compilerOptions: clientOptions, nodeModules: { '@wirecall/client': 'packages/client' } }))
    for (const output of Object.values(clientOnly)) expect(output).toMatch(/^router\.d\.ts\(\d+,\d+\): error TS2307: Cannot find module '@wirecall\/core'/)
  })

  it("a client in another package of a monorepo, importing the router's source, needs @wirecall/client only", async () => {
    const server = project({ type: 'module', files: { 'router.ts': docsRouter }, compilerOptions: emitOptions, nodeModules: 'repository' })
    const files = { 'client.ts': client(`../${basename(server)}/router.js`) }
    const printed = await compile(project({ type: 'module', files, compilerOptions: clientOptions, nodeModules: { '@wirecall/client': 'packages/client' } }))
    expect(printed).toEqual(clean)
  })
})
