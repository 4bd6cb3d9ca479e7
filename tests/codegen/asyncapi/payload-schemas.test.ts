import { buildAsyncApi, standaloneSchema, type JsonSchema, type SchemaSet } from '@wirecall/codegen'
import { describe, expect, it } from 'vitest'
import { draft07Ajv, messageValidators } from './ajv'
import { schemaSets } from './fixtures/schema-sets'

/** Every embedded payload schema compiles in ajv's draft-07 class, strict; and the 2020-12 → draft-07 conversion keeps meaning. */

const all: SchemaSet = { procedures: Object.values(schemaSets).flatMap((set) => set.procedures), warnings: [] }

describe('the payload schemas of the AsyncAPI document', () => {
  it.each(Object.entries({ ...schemaSets, all }))('%s: every payload and component compiles as draft-07 (ajv strict)', (_name, set) => {
    const doc = buildAsyncApi(set) as any
    const ajv = draft07Ajv(doc)
    const validators = messageValidators(doc, ajv)
    expect(validators.size).toBe(Object.keys(doc.components.messages).length)
    for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, JsonSchema>)) {
      expect(() => ajv.compile(standaloneSchema(doc, schema)), name).not.toThrow()
    }
    // No 2020-12 keyword is left anywhere in the document.
    const text = JSON.stringify(doc)
    for (const keyword of ['"$defs"', '"prefixItems"', '"dependentRequired"', '"unevaluatedProperties"', '"$schema"']) expect(text).not.toContain(keyword)
  })

  it('converts tuples, dependencies, named and recursive types, keeping x-wirecall-* keywords', () => {
    const doc = buildAsyncApi(schemaSets.richTypes!) as any
    const validators = messageValidators(doc)
    const call = validators.get('call.catalog.index')!
    const envelope = { type: 'call', id: 1, method: 'query', path: 'catalog.index' }
    expect(call({ ...envelope, input: { byId: [['1', { name: 'Ada', id: '7' }]] } }), JSON.stringify(call.errors)).toBe(true)
    // A Map entry is a pair: its key a bigint's digits, its value a User.
    expect(call({ ...envelope, input: { byId: [['x', { name: 'Ada' }]] } })).toBe(false)
    expect(call({ ...envelope, input: { byId: [['1', { id: '7' }]] } })).toBe(false)
    expect(call({ ...envelope, input: { byId: [['1']] } })).toBe(false)
    expect(doc.components.messages['call.catalog.index'].payload.schema.properties.input.properties.byId['x-wirecall-type']).toBe('map')
    expect(doc.components.messages['call.catalog.index'].payload.schema.properties.input.dependencies).toEqual({ byId: ['byId'] })

    // A root that refers to itself becomes a component, and the payload refers to it.
    const result = validators.get('result.catalog.index')!
    const tree = { name: 'a', children: [{ name: 'b', children: [] }] }
    expect(result({ type: 'result', id: 1, data: tree })).toBe(true)
    expect(result({ type: 'result', id: 1, data: { name: 'a', children: [{ name: 'b' }] } })).toBe(false)
    expect(doc.components.schemas['catalog.index.output']).toBeDefined()

    const next = validators.get('result.catalog.tree')!
    expect(next({ type: 'result', id: 2, data: { value: 'NaN', next: { value: 1, next: null } } })).toBe(true)
    expect(next({ type: 'result', id: 2, data: { value: 'NaN', next: { value: 'nope' } } })).toBe(false)
  })

  it('a per-procedure message checks the envelope too: path and method pinned, id an integer, meta an object', () => {
    const doc = buildAsyncApi(schemaSets.subscriptions!) as any
    const validators = messageValidators(doc)
    const subscribe = validators.get('subscribe.ticks')!
    const ok = { type: 'subscribe', id: 3, path: 'ticks', input: { every: 10 }, lastEventId: 'k.1' }
    expect(subscribe(ok)).toBe(true)
    expect(subscribe({ ...ok, path: 'chat.messages' })).toBe(false)
    expect(subscribe({ ...ok, id: -1 })).toBe(false)
    expect(subscribe({ ...ok, lastEventId: null })).toBe(false)
    expect(subscribe({ ...ok, meta: 'x' })).toBe(false)
    expect(subscribe({ ...ok, input: { every: 0 } })).toBe(false)
    const data = validators.get('data.ticks')!
    expect(data({ type: 'data', id: 3, eventId: 'k.2', data: { n: 1, at: '2025-01-01T00:00:00.000Z' }, meta: { values: { at: ['Date'] }, v: 1 } })).toBe(true)
    expect(data({ type: 'data', id: 3, data: { n: 1, at: 'yesterday' } })).toBe(false)
  })
})
