import { describe, expect, it } from 'vitest'
import { matchValue } from '../../../packages/codegen/src/manifest/match-value'
import { schemaSubset } from '../../../packages/codegen/src/manifest/schema-subset'
import { isViolation } from '../../../packages/codegen/src/manifest/subset-findings'
import type { JsonSchema } from '../../../packages/codegen/src/schema/schema-types'
import { sideLines } from './compare-lines'

const obj = (properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties), closed = false): JsonSchema => ({
  type: 'object',
  properties,
  required,
  ...(closed && { additionalProperties: false }),
})
const str: JsonSchema = { type: 'string' }
const num: JsonSchema = { type: 'number' }
/** Whether `sub ⊆ sup` is proven (no violation). */
const subset = (sub: JsonSchema, sup: JsonSchema): boolean => !schemaSubset(sub, sub, sup, sup).some(isViolation)

describe('inputs: the new schema must accept what the old one did', () => {
  it.each<[string, JsonSchema, JsonSchema, string]>([
    ['a new required field', obj({ a: str }), obj({ a: str, title: str }), 'BREAKING p input: new required field "title"'],
    ['an optional field made required', obj({ a: str }, []), obj({ a: str }), 'BREAKING p input: field "a" made required'],
    ['a field removed when extra fields are refused', obj({ a: str, b: num }, ['a'], true), obj({ a: str }, ['a'], true), 'BREAKING p input: field "b" removed (extra fields are refused)'],
    ['extra fields refused', obj({ a: str }), obj({ a: str }, ['a'], true), 'BREAKING p input: extra fields no longer accepted'],
    ['a type narrowed', { type: ['string', 'number'] }, str, 'BREAKING p input: no longer accepts number'],
    ['a type changed', obj({ n: num }), obj({ n: str }), 'BREAKING p input.n: type changed from number to string'],
    ['an enum value removed', { enum: ['a', 'b', 'c'] }, { enum: ['a', 'b'] }, 'BREAKING p input: enum value "c" removed'],
    ['a constant changed', { const: 'v1' }, { const: 'v2' }, 'BREAKING p input: value changed from "v1" to "v2"'],
    ['a string narrowed to an enum', str, { enum: ['a'] }, 'BREAKING p input: narrowed to "a"'],
    ['a tighter minLength', { type: 'string', minLength: 1 }, { type: 'string', minLength: 3 }, 'BREAKING p input: tighter minLength: 3 (was 1)'],
    ['a new maxLength', str, { type: 'string', maxLength: 10 }, 'BREAKING p input: tighter maxLength: 10 (was none)'],
    ['a tighter minimum', { type: 'number', minimum: 0 }, { type: 'number', exclusiveMinimum: 0 }, 'BREAKING p input: tighter minimum: > 0 (was >= 0)'],
    ['a tighter maximum', { type: 'integer', maximum: 10 }, { type: 'integer', maximum: 9 }, 'BREAKING p input: tighter maximum: <= 9 (was <= 10)'],
    ['number to integer', num, { type: 'integer' }, 'BREAKING p input: type narrowed from number to integer'],
    ['a tighter maxItems', { type: 'array', items: str }, { type: 'array', items: str, maxItems: 5 }, 'BREAKING p input: tighter maxItems: 5 (was none)'],
    ['an element type narrowed', { type: 'array', items: { type: ['string', 'null'] } }, { type: 'array', items: str }, 'BREAKING p input[]: no longer accepts null'],
    ['a pattern added', str, { type: 'string', pattern: '^a' }, 'BREAKING p input: pattern added: /^a/'],
    ['a format added', str, { type: 'string', format: 'email' }, 'BREAKING p input: format changed from none to email'],
    ['a meta type changed', { type: 'string' }, { type: 'string', 'x-wirecall-type': 'Date' }, 'BREAKING p input: type changed from string to Date'],
    ['a union member removed', { anyOf: [str, num, { type: 'boolean' }] }, { anyOf: [str, num] }, 'BREAKING p input: union member removed: boolean'],
    ['a multipleOf added', num, { type: 'number', multipleOf: 2 }, 'BREAKING p input: tighter multipleOf: 2 (was none)'],
    ['a record value narrowed', { type: 'object', additionalProperties: num }, { type: 'object', additionalProperties: { type: 'integer' } }, 'BREAKING p input.*: type narrowed from number to integer'],
    ['a tuple slot narrowed', { type: 'array', prefixItems: [str, num], items: false }, { type: 'array', prefixItems: [str, { type: 'integer' }], items: false }, 'BREAKING p input[1]: type narrowed from number to integer'],
    ['a tuple shortened', { type: 'array', prefixItems: [str, num], items: false }, { type: 'array', prefixItems: [str], items: false }, 'BREAKING p input[1]: no longer accepted'],
  ])('%s is breaking', (_name, old, next, line) => {
    expect(sideLines('input', old, next)).toContain(line)
  })

  it.each<[string, JsonSchema, JsonSchema, string]>([
    ['a new optional field (closed object)', obj({ a: str }, ['a'], true), obj({ a: str, tags: { type: 'array', items: str } }, ['a'], true), 'additive p input: new optional field "tags"'],
    ['a new optional field (open object)', obj({ a: str }), obj({ a: str, tags: str }, ['a']), 'additive p input: new optional field "tags"'],
    ['a required field made optional', obj({ a: str }), obj({ a: str }, []), 'additive p input: field "a" made optional'],
    ['a type widened', str, { type: ['string', 'null'] }, 'additive p input: now also accepts null'],
    ['an enum value added', { enum: ['a'] }, { enum: ['a', 'b'] }, 'additive p input: enum value "b" added'],
    ['a looser bound', { type: 'string', maxLength: 5 }, { type: 'string', maxLength: 50 }, 'additive p input: looser maxLength: 50 (was 5)'],
    ['a union member added', { anyOf: [str, num] }, { anyOf: [str, num, { type: 'null' }] }, 'additive p input: union member added: null'],
    ['a field removed from an open object', obj({ a: str, b: num }, ['a']), obj({ a: str }), 'additive p input: field "b" no longer declared (any value accepted)'],
    ['a rewrite that accepts the same', { type: 'integer', exclusiveMinimum: 0 }, { type: 'integer', minimum: 1 }, 'additive p input: schema rewritten, accepts the same values'],
  ])('%s is additive', (_name, old, next, line) => {
    const lines = sideLines('input', old, next)
    expect(lines).toContain(line)
    expect(lines.filter((l) => l.startsWith('BREAKING'))).toEqual([])
  })

  it('lists nothing when equal', () => {
    const schema = obj({ a: str, b: { anyOf: [num, { type: 'null' }] } })
    expect(sideLines('input', schema, structuredClone(schema))).toEqual([])
  })
})

describe('outputs: the new schema must produce no more than the old one did', () => {
  it.each<[string, JsonSchema, JsonSchema, string]>([
    ['a field removed', obj({ a: str, b: num }), obj({ a: str }), 'BREAKING p output: field "b" removed'],
    ['a field made optional', obj({ a: str }), obj({ a: str }, []), 'BREAKING p output: field "a" made optional'],
    ['a field made nullable', obj({ a: str }), obj({ a: { type: ['string', 'null'] } }), 'BREAKING p output.a: made nullable'],
    ['a type changed', obj({ n: num }), obj({ n: str }), 'BREAKING p output.n: type changed from number to string'],
    ['a type widened', { type: 'integer' }, num, 'BREAKING p output: type widened from integer to number'],
    ['an enum value added', { enum: ['a'] }, { enum: ['a', 'b'] }, 'BREAKING p output: enum value "b" added'],
    ['a union member added', { anyOf: [str, num] }, { anyOf: [str, num, { type: 'boolean' }] }, 'BREAKING p output: union member added: boolean'],
    ['a new field when extra fields are refused', obj({ a: str }, ['a'], true), obj({ a: str, b: num }, ['a', 'b'], true), 'BREAKING p output: new field "b" (the old schema refuses extra fields)'],
    ['a looser bound', { type: 'string', maxLength: 5 }, { type: 'string', maxLength: 50 }, 'BREAKING p output: looser maxLength: 50 (was 5)'],
    ['a meta type changed', { type: 'string', 'x-wirecall-type': 'Date' }, str, 'BREAKING p output: type changed from Date to string'],
    ['an enum widened to a string', { enum: ['a', 'b'] }, str, 'BREAKING p output: no longer limited to "a", "b"'],
  ])('%s is breaking', (_name, old, next, line) => {
    expect(sideLines('output', old, next)).toContain(line)
  })

  it.each<[string, JsonSchema, JsonSchema, string]>([
    ['a new field when extra fields are not refused', obj({ a: str }), obj({ a: str, b: num }), 'additive p output: new field "b"'],
    ['an enum value removed', { enum: ['a', 'b'] }, { enum: ['a'] }, 'additive p output: enum value "b" no longer produced'],
    ['null removed', { type: ['string', 'null'] }, str, 'additive p output: no longer nullable'],
    ['a tighter bound', num, { type: 'number', minimum: 0 }, 'additive p output: tighter minimum: >= 0 (was none)'],
    ['an optional field made required', obj({ a: str }, []), obj({ a: str }), 'additive p output: field "a" now always present'],
  ])('%s is additive', (_name, old, next, line) => {
    const lines = sideLines('output', old, next)
    expect(lines).toContain(line)
    expect(lines.filter((l) => l.startsWith('BREAKING'))).toEqual([])
  })
})

describe('what the comparison cannot decide is breaking, and says so', () => {
  it.each<[string, JsonSchema, JsonSchema, string]>([
    ['an unknown keyword that differs', { type: 'string', not: { const: 'a' } }, { type: 'string', not: { const: 'b' } }, 'keyword "not" differs'],
    ['a changed pattern', { type: 'string', pattern: '^a' }, { type: 'string', pattern: '^[ab]' }, 'pattern changed from /^a/ to /^[ab]/'],
    ['a reference to nothing', str, { $ref: '#/$defs/Missing' }, 'cannot resolve $ref "#/$defs/Missing"'],
    ['a side that was not described', { 'x-wirecall-unrepresentable': true }, str, 'x-wirecall-unrepresentable'],
    ['a oneOf whose members may overlap', str, { oneOf: [str, { type: 'string', minLength: 2 }] }, 'may match more than one member of a oneOf'],
  ])('%s', (_name, old, next, reason) => {
    const lines = sideLines('input', old, next)
    expect(lines.some((line) => line.startsWith('BREAKING') && line.includes('cannot tell whether compatible') && line.includes(reason))).toBe(true)
  })

  it('an unknown keyword equal on both sides is fine', () => {
    const schema: JsonSchema = { type: 'object', dependentRequired: { a: ['b'] } }
    expect(sideLines('input', schema, { ...schema })).toEqual([])
  })

  it('annotations and x- extensions never matter', () => {
    expect(sideLines('input', { type: 'string', default: 'a', 'x-note': 1 }, { type: 'string', deprecated: true })).toEqual(['additive p input: schema rewritten, accepts the same values'])
  })
})

describe('unions', () => {
  const tagged = (tag: string, extra: Record<string, JsonSchema> = {}): JsonSchema => obj({ t: { type: 'string', const: tag }, ...extra }, undefined, true)
  it('matches discriminated members by their tag and reports inside the matching one', () => {
    const old: JsonSchema = { oneOf: [tagged('a'), tagged('b', { x: num })] }
    expect(subset(old, { oneOf: [tagged('a'), tagged('b', { x: num }), tagged('c')] })).toBe(true)
    const lines = sideLines('output', old, { oneOf: [tagged('a'), tagged('b', { x: num }), tagged('c')] })
    expect(lines).toContain('BREAKING p output: union member added: object with t "c"')
    expect(sideLines('output', old, { oneOf: [tagged('a'), tagged('b', { x: str })] })).toContain('BREAKING p output.x: type changed from number to string')
  })

  it('reads a nullable wrapper as its member or null', () => {
    expect(sideLines('output', obj({ a: str }), { anyOf: [obj({ a: str }), { type: 'null' }] })).toContain('BREAKING p output: made nullable')
    expect(subset(obj({ a: str }), { anyOf: [obj({ a: str }), { type: 'null' }] })).toBe(true)
  })

  it('checks an enum against a union of constants value by value', () => {
    expect(subset({ enum: ['a', 'b'] }, { anyOf: [{ const: 'a' }, { const: 'b' }, { const: 'c' }] })).toBe(true)
    expect(subset({ enum: ['a', 'd'] }, { anyOf: [{ const: 'a' }, { const: 'b' }] })).toBe(false)
  })

  it('proves an intersection through one of its parts', () => {
    expect(subset({ allOf: [obj({ a: str }), obj({ b: num })] }, obj({ a: str }, ['a']))).toBe(true)
    expect(subset(obj({ a: str, b: num }), { allOf: [obj({ a: str }), obj({ b: num })] })).toBe(true)
    expect(subset(obj({ a: str }), { allOf: [obj({ a: str }), obj({ b: num })] })).toBe(false)
  })
})

describe('references', () => {
  const tree = (extra: Record<string, JsonSchema> = {}): JsonSchema => ({
    $ref: '#/$defs/Node',
    $defs: { Node: obj({ label: str, children: { type: 'array', items: { $ref: '#/$defs/Node' } }, ...extra }) },
  })

  it('terminates on a cycle and proves a recursive type equal to itself', () => {
    expect(schemaSubset(tree(), tree(), tree(), tree())).toEqual([])
  })

  it('finds a change inside a recursive type', () => {
    expect(sideLines('input', tree(), tree({ id: num }))).toContain('BREAKING p input: new required field "id"')
    expect(sideLines('output', tree({ id: num }), tree({ id: str }))).toContain('BREAKING p output.id: type changed from number to string')
  })

  it('follows mutual recursion and a root reference (#), and ignores what the definitions are called', () => {
    const mutual = (name: string, leaf: JsonSchema): JsonSchema => ({
      $ref: `#/$defs/${name}A`,
      $defs: { [`${name}A`]: obj({ b: { $ref: `#/$defs/${name}B` } }, []), [`${name}B`]: obj({ a: { $ref: `#/$defs/${name}A` }, leaf }, []) },
    })
    expect(subset(mutual('X', num), mutual('Y', num))).toBe(true)
    expect(subset(mutual('X', num), mutual('Y', str))).toBe(false)
    const rooted: JsonSchema = obj({ name: str, children: { type: 'array', items: { $ref: '#' } } })
    expect(subset(rooted, tree())).toBe(false)
    expect(subset(rooted, { ...rooted })).toBe(true)
    expect(sideLines('input', rooted, obj({ name: str, children: { type: 'array', items: { $ref: '#' } }, extra: num }))).toContain('BREAKING p input: new required field "extra"')
  })

  it('reads a $ref with constraints beside it as both', () => {
    const defs = { $defs: { S: str } }
    expect(subset({ $ref: '#/$defs/S', maxLength: 3, ...defs }, { $ref: '#/$defs/S', ...defs })).toBe(true)
    expect(subset({ $ref: '#/$defs/S', ...defs }, { $ref: '#/$defs/S', maxLength: 3, ...defs })).toBe(false)
  })
})

describe('matchValue', () => {
  it.each<[unknown, JsonSchema, boolean | undefined]>([
    ['a', { type: 'string', minLength: 1 }, true],
    ['', { type: 'string', minLength: 1 }, false],
    [3, { type: 'integer', exclusiveMaximum: 3 }, false],
    [{ a: 1 }, obj({ a: num }, ['a'], true), true],
    [{ a: 1, b: 2 }, obj({ a: num }, ['a'], true), false],
    [[1, 'x'], { type: 'array', prefixItems: [num, str], items: false }, true],
    ['b', { anyOf: [{ const: 'a' }, { const: 'b' }] }, true],
    ['x@y', { type: 'string', format: 'email' }, undefined],
    ['a', { if: { const: 'a' } }, undefined],
  ])('%j against %j is %s', (value, schema, expected) => {
    expect(matchValue(value, schema, schema)).toBe(expected)
  })
})

describe('meta types (x-wirecall-type)', () => {
  const maybeUndefined: JsonSchema = { anyOf: [str, { type: 'null', 'x-wirecall-type': 'undefined' }] }
  const wireNumber: JsonSchema = { anyOf: [num, { enum: ['-0', 'NaN'], 'x-wirecall-type': 'number' }] }

  it('names a number that may be NaN or -0 as a number, not a string', () => {
    expect(sideLines('output', obj({ id: str }), obj({ id: wireNumber }))).toEqual(['BREAKING p output.id: type changed from string to number'])
    expect(sideLines('output', obj({ n: wireNumber }), obj({ n: str }))).toEqual(['BREAKING p output.n: type changed from number to string'])
  })

  it('says "made optional" once for a field that may now be undefined', () => {
    expect(sideLines('output', obj({ a: str }), obj({ a: maybeUndefined }, []))).toEqual(['BREAKING p output: field "a" made optional'])
    expect(sideLines('input', obj({ a: maybeUndefined }, []), obj({ a: str }))).toEqual(['BREAKING p input: field "a" made required'])
  })

  it('reads undefined in a required field as a widened type', () => {
    expect(sideLines('output', obj({ a: str }), obj({ a: maybeUndefined }))).toEqual(['BREAKING p output.a: may now be undefined'])
  })
})

describe('limits', () => {
  it('gives up on a comparison that explodes, as "cannot tell"', () => {
    // Nested unions whose members all recurse before their tags differ: every member is compared with every member at every level (9^depth).
    const nested = (depth: number, leaf: JsonSchema): JsonSchema =>
      depth === 0 ? leaf : { anyOf: ['a', 'b', 'c'].map((tag) => obj({ v: nested(depth - 1, leaf), t: { const: tag } })) }
    const findings = schemaSubset(nested(8, str), nested(8, str), nested(8, num), nested(8, num))
    expect(findings).toEqual([{ at: '', code: 'unknown', reason: 'the schemas are too large to compare' }])
  })
})

describe('values under meta types', () => {
  const wireNumber: JsonSchema = { anyOf: [num, { enum: ['-0', 'NaN'], 'x-wirecall-type': 'number' }] }
  it('matches a constant only against union members of its own meta type', () => {
    expect(subset({ const: 'NaN', 'x-wirecall-type': 'number' }, wireNumber)).toBe(true)
    expect(subset({ const: 'NaN' }, wireNumber)).toBe(false)
    expect(subset({ const: 'NaN', 'x-wirecall-type': 'number' }, { anyOf: [str, { type: 'null' }] })).toBe(false)
  })
})
