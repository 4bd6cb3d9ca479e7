import { defaultSerializer } from '@wirecall/core'
import { describe, expect, test } from 'vitest'
import type { TypeModel } from '../../../packages/codegen/src/model/type-model'
import { DefinitionPool } from '../../../packages/codegen/src/schema/definition-pool'
import { hasResync, TypeModelWriter } from '../../../packages/codegen/src/schema/type-model-schema'
import type { JsonSchema } from '../../../packages/codegen/src/schema/schema-types'
import { strictAjv } from './strict-ajv'

// The TypeScript side (source 3) on hand-made models: every node kind,
// checked against what the default serializer writes for real values.

const str: TypeModel = { kind: 'primitive', name: 'string' }
const num: TypeModel = { kind: 'primitive', name: 'number' }
const undef: TypeModel = { kind: 'primitive', name: 'undefined' }
const rich = (name: Extract<TypeModel, { kind: 'rich' }>['name'], ...args: TypeModel[]): TypeModel => ({ kind: 'rich', name, args })
const prop = (name: string, type: TypeModel, optional = false) => ({ name, type, optional, readonly: false })

function write(type: TypeModel, aliases: ReadonlyMap<string, TypeModel> = new Map()): { schema: JsonSchema; notes: string[] } {
  const pool = new DefinitionPool()
  const notes: string[] = []
  const root = new TypeModelWriter(aliases, pool, notes).write(type)
  return { schema: pool.finish(root), notes }
}

const payload: TypeModel = {
  kind: 'object',
  properties: [
    prop('id', { kind: 'primitive', name: 'bigint' }),
    prop('when', rich('Date')),
    prop('score', num),
    prop('note', str, true),
    prop('gone', { kind: 'union', members: [str, undef] }),
    prop('pair', {
      kind: 'tuple',
      readonly: false,
      elements: [
        { type: str, optional: false, rest: false },
        { type: num, optional: true, rest: false },
      ],
    }),
    prop('level', { kind: 'union', members: [{ kind: 'literal', value: 'low' }, { kind: 'literal', value: 'high' }] }),
    prop('big', { kind: 'bigint-literal', digits: '-12' }),
    prop('lookup', rich('Map', str, rich('Set', rich('Date')))),
    prop('bytes', rich('Uint8Array')),
    prop('floats', rich('Float64Array')),
    prop('link', rich('URL')),
    prop('both', { kind: 'intersection', members: [{ kind: 'object', properties: [prop('a', str)] }, { kind: 'object', properties: [prop('b', num)] }] }),
    prop('extra', { kind: 'object', properties: [], index: rich('Date') }),
    prop('holes', { kind: 'array', element: { kind: 'union', members: [str, undef] }, readonly: true }),
    prop('tree', { kind: 'ref', name: 'Tree' }),
  ],
}
const aliases = new Map<string, TypeModel>([
  ['Tree', { kind: 'object', properties: [prop('at', rich('Date')), prop('kids', { kind: 'array', element: { kind: 'ref', name: 'Tree' }, readonly: false })] }],
])

const value = {
  id: -5n,
  when: new Date(-8.64e15),
  score: -0,
  note: undefined,
  gone: undefined,
  pair: ['a'],
  level: 'high',
  big: -12n,
  lookup: new Map([['k', new Set([new Date(0)])]]),
  bytes: new Uint8Array([0, 255]),
  floats: new Float64Array([1, NaN, -0]),
  link: new URL('https://example.com/'),
  both: { a: 'x', b: 2 },
  extra: { any: new Date(1), key: new Date(2) },
  holes: ['a', undefined],
  tree: { at: new Date(0), kids: [{ at: new Date(1), kids: [] }] },
}

describe('TypeModel to wire-form JSON Schema', () => {
  test('a value of the type, serialized, validates; the schema compiles in strict mode', () => {
    const { schema, notes } = write(payload, aliases)
    expect(notes).toEqual([])
    const validate = strictAjv().compile(schema)
    const { json } = defaultSerializer.serialize(value)
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true)
  })

  test('what the serializer never writes for it is refused', () => {
    const validate = strictAjv().compile(write(payload, aliases).schema)
    const json = defaultSerializer.serialize(value).json as Record<string, unknown>
    for (const [key, bad] of [
      ['id', -5],
      ['level', 'mid'],
      ['big', '12'],
      ['pair', ['a', 1, 2]],
      ['pair', [1]],
      ['bytes', [256]],
      ['extra', { x: 5 }],
    ] as const) {
      expect(validate({ ...json, [key]: bad }), key).toBe(false)
    }
  })

  test('a rest tuple: exact 2020-12 (prefixItems + items), which ajv compiles once strictTuples is off', () => {
    const restTuple: TypeModel = {
      kind: 'tuple',
      readonly: false,
      elements: [
        { type: str, optional: false, rest: false },
        { type: { kind: 'array', element: num, readonly: false }, optional: false, rest: true },
      ],
    }
    const { schema } = write(restTuple)
    expect(() => strictAjv().compile(schema)).toThrow(/prefixItems/)
    const validate = strictAjv({ strictTuples: false }).compile(schema)
    expect(validate(defaultSerializer.serialize(['a', 1, NaN, -0]).json)).toBe(true)
    expect(validate(defaultSerializer.serialize([1]).json)).toBe(false)
    expect(validate([])).toBe(false)
  })

  test('named types are defined once under $defs, recursive ones included', () => {
    const { schema } = write({ kind: 'object', properties: [prop('a', { kind: 'ref', name: 'Tree' }), prop('b', { kind: 'ref', name: 'Tree' })] }, aliases)
    expect(Object.keys(schema.$defs as object)).toEqual(['Tree'])
    expect(schema).toMatchObject({ properties: { a: { $ref: '#/$defs/Tree' }, b: { $ref: '#/$defs/Tree' } } })
  })

  test('a BigInt64Array cannot be sent: unrepresentable, with a note', () => {
    const { schema, notes } = write(rich('BigInt64Array'))
    expect(schema).toMatchObject({ 'x-wirecall-unrepresentable': true })
    expect(notes).toHaveLength(1)
  })

  test('resync: detected at the top of the event union, dropped from it', () => {
    const events: TypeModel = { kind: 'union', members: [str, { kind: 'resync' }] }
    expect(hasResync(events)).toBe(true)
    expect(hasResync(str)).toBe(false)
    expect(write(events).schema).toEqual({ type: 'string' })
  })

  test('`undefined | void` is one wire form', () => {
    expect(write({ kind: 'union', members: [undef, { kind: 'primitive', name: 'void' }] }).schema).toEqual({ type: 'null', 'x-wirecall-type': 'undefined' })
  })
})
