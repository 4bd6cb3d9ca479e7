import type { JsonSchema } from '../schema/schema-types'
import { jsonEqual } from './canonical-json'
import { matchValue } from './match-value'
import { resolveRef } from './resolve-ref'
import { acceptsAnything, constraintKeywords, JSON_TYPES, kindsOf, typeCovered, typesOf, unionMembers, valuesOf } from './schema-facts'
import { isSchemaObject, UNREPRESENTABLE, WIRE_TYPE, type SchemaNode } from './schema-keywords'
import { compareArrays } from './subset-arrays'
import type { SubsetContext } from './subset-context'
import { hasViolation, type Finding } from './subset-findings'
import { compareObjects } from './subset-objects'
import { compareNumbers, compareStrings } from './subset-scalars'
import { compareSubUnion, compareUnions } from './subset-unions'

/** Keywords this check reasons about; any other keyword on `sup` must be equal on `sub`, or the answer is "cannot tell". */
const UNDERSTOOD = new Set([
  'type', 'enum', 'const', 'properties', 'required', 'additionalProperties', 'propertyNames', 'patternProperties',
  'items', 'prefixItems', 'additionalItems', 'minItems', 'maxItems', 'uniqueItems',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'format',
  'anyOf', 'oneOf', 'allOf', '$ref', WIRE_TYPE, 'minProperties', 'maxProperties',
])

/** Past this many steps the schemas are called too large to compare (a guard against pathological unions of recursive types). */
const STEP_LIMIT = 200_000

class TooComplex extends Error {}

/**
 * Whether every value `sub` accepts, `sup` accepts too (`sub ⊆ sup`), on the
 * JSON Schema vocabulary the generator writes. Returns what stands in the
 * way (violations, `unknown` ones included) and, where `sup` is wider, notes
 * saying how; no violation means proven. Sound rather than complete: what
 * it cannot decide it reports as `unknown`, never as compatible.
 *
 * Each side's `$ref`s resolve in its own document (`subRoot`, `supRoot`),
 * and a pair of schemas met again while it is being compared is assumed to
 * hold, which is how recursive types (cycles through `$ref`) terminate.
 */
export function schemaSubset(sub: SchemaNode, subRoot: JsonSchema, sup: SchemaNode, supRoot: JsonSchema): Finding[] {
  const active = new Map<object, Set<object>>()
  const withSiblings = new WeakMap<object, JsonSchema>()
  let steps = 0
  const deref = (node: SchemaNode, root: JsonSchema): SchemaNode | string => {
    let current = node
    for (let hops = 0; isSchemaObject(current) && typeof current.$ref === 'string'; hops++) {
      const ref = current.$ref
      const target = hops < 64 ? resolveRef(root, ref) : undefined
      if (target === undefined) return ref
      const siblings = constraintKeywords(current).filter((keyword) => keyword !== '$ref')
      if (siblings.length > 0) return refWithSiblings(current, target, siblings, withSiblings)
      current = target
    }
    return current
  }
  const cx: SubsetContext = {
    subRoot,
    supRoot,
    check(rawSub, rawSup, at) {
      if (++steps > STEP_LIMIT) throw new TooComplex()
      const a = deref(rawSub, subRoot), b = deref(rawSup, supRoot)
      if (typeof a === 'string' || typeof b === 'string') return [{ at, code: 'unknown', reason: `cannot resolve $ref "${typeof a === 'string' ? a : b}"` }]
      if (a === false || b === true || acceptsAnything(b)) return []
      if (b === false) return [{ at, code: 'refused' }]
      const x: JsonSchema = a === true ? {} : a
      const seen = active.get(x)
      if (seen?.has(b)) return []
      if (seen === undefined) active.set(x, new Set([b]))
      else seen.add(b)
      try {
        return compare(x, b, at, cx)
      } finally {
        active.get(x)!.delete(b)
      }
    },
  }
  try {
    return cx.check(sub, sup, '')
  } catch (error) {
    if (error instanceof TooComplex) return [{ at: '', code: 'unknown', reason: 'the schemas are too large to compare' }]
    throw error
  }
}

/** A `$ref` with constraints beside it (2020-12 applies both): the same node, as an `allOf`, once per node so cycles are still seen. */
function refWithSiblings(node: JsonSchema, target: SchemaNode, siblings: readonly string[], cache: WeakMap<object, JsonSchema>): JsonSchema {
  let out = cache.get(node)
  if (out === undefined) {
    const rest = Object.fromEntries(siblings.map((keyword) => [keyword, node[keyword]]))
    out = { allOf: [target, rest] }
    cache.set(node, out)
  }
  return out
}

function compare(sub: JsonSchema, sup: JsonSchema, at: string, cx: SubsetContext): Finding[] {
  if (sub[UNREPRESENTABLE] !== undefined && sup[UNREPRESENTABLE] === undefined) {
    return [{ at, code: 'unknown', reason: 'one side has no schema (x-wirecall-unrepresentable)' }]
  }
  if (Array.isArray(sup.allOf)) {
    const { allOf, ...rest } = sup
    return [...cx.check(sub, rest, at), ...allOf.filter(isNode).flatMap((member) => cx.check(sub, member, at))]
  }
  const subValues = valuesOf(sub)
  if (subValues !== undefined && unionMembers(sub) === undefined && !Array.isArray(sub.allOf)) return compareValues(sub, subValues, sup, at, cx)
  const subMembers = unionMembers(sub)
  const supMembers = unionMembers(sup)
  // Keywords beside `sub`'s union are left out: that only widens `sub`, so a proof still holds.
  if (subMembers !== undefined && supMembers === undefined) return compareSubUnion(subMembers, sup, at, cx)
  if (subMembers === undefined && Array.isArray(sub.allOf)) return compareSubIntersection(sub, sub.allOf.filter(isNode), sup, at, cx)
  if (supMembers !== undefined) {
    const { anyOf: _anyOf, oneOf: _oneOf, ...rest } = sup
    const members = subMembers ?? [sub]
    const besides = acceptsAnything(rest) ? [] : members.flatMap((member) => cx.check(member, rest, at))
    return [...besides, ...compareUnions(members, supMembers, sup.oneOf !== undefined, at, cx)]
  }
  if (sub[WIRE_TYPE] !== sup[WIRE_TYPE]) return [metaTypeChange(sub, sup, at)]
  const supValues = valuesOf(sup)
  if (supValues !== undefined) return compareToValues(sub, supValues, at)
  const typed = compareTypes(sub, sup, at)
  if (typed.shared?.length === 0) return typed.findings
  const has = (...family: string[]): boolean => typed.shared === undefined || family.some((type) => typed.shared!.includes(type))
  const findings = typed.findings
  if (has('number', 'integer')) findings.push(...compareNumbers(sub, sup, at, typed.shared !== undefined && typed.shared.every((type) => type === 'integer')))
  if (has('string')) findings.push(...compareStrings(sub, sup, at))
  if (has('array')) findings.push(...compareArrays(sub, sup, at, cx))
  if (has('object')) findings.push(...compareObjects(sub, sup, at, cx))
  for (const keyword of constraintKeywords(sup)) {
    if (!UNDERSTOOD.has(keyword) && !jsonEqual(sub[keyword], sup[keyword])) findings.push({ at, code: 'unknown', reason: `keyword "${keyword}" differs` })
  }
  return findings
}

const isNode = (value: unknown): value is SchemaNode => typeof value === 'boolean' || isSchemaObject(value)

/** The two name different meta types (or one names none): a change of type, whatever the JSON underneath. */
function metaTypeChange(sub: JsonSchema, sup: JsonSchema, at: string): Finding {
  const subKinds = kindsOf(sub) ?? ['any'], supKinds = kindsOf(sup) ?? ['any']
  return { at, code: 'type', extra: subKinds, subTypes: subKinds, supTypes: supKinds }
}

function sameMetaType(sub: JsonSchema, member: SchemaNode, root: JsonSchema): boolean {
  let node = member
  for (let hops = 0; isSchemaObject(node) && typeof node.$ref === 'string' && hops < 32; hops++) node = resolveRef(root, node.$ref) ?? true
  return typeof node === 'boolean' ? node : node[WIRE_TYPE] === sub[WIRE_TYPE]
}

/** `sub` is a list of values: each must match `sup` (a union: one of its members of the same meta type). */
function compareValues(sub: JsonSchema, values: readonly unknown[], sup: JsonSchema, at: string, cx: SubsetContext): Finding[] {
  // A value is what the JSON says only under the same meta type: "NaN" the number is not "NaN" the string.
  const members = unionMembers(sup)
  const target = members === undefined ? sup : { anyOf: members.filter((member) => sameMetaType(sub, member, cx.supRoot)) }
  if (members === undefined ? sub[WIRE_TYPE] !== sup[WIRE_TYPE] : (target.anyOf as unknown[]).length === 0) return [metaTypeChange(sub, sup, at)]
  const refused: unknown[] = []
  const undecided: unknown[] = []
  for (const value of values) {
    const match = matchValue(value, target, cx.supRoot)
    if (match === false) refused.push(value)
    else if (match === undefined) undecided.push(value)
  }
  const findings: Finding[] = []
  const supValues = valuesOf(sup)
  if (refused.length > 0) {
    findings.push(values.length === 1 && supValues?.length === 1 ? { at, code: 'const-changed', sub: values[0], sup: supValues[0] } : { at, code: 'values', values: refused })
  }
  if (undecided.length > 0) findings.push({ at, code: 'unknown', reason: `cannot check ${undecided.map((value) => JSON.stringify(value)).join(', ')} against the other schema` })
  if (supValues !== undefined && refused.length === 0) {
    const added = supValues.filter((value) => !values.some((own) => jsonEqual(own, value)))
    if (added.length > 0) findings.push({ at, code: 'values-added', values: added })
  } else if (supValues === undefined && refused.length === 0 && undecided.length === 0) findings.push({ at, code: 'enum-dropped', subValues: values })
  return findings
}

/** `sup` is a list of values and `sub` is not: only a `boolean` or `null` type can still fit. */
function compareToValues(sub: JsonSchema, supValues: readonly unknown[], at: string): Finding[] {
  const types = typesOf(sub)
  const finite: ReadonlyMap<string, readonly unknown[]> = new Map([['boolean', [true, false]], ['null', [null]]])
  const fits = types !== undefined && types.every((type) => finite.get(type)?.every((value) => supValues.some((own) => jsonEqual(own, value))) === true)
  return fits ? [] : [{ at, code: 'enum-narrowed', supValues }]
}

/**
 * The `type` keywords: the types `sub` has that `sup` lacks are a
 * violation. `shared` are the types both have, whose keywords are compared
 * next (`undefined`: no `type` on either side, all of them).
 */
function compareTypes(sub: JsonSchema, sup: JsonSchema, at: string): { findings: Finding[]; shared: readonly string[] | undefined } {
  const subTypes = typesOf(sub), supTypes = typesOf(sup)
  if (supTypes === undefined) return { findings: [], shared: subTypes }
  const subList = subTypes ?? JSON_TYPES
  const extra = subList.filter((type) => !typeCovered(type, supTypes))
  const findings: Finding[] = []
  if (extra.length > 0) findings.push({ at, code: 'type', extra: subTypes === undefined ? ['any'] : extra, subTypes: subTypes ?? ['any'], supTypes })
  if (subTypes !== undefined && extra.length < subList.length) {
    const added = supTypes.filter((type) => !typeCovered(type, subTypes))
    if (added.length > 0) findings.push({ at, code: 'types-added', types: added })
  }
  return { findings, shared: subList.filter((type) => typeCovered(type, supTypes)) }
}

/**
 * `sub` is an intersection: proven when its other keywords or any one
 * member fit inside `sup` (each part is wider than the whole); otherwise
 * the best part's findings, marked as undecided since the parts together
 * may still fit.
 */
function compareSubIntersection(sub: JsonSchema, members: readonly SchemaNode[], sup: JsonSchema, at: string, cx: SubsetContext): Finding[] {
  const { allOf: _allOf, ...rest } = sub
  const parts: SchemaNode[] = constraintKeywords(rest).length > 0 ? [rest, ...members] : [...members]
  for (const part of parts) {
    const findings = cx.check(part, sup, at)
    if (!hasViolation(findings)) return findings
  }
  return [{ at, code: 'unknown', reason: 'an intersection (allOf) that no single part proves' }]
}
