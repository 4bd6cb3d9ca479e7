import { initRpc } from '@wirecall/core'
import { beforeAll, describe, expect, test } from 'vitest'
import { buildSchemaSet } from '../../../packages/codegen/src/schema/build-schema-set'
import type { ProcedureSchemas, SchemaSet } from '../../../packages/codegen/src/schema/schema-types'
import type { ApiModel } from '../../../packages/codegen/src/model/api-model'
import { readApiModel } from '../../../packages/codegen/src/types/read-api-model'
import { sourcesRouter } from './fixtures/sources-router'
import { strictAjv } from './strict-ajv'

// Which of the four sources each side takes: the validator library's own
// converter, Standard JSON Schema, the TypeScript type, and last `{}`
// marked `x-wirecall-unrepresentable` with a warning.

const ROUTER_FILE = `${__dirname}/fixtures/sources-router.ts`

let model: ApiModel
let withTypes: SchemaSet
let withoutTypes: SchemaSet
beforeAll(async () => {
  model = await readApiModel({ file: ROUTER_FILE, exportName: 'sourcesRouter' })
  withTypes = await buildSchemaSet(sourcesRouter, { model, resolveFrom: ROUTER_FILE })
  withoutTypes = await buildSchemaSet(sourcesRouter, { resolveFrom: ROUTER_FILE })
}, 60_000)

const procedure = (set: SchemaSet, path: string): ProcedureSchemas => set.procedures.find((p) => p.path === path)!

describe('with the TypeScript model', () => {
  test('1: a zod validator goes through zod’s own converter', () => {
    const p = procedure(withTypes, 'viaZod')
    expect(p.input).toMatchObject({ source: 'validator', library: 'zod' })
    expect(p.input.schema).toMatchObject({ properties: { at: { 'x-wirecall-type': 'Date' } } })
  })

  test('2: a validator that offers only Standard JSON Schema', () => {
    const p = procedure(withTypes, 'viaStandard')
    expect(p.input).toEqual({ source: 'standard-json-schema', schema: { type: 'integer', exclusiveMinimum: 0 } })
    expect(p.output.source).toBe('standard-json-schema')
    expect(p.input.schema).not.toHaveProperty('$schema')
  })

  test('3: no validator: the TypeScript type, named and recursive types under $defs', () => {
    const p = procedure(withTypes, 'viaTypes')
    expect(p.output.source).toBe('typescript')
    expect(p.output.schema).toMatchObject({
      properties: { folder: { $ref: '#/$defs/Folder' }, sizes: { 'x-wirecall-type': 'map' } },
      required: ['folder', 'sizes'],
      $defs: { Folder: { properties: { children: { items: { $ref: '#/$defs/Folder' } } } } },
    })
    // No `.input()`: the input is undefined, sent as no input at all (null in `json`).
    expect(p.input).toEqual({ source: 'typescript', schema: { type: 'null', 'x-wirecall-type': 'undefined' } })
  })

  test('3: a validator with no JSON Schema at all yields to the TypeScript type', () => {
    expect(procedure(withTypes, 'opaque').input).toEqual({
      source: 'typescript',
      schema: { type: 'object', properties: { secret: { type: 'string' } }, required: ['secret'] },
    })
  })

  test('a validator whose schema has a hole (a transform’s output) yields to the exact TypeScript type', () => {
    const p = procedure(withTypes, 'transformed')
    expect(p.output.source).toBe('typescript')
    expect(withTypes.warnings).toEqual([])
  })

  test('several .input() validators, two libraries: allOf', () => {
    const p = procedure(withTypes, 'merged')
    expect(p.input.source).toBe('validator')
    expect(p.input.library).toBe('zod+valibot')
    expect(p.input.schema.allOf).toHaveLength(2)
  })

  test('a subscription that can resync: the flag, and no resync member in its events', () => {
    const p = procedure(withTypes, 'ticks')
    expect(p.resync).toBe(true)
    expect(p.output.source).toBe('typescript')
    expect(p.output.schema).toMatchObject({ type: 'object', required: ['n', 'at'] })
    expect(procedure(withTypes, 'viaTypes').resync).toBeUndefined()
  })

  test('kind and idempotent come from the router', () => {
    expect(procedure(withTypes, 'admin.purge')).toMatchObject({ kind: 'mutation', idempotent: true })
    expect(procedure(withTypes, 'ticks')).toMatchObject({ kind: 'subscription', idempotent: false })
    expect(withTypes.procedures.map((p) => p.path)).toEqual([...sourcesRouter._def.procedures.keys()])
  })
})

describe('without it', () => {
  test('4: no validator and no types: {} marked x-wirecall-unrepresentable, and a warning', () => {
    const p = procedure(withoutTypes, 'viaTypes')
    expect(p.output.source).toBe('unrepresentable')
    expect(p.output.schema).toMatchObject({ 'x-wirecall-unrepresentable': true })
    expect(withoutTypes.warnings).toContainEqual({ path: 'viaTypes', side: 'output', message: expect.stringContaining('no output validator') })
  })

  test('4: a validator with no JSON Schema: unrepresentable, the warning says why', () => {
    expect(procedure(withoutTypes, 'opaque').input.source).toBe('unrepresentable')
    const warning = withoutTypes.warnings.find((w) => w.path === 'opaque' && w.side === 'input')
    expect(warning?.message).toContain('has no JSON Schema')
  })

  test('a transform’s output stays the validator’s, with the hole marked where it is and a warning', () => {
    const p = procedure(withoutTypes, 'transformed')
    expect(p.output).toMatchObject({ source: 'validator', library: 'zod' })
    expect(p.output.schema).toMatchObject({ properties: { n: { 'x-wirecall-unrepresentable': true } } })
    expect(withoutTypes.warnings).toContainEqual({ path: 'transformed', side: 'output', message: expect.stringContaining('at properties.n') })
  })

  test('sides with a validator do not need the types', () => {
    expect(procedure(withoutTypes, 'viaZod').input).toEqual(procedure(withTypes, 'viaZod').input)
    expect(procedure(withoutTypes, 'ticks').resync).toBeUndefined()
  })
})

test('a Standard JSON Schema converter that throws: the next source, and its message in the warning', async () => {
  const throwing = {
    '~standard': {
      version: 1 as const,
      vendor: 'picky',
      validate: (value: unknown) => ({ value }),
      jsonSchema: {
        input: () => {
          throw new Error('picky: cannot do draft-2020-12')
        },
        output: () => ({}),
      },
    },
  }
  const rpc = initRpc.create()
  const router = rpc.router({ picky: rpc.procedure.input(throwing).query(() => 1) })
  const set = await buildSchemaSet(router)
  expect(set.procedures[0]!.input.source).toBe('unrepresentable')
  expect(set.warnings[0]!.message).toContain('picky: cannot do draft-2020-12')
})

test('every schema of both sets compiles in ajv’s strict mode', () => {
  const ajv = strictAjv()
  let compiled = 0
  for (const set of [withTypes, withoutTypes]) {
    for (const p of set.procedures) {
      for (const side of [p.input, p.output]) {
        ajv.compile(side.schema)
        compiled++
      }
    }
  }
  expect(compiled).toBe(sourcesRouter._def.procedures.size * 4)
})
