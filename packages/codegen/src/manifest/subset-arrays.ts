import type { JsonSchema } from '../schema/schema-types'
import { compareCounts } from './subset-scalars'
import type { SubsetContext } from './subset-context'
import type { Finding } from './subset-findings'
import { isSchemaNode, type SchemaNode } from './schema-keywords'

/** Tuple slots and the schema of the elements after them, in 2020-12 terms (draft-07's array `items` + `additionalItems` read as `prefixItems` + `items`). */
function arrayParts(schema: JsonSchema): { prefix: readonly SchemaNode[]; rest: SchemaNode } {
  if (Array.isArray(schema.items)) {
    return { prefix: schema.items.filter(isSchemaNode), rest: isSchemaNode(schema.additionalItems) ? schema.additionalItems : true }
  }
  const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems.filter(isSchemaNode) : []
  return { prefix, rest: isSchemaNode(schema.items) ? schema.items : true }
}

/**
 * Array keywords: each position `sub` can fill must take a value `sup`
 * takes there, then the elements past both tuples, then the counts.
 * `uniqueItems` on `sup` alone is a tighter constraint.
 */
export function compareArrays(sub: JsonSchema, sup: JsonSchema, at: string, cx: SubsetContext): Finding[] {
  const a = arrayParts(sub), b = arrayParts(sup)
  const subMax = typeof sub.maxItems === 'number' ? sub.maxItems : Number.POSITIVE_INFINITY
  const findings: Finding[] = []
  const slots = Math.max(a.prefix.length, b.prefix.length)
  for (let index = 0; index < slots && index < subMax; index++) {
    findings.push(...cx.check(a.prefix[index] ?? a.rest, b.prefix[index] ?? b.rest, `${at}[${index}]`))
  }
  if (subMax > slots) findings.push(...cx.check(a.rest, b.rest, `${at}[]`))
  findings.push(...compareCounts(sub, sup, at, 'minItems', 'maxItems'))
  if (sup.uniqueItems === true && sub.uniqueItems !== true) findings.push({ at, code: 'constraint', keyword: 'uniqueItems', sub: 'none', sup: 'true' })
  return findings
}
