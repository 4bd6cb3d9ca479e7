import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initRpc } from '@wirecall/core'
import * as v from 'valibot'
import * as zm from 'zod/mini'
import { afterEach, expect, test } from 'vitest'
import { buildSchemaSet } from '../../../packages/codegen/src/schema/build-schema-set'

// Which copy of a converter runs: the user's, next to their router, before
// codegen's own; and zod mini, whose schemas have no method, through the
// user's `zod/v4/core`.

const rpc = initRpc.create()
const valibotRouter = rpc.router({ one: rpc.procedure.input(v.object({ at: v.date() })).query(() => 1) })

const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** A folder whose node_modules holds a stand-in `@valibot/to-json-schema` that marks what it converts. */
async function folderWithOwnConverter(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wirecall-resolve-'))
  dirs.push(dir)
  const pkg = join(dir, 'node_modules', '@valibot', 'to-json-schema')
  await mkdir(pkg, { recursive: true })
  await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: '@valibot/to-json-schema', version: '0.0.0', main: 'index.js' }))
  await writeFile(join(pkg, 'index.js'), "exports.toJsonSchema = () => ({ type: 'object', title: 'the user’s own copy' })\n")
  await writeFile(join(dir, 'router.ts'), '')
  return dir
}

test('valibot: the converter beside the router is the one used', async () => {
  const dir = await folderWithOwnConverter()
  const set = await buildSchemaSet(valibotRouter, { resolveFrom: join(dir, 'router.ts') })
  expect(set.procedures[0]!.input).toEqual({ source: 'validator', library: 'valibot', schema: { type: 'object', title: 'the user’s own copy' } })
})

test('valibot: without one beside the router, codegen’s own (an optional peer)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wirecall-resolve-'))
  dirs.push(dir)
  const set = await buildSchemaSet(valibotRouter, { resolveFrom: dir })
  expect(set.procedures[0]!.input).toMatchObject({ source: 'validator', library: 'valibot', schema: { properties: { at: { 'x-wirecall-type': 'Date' } } } })
})

test('zod mini: no toJSONSchema method, so the user’s zod/v4/core converts it', async () => {
  const router = rpc.router({ mini: rpc.procedure.input(zm.object({ at: zm.date(), n: zm.optional(zm.number()) })).query(() => 1) })
  const set = await buildSchemaSet(router, { resolveFrom: __dirname })
  expect(set.procedures[0]!.input).toMatchObject({
    source: 'validator',
    library: 'zod',
    schema: { properties: { at: { 'x-wirecall-type': 'Date' }, n: { anyOf: [{ anyOf: [{ type: 'number' }, { const: '-0' }] }, { type: 'null' }] } } },
  })
  // Not resolvable from where the router is: zod is not imported from anywhere else, the next source is taken.
  const elsewhere = await mkdtemp(join(tmpdir(), 'wirecall-resolve-'))
  dirs.push(elsewhere)
  const fallback = await buildSchemaSet(router, { resolveFrom: elsewhere })
  expect(fallback.procedures[0]!.input.source).toBe('unrepresentable')
})
