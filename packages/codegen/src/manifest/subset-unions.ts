import type { JsonSchema } from '../schema/schema-types'
import { jsonEqual } from './canonical-json'
import { matchValue } from './match-value'
import { resolveRef } from './resolve-ref'
import { describeSchema, kindsOf, typesOf, typesOverlap, unionMembers, valuesOf } from './schema-facts'
import { isSchemaObject, WIRE_TYPE, type SchemaNode } from './schema-keywords'
import type { SubsetContext } from './subset-context'
import { hasViolation, isViolation, type Finding } from './subset-findings'

/**
 * `sub` is a union and `sup` is not: each member must fit `sup`. A member
 * whose JSON type `sup` lacks is reported against the union's types, so a
 * `T | null` where `T` was reads "made nullable", not "type changed".
 */
export function compareSubUnion(members: readonly SchemaNode[], sup: JsonSchema, at: string, cx: SubsetContext): Finding[] {
  const memberTypes = members.map((member) => {
    const node = deref(member, cx.subRoot)
    return typeof node === 'boolean' ? undefined : kindsOf(node)
  })
  const allTypes = memberTypes.every((types) => types !== undefined) ? [...new Set(memberTypes.flat())] : undefined
  return members.flatMap((member) =>
    cx.check(member, sup, at).map((finding): Finding => (finding.code === 'type' && finding.at === at && allTypes !== undefined ? { ...finding, subTypes: allTypes } : finding)),
  )
}

/**
 * `sup` is a union (`exclusive` for `oneOf`); `subMembers` are `sub`'s
 * members, or `sub` alone. Each must fit inside one `sup` member; for
 * `oneOf` it must moreover be provably disjoint from the other members (a
 * value matching two fails `oneOf`), or the answer is unknown. `sup`
 * members that cover none of `sub`'s are notes: the union grew.
 */
export function compareUnions(subMembers: readonly SchemaNode[], supMembers: readonly SchemaNode[], exclusive: boolean, at: string, cx: SubsetContext): Finding[] {
  const findings: Finding[] = []
  const matched = new Set<number>()
  for (const member of subMembers) {
    const found = coveringMember(member, supMembers, at, cx)
    if (found.index === undefined) {
      findings.push(...(found.findings ?? [subMembers.length === 1 ? typeChange(member, supMembers, at, cx) : { at, code: 'union-member', member: describeSchema(member) }]))
      continue
    }
    findings.push(...found.findings!)
    matched.add(found.index)
    if (!exclusive) continue
    const overlapping = supMembers.filter((other, index) => index !== found.index && !disjoint(member, cx.subRoot, other, cx.supRoot, 0))
    if (overlapping.length > 0) findings.push({ at, code: 'unknown', reason: `it may match more than one member of a oneOf (${overlapping.map(describeSchema).join(', ')})` })
  }
  // Members nothing matched are news only when the union still covers something.
  supMembers.forEach((member, index) => {
    if (matched.size > 0 && !matched.has(index)) findings.push({ at, code: 'member-added', member: describeSchema(member) })
  })
  return findings
}

/** `sub` (not a union) is like no member of `sup`: a change of type, named by meta type where there is one (`NaN` is a `number`). */
function typeChange(sub: SchemaNode, supMembers: readonly SchemaNode[], at: string, cx: SubsetContext): Finding {
  const kinds = (node: SchemaNode, root: JsonSchema): readonly string[] => {
    const resolved = deref(node, root)
    return (typeof resolved === 'boolean' ? undefined : kindsOf(resolved)) ?? ['any']
  }
  const subKinds = kinds(sub, cx.subRoot)
  const supKinds = [...new Set(supMembers.flatMap((member) => kinds(member, cx.supRoot)))]
  return { at, code: 'type', extra: subKinds, subTypes: subKinds, supTypes: supKinds }
}

/**
 * The `sup` member that covers `sub` (its index, and the notes of that
 * comparison), or, when none does, the findings against the closest one
 * that could be meant (not {@link distinct}; fewest violations) so the
 * message says what changed inside it; neither when none could be.
 */
function coveringMember(sub: SchemaNode, supMembers: readonly SchemaNode[], at: string, cx: SubsetContext): { index?: number; findings?: Finding[] } {
  let best: { findings: Finding[]; violations: number } | undefined
  for (const [index, member] of supMembers.entries()) {
    const findings = cx.check(sub, member, at)
    if (!hasViolation(findings)) return { index, findings }
    if (distinct(deref(sub, cx.subRoot), deref(member, cx.supRoot))) continue
    const violations = findings.filter(isViolation).length
    if (best === undefined || violations < best.violations) best = { findings, violations }
  }
  return best === undefined ? {} : { findings: best.findings }
}

function deref(node: SchemaNode, root: JsonSchema): SchemaNode {
  let current = node
  for (let hops = 0; isSchemaObject(current) && typeof current.$ref === 'string' && hops < 32; hops++) {
    const target = resolveRef(root, current.$ref)
    if (target === undefined) return current
    current = target
  }
  return current
}

/** Two members that are plainly not versions of one another: other meta types, no shared JSON type, or a shared tag property with different values. */
function distinct(a: SchemaNode, b: SchemaNode): boolean {
  if (typeof a === 'boolean' || typeof b === 'boolean') return false
  if (a[WIRE_TYPE] !== b[WIRE_TYPE]) return true
  const xs = typesOf(a), ys = typesOf(b)
  if (xs !== undefined && ys !== undefined && !typesOverlap(xs, ys)) return true
  if (!isSchemaObject(a.properties) || !isSchemaObject(b.properties)) return false
  const bProps = b.properties
  return Object.entries(a.properties).some(([name, p]) => {
    const q = bProps[name]
    if (!isSchemaObject(p) || !isSchemaObject(q)) return false
    const pv = valuesOf(p), qv = valuesOf(q)
    return pv !== undefined && qv !== undefined && !pv.some((value) => qv.some((other) => jsonEqual(value, other)))
  })
}

/**
 * Whether no value can match both schemas, proven from their JSON types,
 * their constants, or a property both require with disjoint schemas (a
 * discriminated union's tag). `false` means "not proven", not "overlap".
 */
export function disjoint(a: SchemaNode, aRoot: JsonSchema, b: SchemaNode, bRoot: JsonSchema, depth: number): boolean {
  if (depth > 8) return false
  const x = deref(a, aRoot), y = deref(b, bRoot)
  if (x === false || y === false) return true
  if (x === true || y === true) return false
  const xMembers = unionMembers(x), yMembers = unionMembers(y)
  if (xMembers !== undefined) return xMembers.every((member) => disjoint(member, aRoot, y, bRoot, depth + 1))
  if (yMembers !== undefined) return yMembers.every((member) => disjoint(x, aRoot, member, bRoot, depth + 1))
  const xs = typesOf(x), ys = typesOf(y)
  if (xs !== undefined && ys !== undefined && !typesOverlap(xs, ys)) return true
  const xValues = valuesOf(x), yValues = valuesOf(y)
  if (xValues !== undefined && xValues.every((value) => matchValue(value, y, bRoot) === false)) return true
  if (yValues !== undefined && yValues.every((value) => matchValue(value, x, aRoot) === false)) return true
  if (isSchemaObject(x.properties) && isSchemaObject(y.properties) && Array.isArray(x.required) && Array.isArray(y.required)) {
    const xProps = x.properties, yProps = y.properties, yRequired = y.required
    for (const name of x.required) {
      if (typeof name !== 'string' || !yRequired.includes(name)) continue
      const p = xProps[name], q = yProps[name]
      if ((typeof p === 'boolean' || isSchemaObject(p)) && (typeof q === 'boolean' || isSchemaObject(q)) && disjoint(p, aRoot, q, bRoot, depth + 1)) return true
    }
  }
  return false
}
