import { defaultSerializer, type StandardSchemaV1 } from '@wirecall/core'
import fc from 'fast-check'
import { beforeAll, describe, expect, test } from 'vitest'
import { buildSchemaSet } from '../../../packages/codegen/src/schema/build-schema-set'
import type { SchemaSet } from '../../../packages/codegen/src/schema/schema-types'
import {
  arktypeInputValues,
  arktypeOutputValues,
  infiniteNumbers,
  optionalInput,
  optionalOutput,
  zodNumbers,
} from './fixtures/rich-arbitraries'
import { richRouter } from './fixtures/rich-router'
import { arktypeInput, arktypeOutput, valibotInput, valibotOutput, zodInput, zodOutput } from './fixtures/rich-schemas'
import { strictAjv } from './strict-ajv'

// The claim of `generate schema`: its schemas describe the wire form. For
// each library, 1,000 values the validator accepts are serialized with the
// default serializer, and every `json` part must validate against the
// generated schema of its side.

const RUNS = 1_000

let set: SchemaSet
beforeAll(async () => {
  set = await buildSchemaSet(richRouter, { resolveFrom: __dirname })
})

function schemaOf(path: string, side: 'input' | 'output') {
  const procedure = set.procedures.find((p) => p.path === path)!
  return procedure[side]
}

const accepts = (validator: StandardSchemaV1, value: unknown): boolean => {
  const result = validator['~standard'].validate(value)
  if (result instanceof Promise) throw new Error('fixture validators are synchronous')
  return result.issues === undefined
}

const cases = [
  ['zod', 'zod.save', 'input', zodInput, optionalInput(zodNumbers)],
  ['zod', 'zod.save', 'output', zodOutput, optionalOutput(zodNumbers)],
  ['valibot', 'valibot.save', 'input', valibotInput, optionalInput(infiniteNumbers)],
  ['valibot', 'valibot.save', 'output', valibotOutput, optionalOutput(infiniteNumbers)],
  ['arktype', 'arktype.save', 'input', arktypeInput, arktypeInputValues],
  ['arktype', 'arktype.save', 'output', arktypeOutput, arktypeOutputValues],
] as const

describe('1,000 accepted values per library and side validate against the generated schema', () => {
  test.each(cases)('%s %s %s', (library, path, side, validator, values) => {
    const entry = schemaOf(path, side)
    expect(entry.source).toBe('validator')
    expect(entry.library).toBe(library)
    const validate = strictAjv().compile(entry.schema)
    let accepted = 0
    let valid = 0
    fc.assert(
      fc.property(values, (value) => {
        expect(accepts(validator as StandardSchemaV1, value)).toBe(true)
        accepted++
        const { json } = defaultSerializer.serialize(value)
        const ok = validate(json)
        if (!ok) throw new Error(`${JSON.stringify(json)}: ${JSON.stringify(validate.errors)}`)
        valid++
      }),
      { numRuns: RUNS, seed: 15 },
    )
    expect({ accepted, valid }).toEqual({ accepted: RUNS, valid: RUNS })
  })

  test('the rich types are all in the samples: -0, a six-digit year, undefined keys', () => {
    const samples = fc.sample(optionalInput(infiniteNumbers), { numRuns: RUNS, seed: 15 }).map((v) => JSON.stringify(defaultSerializer.serialize(v).json))
    expect(samples.some((s) => s.includes('"-0"'))).toBe(true)
    expect(samples.some((s) => /"[+-]\d{6}-/.test(s))).toBe(true)
    expect(samples.some((s) => s.includes('"note":null'))).toBe(true)
    expect(samples.some((s) => s.includes('"Infinity"'))).toBe(true)
  })

  test('the schemas refuse what the serializer never writes', () => {
    const validate = strictAjv().compile(schemaOf('zod.save', 'output').schema)
    const good = defaultSerializer.serialize(fc.sample(optionalOutput(zodNumbers), { numRuns: 1, seed: 1 })[0]).json as Record<string, unknown>
    expect(validate(good)).toBe(true)
    expect(validate({ ...good, id: 12 })).toBe(false)
    expect(validate({ ...good, created: '2020-01-01' })).toBe(false)
    expect(validate({ ...good, tags: ['z'] })).toBe(false)
    expect(validate({ ...good, totals: [['1']] })).toBe(false)
  })
})
