import { describe, expect, it } from 'vitest'
import type { ApiModel, ProcedureModel, TypeModel } from '@wirecall/codegen'
import { printApiDeclarations } from '../../../packages/codegen/src/types/print-declarations'
import { readApiModel } from '../../../packages/codegen/src/types/read-api-model'
import { FIXTURES } from './helpers'

// One program per fixture, shared by the tests of this file: a program costs seconds.
const app = readApiModel({ file: `${FIXTURES}app-router.ts`, exportName: 'appRouter' })
const edge = readApiModel({ file: `${FIXTURES}edge-router.ts`, exportName: 'edgeRouter' })

function procedure(model: ApiModel, path: string): ProcedureModel {
  const found = model.procedures.find((p) => p.path === path)
  if (found === undefined) throw new Error(`no procedure ${path}`)
  return found
}

function property(type: TypeModel, name: string) {
  if (type.kind !== 'object') throw new Error(`not an object: ${type.kind}`)
  const found = type.properties.find((p) => p.name === name)
  if (found === undefined) throw new Error(`no property ${name}`)
  return found
}

describe('readApiModel on a router with validators and without', () => {
  it('lists every procedure, dotted, depth first in declaration order, with its kind', async () => {
    const model = await app
    expect(model.procedures.map((p) => `${p.path}:${p.kind}`)).toEqual([
      'greet:query',
      'health:query',
      'post.add:mutation',
      'post.upsert:mutation',
      'post.byAuthor:query',
      'admin.categories:query',
      'admin.rich:query',
      'admin.shapes:query',
      'ticks:subscription',
      'clock:subscription',
      'echoPoint:mutation',
    ])
  })

  it('reads a zod input and an inferred output', async () => {
    const greet = procedure(await app, 'greet')
    expect(greet.input).toEqual({ kind: 'object', properties: [{ name: 'name', type: { kind: 'primitive', name: 'string' }, optional: false, readonly: false }] })
    expect(greet.output).toEqual({ kind: 'primitive', name: 'string' })
    expect(procedure(await app, 'health').input).toEqual({ kind: 'union', members: [{ kind: 'primitive', name: 'void' }, { kind: 'primitive', name: 'undefined' }] })
  })

  it('marks idempotent mutations only', async () => {
    const model = await app
    expect(procedure(model, 'post.upsert').idempotent).toBe(true)
    expect(procedure(model, 'post.add').idempotent).toBe(false)
  })

  it('keeps optional fields apart from fields that allow undefined (exactOptionalPropertyTypes)', async () => {
    const author = (await app).aliases.get('Author')!
    expect(property(author, 'email')).toMatchObject({ optional: true, type: { kind: 'primitive', name: 'string' } })
    expect(property(author, 'nickname')).toMatchObject({
      optional: true,
      type: { kind: 'union', members: [{ kind: 'primitive', name: 'string' }, { kind: 'primitive', name: 'undefined' }] },
    })
    expect(property(author, 'id')).toMatchObject({ readonly: true, doc: 'Stable id, never reused.' })
  })

  it('names interfaces and object aliases, and recursive types, once', async () => {
    const model = await app
    expect([...model.aliases.keys()]).toEqual(['Author', 'Category', 'Point'])
    expect(model.aliasDocs?.get('Category')).toBe('A node of a category tree: children are trees too.')
    expect(property(model.aliases.get('Category')!, 'children').type).toEqual({ kind: 'array', element: { kind: 'ref', name: 'Category' }, readonly: false })
    expect(procedure(model, 'echoPoint').output).toEqual({ kind: 'ref', name: 'Point' })
  })

  it('keeps every rich type as itself, told by the lib declaration', async () => {
    const rich = procedure(await app, 'admin.rich').output
    const kinds = rich.kind === 'object' ? rich.properties.map((p) => [p.name, p.type]) : []
    expect(Object.fromEntries(kinds)).toEqual({
      at: { kind: 'rich', name: 'Date', args: [] },
      counts: { kind: 'rich', name: 'Map', args: [{ kind: 'primitive', name: 'string' }, { kind: 'primitive', name: 'number' }] },
      tags: { kind: 'rich', name: 'Set', args: [{ kind: 'primitive', name: 'string' }] },
      home: { kind: 'rich', name: 'URL', args: [] },
      pattern: { kind: 'rich', name: 'RegExp', args: [] },
      failure: { kind: 'rich', name: 'Error', args: [] },
      bytes: { kind: 'rich', name: 'Uint8Array', args: [] },
      big: { kind: 'primitive', name: 'bigint' },
      floats: { kind: 'rich', name: 'Float64Array', args: [] },
    })
  })

  it('reads tuples, index signatures, literals, quoted keys and bigint literals', async () => {
    const shapes = procedure(await app, 'admin.shapes').output
    expect(property(shapes, 'named').type).toEqual({
      kind: 'tuple',
      readonly: true,
      elements: [
        { type: { kind: 'primitive', name: 'string' }, optional: false, rest: false, name: 'first' },
        { type: { kind: 'primitive', name: 'number' }, optional: true, rest: false, name: 'second' },
      ],
    })
    expect(property(shapes, 'rest').type).toMatchObject({ kind: 'tuple', elements: [{ rest: false }, { rest: true, type: { kind: 'primitive', name: 'number' } }] })
    expect(property(shapes, 'scores').type).toEqual({ kind: 'object', properties: [], index: { kind: 'primitive', name: 'number' } })
    expect(property(shapes, 'byId').type).toEqual({ kind: 'object', properties: [], index: { kind: 'ref', name: 'Point' } })
    expect(property(shapes, 'flag').type).toEqual({ kind: 'primitive', name: 'boolean' })
    expect(property(shapes, 'bigOne').type).toEqual({ kind: 'bigint-literal', digits: '-12' })
    expect(property(shapes, 'kebab-key').type).toEqual({ kind: 'primitive', name: 'number' })
    const either = property(shapes, 'either').type
    expect(either.kind === 'union' && either.members).toEqual(expect.arrayContaining([{ kind: 'literal', value: 'a' }, { kind: 'literal', value: 1 }, { kind: 'literal', value: true }]))
  })

  it('reads a subscription event with its resync signal, and a plain one without', async () => {
    const model = await app
    expect(procedure(model, 'ticks').output).toMatchObject({ kind: 'union', members: [{ kind: 'object' }, { kind: 'resync' }] })
    expect(procedure(model, 'clock').output).toMatchObject({ kind: 'object' })
  })

  it('prints no name of the context, middleware or validator library', async () => {
    const text = printApiDeclarations(await app)
    for (const name of ['Ctx', 'secret', 'zod', 'ZodObject', 'authed', 'Procedure', 'Router', 'initRpc', '~types', '~ctx', 'db']) {
      expect(text).not.toContain(name)
    }
    expect(text.match(/^import .*$/gm)).toEqual(["import type { ResyncSignal } from '@wirecall/client'"])
  })
})

describe('readApiModel on types it rewrites', () => {
  it('turns enums into literal unions and any into unknown', async () => {
    const enums = procedure(await edge, 'enums').output
    expect(property(enums, 'color').type).toEqual({ kind: 'union', members: [{ kind: 'literal', value: 'red' }, { kind: 'literal', value: 'green' }] })
    expect(property(enums, 'level').type).toEqual({ kind: 'union', members: [{ kind: 'literal', value: 0 }, { kind: 'literal', value: 1 }] })
    expect(property(enums, 'red').type).toEqual({ kind: 'literal', value: 'red' })
    expect(property(procedure(await edge, 'loose').output, 'anything').type).toEqual({ kind: 'primitive', name: 'unknown' })
  })

  it('flattens an intersection of objects and keeps one that cannot be flattened', async () => {
    const model = await edge
    expect(procedure(model, 'merged').output).toMatchObject({ kind: 'object', properties: [{ name: 'a' }, { name: 'b' }] })
    expect(procedure(model, 'branded').output).toMatchObject({ kind: 'intersection', members: [{ kind: 'primitive', name: 'string' }, { kind: 'object' }] })
  })

  it('inlines a generic instantiation and names a recursive one; a recursive union gets its alias name', async () => {
    const model = await edge
    expect(procedure(model, 'page').output).toMatchObject({ kind: 'object', properties: [{ name: 'items' }, { name: 'next', optional: true }] })
    expect(procedure(model, 'tree').output).toEqual({ kind: 'ref', name: 'Tree_string' })
    expect(model.aliases.get('Tree_string')).toMatchObject({ kind: 'object', properties: [{ name: 'value' }, { name: 'children', type: { kind: 'array', element: { kind: 'ref', name: 'Tree_string' } } }] })
    expect(model.aliases.has('Json')).toBe(true)
    expect(printApiDeclarations(model)).toContain('export type Json = string | number | boolean | Json[] | {\n  [key: string]: Json\n} | null\n')
  })

  it('gives clashing names a suffix, and never shadows a global the file uses', async () => {
    const model = await readApiModel({ file: `${FIXTURES}edge-router.ts`, exportName: 'clashRouter' })
    expect(procedure(model, 'items').output).toMatchObject({
      kind: 'object',
      properties: [
        { name: 'shop', type: { kind: 'ref', name: 'Item' } },
        { name: 'blog', type: { kind: 'ref', name: 'Item2' } },
        { name: 'map', type: { kind: 'ref', name: 'Map2' } },
      ],
    })
    expect([...model.aliases.keys()]).toEqual(['Item', 'Item2', 'Map2'])
  }, 60_000)

  it("reads the lib's Error subclasses as Error, what the serializer revives", async () => {
    expect(property(procedure(await edge, 'failure').output, 'error').type).toEqual({ kind: 'rich', name: 'Error', args: [] })
  })

  it('widens a template literal type to string', async () => {
    expect(procedure(await edge, 'template').output).toEqual({ kind: 'primitive', name: 'string' })
  })
})
