import { Ajv, type ValidateFunction } from 'ajv'
import fc from 'fast-check'
import { CLIENT_SHAPES, SERVER_SHAPES, parseClientFrame, parseServerFrame } from '@wirecall/core'
import { describe, expect, it } from 'vitest'
import { envelopeSchema, messageTypes, unmappedEnvelopeFields, type Direction } from '../../../packages/codegen/src/asyncapi/envelope-schemas'
import { arbitraryOf, hostileValue } from './schema-arbitrary'

/**
 * The envelope schemas come from the runtime parser's tables; these tests
 * check that they say the same thing: every rule has a schema, a message
 * generated from a schema passes the parser, and on arbitrary (often broken)
 * messages the parser and the schema agree, both ways.
 */

const ajv = new Ajv({ strict: true, unicode: false, logger: false })
const parsers = { client: parseClientFrame, server: parseServerFrame } as const
const validators: Record<Direction, Map<string, ValidateFunction>> = {
  client: new Map(messageTypes('client').map((type) => [type, ajv.compile(envelopeSchema('client', type))])),
  server: new Map(messageTypes('server').map((type) => [type, ajv.compile(envelopeSchema('server', type))])),
}

/** Whether the schemas accept one message: an object whose `type` is a message type of that direction, valid against its envelope. */
function schemaAccepts(direction: Direction, message: unknown): boolean {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false
  const type = (message as { type?: unknown }).type
  const validate = typeof type === 'string' ? validators[direction].get(type) : undefined
  return validate !== undefined && validate(message)
}

const valid = (direction: Direction): fc.Arbitrary<unknown> =>
  fc.oneof(...messageTypes(direction).map((type) => arbitraryOf(envelopeSchema(direction, type))))

/** A message of a known type (or not) whose fields are each left out, valid, or hostile, with a stray field now and then. */
const mangled = (direction: Direction): fc.Arbitrary<unknown> =>
  fc
    .tuple(fc.constantFrom(...messageTypes(direction), 'nope', '__proto__', 'Call'), fc.constantFrom<'string' | 'other'>('string', 'string', 'string', 'other'), fc.jsonValue())
    .chain(([type, typeKind, otherType]) => {
      const known = messageTypes(direction).includes(type)
      const fields = known ? (envelopeSchema(direction, type).properties as Record<string, Record<string, unknown>>) : {}
      const model: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [field, schema] of Object.entries(fields)) {
        if (field !== 'type') model[field] = fc.oneof({ weight: 3, arbitrary: arbitraryOf(schema) }, { weight: 2, arbitrary: hostileValue })
      }
      model.stray = hostileValue
      return fc.record(model, { requiredKeys: [] }).map((fieldsOf) => ({ type: typeKind === 'string' ? type : otherType, ...fieldsOf }))
    })

describe('the envelope schemas and the runtime parser', () => {
  it('every rule of both tables has a schema', () => {
    expect(unmappedEnvelopeFields()).toEqual([])
    // The tables are the parser's own: every message type is there.
    expect(messageTypes('client')).toEqual([...CLIENT_SHAPES.keys()])
    expect(messageTypes('server')).toEqual([...SERVER_SHAPES.keys()])
  })

  it('a field whose rule has no schema fails the build', () => {
    const table = CLIENT_SHAPES as Map<string, (readonly [string, { check: (v: unknown) => boolean }])[]>
    const fields = table.get('cancel')!
    const rogue = [['rogue', { check: () => true }] as const]
    table.set('cancel', [...fields, ...rogue])
    try {
      expect(unmappedEnvelopeFields()).toEqual(['client cancel.rogue'])
      expect(() => envelopeSchema('client', 'cancel')).toThrow(/client cancel\.rogue/)
    } finally {
      table.set('cancel', fields)
    }
  })

  it.each(['client', 'server'] as const)('%s: messages generated from the schemas pass the parser, alone and batched', (direction) => {
    fc.assert(
      fc.property(valid(direction), (message) => {
        const result = parsers[direction](JSON.stringify(message))
        expect(result.ok, JSON.stringify(message)).toBe(true)
      }),
      { numRuns: 2_000 },
    )
    fc.assert(
      fc.property(fc.array(valid(direction), { minLength: 1, maxLength: 8 }), (batch) => {
        expect(parsers[direction](JSON.stringify(batch)).ok).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it.each(['client', 'server'] as const)('%s: on arbitrary messages the parser accepts exactly what the schemas accept', (direction) => {
    let accepted = 0
    let refused = 0
    fc.assert(
      fc.property(mangled(direction), (message) => {
        const parsed = parsers[direction](JSON.stringify(message)).ok
        expect(schemaAccepts(direction, JSON.parse(JSON.stringify(message))), JSON.stringify(message)).toBe(parsed)
        if (parsed) accepted++
        else refused++
      }),
      { numRuns: 5_000 },
    )
    console.log(`${direction}: ${accepted} accepted and ${refused} refused by both`)
    expect(accepted).toBeGreaterThan(200)
    expect(refused).toBeGreaterThan(200)
  })

  it.each(['client', 'server'] as const)('%s: a batch is accepted exactly when every message is', (direction) => {
    fc.assert(
      fc.property(fc.array(fc.oneof(valid(direction), mangled(direction)), { maxLength: 5 }), (batch) => {
        const parsed = parsers[direction](JSON.stringify(batch)).ok
        const expected = batch.length > 0 && batch.every((message) => schemaAccepts(direction, JSON.parse(JSON.stringify(message))))
        expect(parsed).toBe(expected)
      }),
      { numRuns: 1_000 },
    )
  })
})
