import type { JsonSchema } from '../schema/schema-types'
import { jsonEqual } from './canonical-json'
import { matchValue } from './match-value'
import { compareCounts } from './subset-scalars'
import { atProperty, type SubsetContext } from './subset-context'
import { hasViolation, type Finding } from './subset-findings'
import { isSchemaNode, isSchemaObject, type SchemaNode } from './schema-keywords'

const properties = (schema: JsonSchema): Readonly<Record<string, unknown>> => (isSchemaObject(schema.properties) ? schema.properties : {})
const requiredSet = (schema: JsonSchema): ReadonlySet<string> =>
  new Set(Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === 'string') : [])
const extras = (schema: JsonSchema): SchemaNode => (isSchemaNode(schema.additionalProperties) ? schema.additionalProperties : true)

/**
 * Object keywords. Every property `sup` requires, `sub` must require; each
 * property either side declares is compared with what the other side says
 * about it (its declaration, else its `additionalProperties`, except that
 * an open object's silence about a property does not count); then the
 * values of undeclared properties, their names, and the counts.
 * `patternProperties` must be equal on both sides, or the answer is unknown.
 */
export function compareObjects(sub: JsonSchema, sup: JsonSchema, at: string, cx: SubsetContext): Finding[] {
  const findings: Finding[] = []
  const subProps = properties(sub), supProps = properties(sup)
  const subRequired = requiredSet(sub), supRequired = requiredSet(sup)
  const subExtras = extras(sub), supExtras = extras(sup)
  if ((sub.patternProperties !== undefined || sup.patternProperties !== undefined) && !jsonEqual(sub.patternProperties, sup.patternProperties)) {
    findings.push({ at, code: 'unknown', reason: 'patternProperties changed' })
  }
  for (const name of [...supRequired].sort()) {
    if (!subRequired.has(name)) findings.push({ at, code: 'required', name, declaredInSub: Object.hasOwn(subProps, name) && subProps[name] !== false })
  }
  for (const name of [...subRequired].sort()) if (!supRequired.has(name) && Object.hasOwn(supProps, name)) findings.push({ at, code: 'required-dropped', name })
  const names = [...new Set([...Object.keys(subProps), ...Object.keys(supProps)])].sort()
  for (const name of names) {
    const inSub = Object.hasOwn(subProps, name), inSup = Object.hasOwn(supProps, name)
    const subOwn = subProps[name], supOwn = supProps[name]
    const subNode: SchemaNode = inSub && isSchemaNode(subOwn) ? subOwn : subExtras
    const supNode: SchemaNode = inSup && isSchemaNode(supOwn) ? supOwn : supExtras
    if (inSub && !inSup && supExtras === false && subNode !== false) {
      findings.push({ at, code: 'property-refused', name })
      continue
    }
    // A property an open object does not declare was never part of its
    // contract (a typed caller does not send it, a typed consumer does not
    // read it): declaring it is additive, not a narrowing of "any value".
    const checked = !inSub && subExtras === true ? [] : cx.check(subNode, supNode, atProperty(at, name))
    // "made optional" already says the value may be missing (`undefined`, which the wire carries as null).
    const inner = supRequired.has(name) && !subRequired.has(name) ? checked.filter((finding) => !isUndefinedOnly(finding, atProperty(at, name))) : checked
    findings.push(...inner)
    if (hasViolation(inner)) continue
    if (inSup && !inSub) findings.push({ at, code: 'declared', name })
    if (inSub && !inSup) findings.push({ at, code: 'undeclared', name })
  }
  if (supExtras === false && subExtras !== false) findings.push({ at, code: 'extras-refused' })
  else if (subExtras === false && supExtras !== false) findings.push({ at, code: 'extras-accepted' })
  else if (subExtras !== false) findings.push(...cx.check(subExtras, supExtras, `${at}.*`))
  findings.push(...compareNames(sub, sup, at, cx, subExtras === false ? Object.keys(subProps) : undefined))
  findings.push(...compareCounts(sub, sup, at, 'minProperties', 'maxProperties'))
  return findings
}

function isUndefinedOnly(finding: Finding, at: string): boolean {
  return finding.at === at && finding.code === 'type' && finding.extra.length === 1 && finding.extra[0] === 'undefined'
}

/**
 * `propertyNames`: when `sub` admits only its declared names, each must
 * match `sup`'s; otherwise `sub`'s name schema (a string when absent) must
 * be a subset of `sup`'s.
 */
function compareNames(sub: JsonSchema, sup: JsonSchema, at: string, cx: SubsetContext, closedNames: readonly string[] | undefined): Finding[] {
  if (!isSchemaNode(sup.propertyNames)) return []
  const supNames = sup.propertyNames
  if (closedNames !== undefined) {
    const refused = closedNames.filter((name) => matchValue(name, supNames, cx.supRoot) !== true)
    return refused.length === 0 ? [] : [{ at, code: 'unknown', reason: `property names ${refused.map((name) => JSON.stringify(name)).join(', ')} may not match propertyNames` }]
  }
  const subNames: SchemaNode = isSchemaNode(sub.propertyNames) ? sub.propertyNames : { type: 'string' }
  return cx.check(subNames, supNames, `${at}{key}`)
}
