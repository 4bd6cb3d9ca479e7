import { describe, expect, test } from 'vitest'
import { DefinitionPool } from '../../../packages/codegen/src/schema/definition-pool'
import { addNumberSpecials, ANY_NUMBER_POLICY } from '../../../packages/codegen/src/schema/number-specials'
import { sortSchemaKeys } from '../../../packages/codegen/src/schema/schema-walk'
import { splitTypeArrays } from '../../../packages/codegen/src/schema/split-type-arrays'
import { strictAjv } from './strict-ajv'

// The passes every converted schema goes through, on hand-written input.

const zod = { infinite: false, nan: false }

describe('addNumberSpecials', () => {
  test('-0 only when 0 is in range; ±Infinity only on an unbounded side of a library that takes them', () => {
    expect(addNumberSpecials({ type: 'number' }, zod)).toEqual({ anyOf: [{ type: 'number' }, { const: '-0', 'x-wirecall-type': 'number' }] })
    expect(addNumberSpecials({ type: 'number', exclusiveMinimum: 0 }, zod)).toEqual({ type: 'number', exclusiveMinimum: 0 })
    expect(addNumberSpecials({ type: 'number', minimum: 1 }, ANY_NUMBER_POLICY)).toEqual({
      anyOf: [{ type: 'number', minimum: 1 }, { enum: ['NaN', 'Infinity'], 'x-wirecall-type': 'number' }],
    })
    expect(addNumberSpecials({ type: 'integer', maximum: 0 }, ANY_NUMBER_POLICY)).toEqual({
      anyOf: [{ type: 'integer', maximum: 0 }, { const: '-0', 'x-wirecall-type': 'number' }],
    })
    expect(addNumberSpecials({ type: 'number', const: 0 }, ANY_NUMBER_POLICY)).toMatchObject({ anyOf: [{ const: 0 }, { const: '-0' }] })
    expect(addNumberSpecials({ type: 'number', const: 5 }, ANY_NUMBER_POLICY)).toEqual({ type: 'number', const: 5 })
  })

  test('runs twice without widening twice; leaves the generator’s own nodes alone', () => {
    const once = addNumberSpecials({ type: 'object', properties: { n: { type: 'number' } } }, zod)
    expect(addNumberSpecials(once, zod)).toEqual(once)
    const typed = { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 }, 'x-wirecall-type': ['typed-array', 'Uint8Array'] }
    expect(addNumberSpecials(typed, zod)).toEqual(typed)
  })
})

test('splitTypeArrays: one type per node, each keeping its own keywords (ajv strict refuses union types)', () => {
  const split = splitTypeArrays({ type: ['number', 'null', 'string'], minimum: 2, minLength: 1, description: 'd' })
  expect(split).toEqual({ description: 'd', anyOf: [{ type: 'number', minimum: 2 }, { type: 'null' }, { type: 'string', minLength: 1 }] })
  strictAjv().compile(split)
})

describe('DefinitionPool', () => {
  test('two converter outputs with the same definition name for different things: the second is renamed, references follow', () => {
    const pool = new DefinitionPool()
    const a = pool.absorb({ $schema: 'x', $ref: '#/$defs/Node', $defs: { Node: { type: 'string' } } })
    const b = pool.absorb({ type: 'array', items: { $ref: '#/definitions/Node' }, definitions: { Node: { type: 'number', not: { $ref: '#/definitions/Node' } } } })
    const schema = pool.finish({ allOf: [a, b] })
    expect(schema).toEqual({
      allOf: [{ $ref: '#/$defs/Node' }, { type: 'array', items: { $ref: '#/$defs/Node2' } }],
      $defs: { Node: { type: 'string' }, Node2: { type: 'number', not: { $ref: '#/$defs/Node2' } } },
    })
  })

  test('a recursive root ($ref: "#") becomes a definition, so it can sit inside another schema', () => {
    const pool = new DefinitionPool()
    const root = pool.absorb({ type: 'object', properties: { kids: { type: 'array', items: { $ref: '#' } } } })
    expect(root).toEqual({ $ref: '#/$defs/Root' })
    const schema = pool.finish({ type: 'array', items: root })
    const validate = strictAjv().compile(schema)
    expect(validate([{ kids: [{ kids: [] }] }])).toBe(true)
    expect(validate([{ kids: [5] }])).toBe(false)
  })
})

test('sortSchemaKeys: keywords sorted, property names and data in their own order', () => {
  const sorted = sortSchemaKeys({ type: 'object', properties: { z: { type: 'string' }, a: { type: 'number' } }, enum: [{ b: 1, a: 2 }], additionalProperties: false })
  expect(JSON.stringify(sorted)).toBe('{"additionalProperties":false,"enum":[{"b":1,"a":2}],"properties":{"z":{"type":"string"},"a":{"type":"number"}},"type":"object"}')
})
