import { describe, expect, it } from 'vitest'
import { buildManifest, manifestText } from '../../../packages/codegen/src/manifest/build-manifest'
import { normalizeSchema } from '../../../packages/codegen/src/manifest/normalize-schema'
import type { ProcedureSchemas, SchemaSet } from '../../../packages/codegen/src/schema/schema-types'

describe('normalizeSchema', () => {
  it('sorts keys and set-valued keywords, and drops documentation in schema positions only', () => {
    const out = normalizeSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      description: 'a post',
      examples: [{ title: 'x' }],
      required: ['title', 'description'],
      properties: {
        title: { type: 'string', title: 'Title', description: 'shown in lists' },
        description: { type: 'string', $comment: 'a property named like the keyword stays' },
        kind: { enum: ['b', 'a', { z: 1, a: 2 }] },
      },
    })
    expect(JSON.stringify(out)).toBe(
      JSON.stringify({
        properties: { description: { type: 'string' }, kind: { enum: ['a', 'b', { a: 2, z: 1 }] }, title: { type: 'string' } },
        required: ['description', 'title'],
        type: 'object',
      }),
    )
  })

  it('keeps documentation with keepDocs', () => {
    expect(normalizeSchema({ type: 'string', description: 'why' }, { keepDocs: true })).toEqual({ description: 'why', type: 'string' })
  })

  it('drops $defs nothing reachable refers to, following references through other entries', () => {
    const out = normalizeSchema({
      $ref: '#/$defs/A',
      $defs: { A: { type: 'array', items: { $ref: '#/$defs/B' } }, B: { type: 'object', properties: { next: { $ref: '#/$defs/B' } } }, C: { type: 'string' }, D: { $ref: '#/$defs/C' } },
    })
    expect(Object.keys(out.$defs as object)).toEqual(['A', 'B'])
    expect(normalizeSchema({ type: 'string', $defs: { Unused: { type: 'number' } } })).toEqual({ type: 'string' })
  })

  it('is idempotent', () => {
    const schema = { anyOf: [{ type: ['string', 'null'] }, { $ref: '#/$defs/X' }], $defs: { X: { required: ['b', 'a'], type: 'object' } } }
    const once = normalizeSchema(schema)
    expect(normalizeSchema(once)).toEqual(once)
  })
})

describe('buildManifest', () => {
  const proc = (path: string, extra: Partial<ProcedureSchemas> = {}, doc = 'x'): ProcedureSchemas => ({
    path,
    kind: 'query',
    idempotent: false,
    input: { schema: { type: 'object', description: doc, properties: { b: { type: 'number' }, a: { type: 'string' } }, required: ['b', 'a'] }, source: 'validator', library: 'zod' },
    output: { schema: { type: 'string' }, source: 'typescript' },
    ...extra,
  })

  it('gives byte-identical text for equal APIs written in another order or with other docs', () => {
    const a: SchemaSet = { procedures: [proc('post.add'), proc('greet')], warnings: [] }
    const b: SchemaSet = { procedures: [proc('greet', {}, 'other words'), proc('post.add')], warnings: [] }
    expect(manifestText(buildManifest(a))).toBe(manifestText(buildManifest(b)))
    expect(manifestText(buildManifest(a)).endsWith('}\n')).toBe(true)
    expect(Object.keys(buildManifest(a).procedures)).toEqual(['greet', 'post.add'])
  })

  it('writes idempotent and resync only when true', () => {
    const set: SchemaSet = {
      procedures: [proc('m', { kind: 'mutation', idempotent: true }), proc('s', { kind: 'subscription', resync: true }), proc('q', { resync: false })],
      warnings: [],
    }
    const { procedures } = buildManifest(set)
    expect(procedures.m).toMatchObject({ kind: 'mutation', idempotent: true })
    expect(procedures.s).toMatchObject({ kind: 'subscription', resync: true })
    expect(Object.keys(procedures.q!)).toEqual(['kind', 'input', 'output'])
  })
})
