import type { JsonSchema } from '../schema/schema-types'
import type { Finding } from './subset-findings'

/** A lower or upper bound on a number. */
interface Bound {
  readonly value: number
  readonly exclusive: boolean
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)

/**
 * The tighter of `minimum` and `exclusiveMinimum` (`side` 'lower') or of
 * `maximum` and `exclusiveMaximum` ('upper'). For integers an exclusive
 * bound is the next integer inclusive, so `> 0` and `>= 1` compare equal.
 */
function bound(schema: JsonSchema, side: 'lower' | 'upper', integer: boolean): Bound | undefined {
  const inclusive = num(side === 'lower' ? schema.minimum : schema.maximum)
  const exclusive = num(side === 'lower' ? schema.exclusiveMinimum : schema.exclusiveMaximum)
  const candidates: Bound[] = []
  if (inclusive !== undefined) candidates.push({ value: integer ? (side === 'lower' ? Math.ceil(inclusive) : Math.floor(inclusive)) : inclusive, exclusive: false })
  if (exclusive !== undefined) {
    candidates.push(integer ? { value: side === 'lower' ? Math.floor(exclusive) + 1 : Math.ceil(exclusive) - 1, exclusive: false } : { value: exclusive, exclusive: true })
  }
  let best: Bound | undefined
  for (const candidate of candidates) if (best === undefined || tighter(candidate, best, side)) best = candidate
  return best
}

/** Whether `a` admits strictly fewer numbers than `b` on that side. */
function tighter(a: Bound, b: Bound, side: 'lower' | 'upper'): boolean {
  if (a.value !== b.value) return side === 'lower' ? a.value > b.value : a.value < b.value
  return a.exclusive && !b.exclusive
}

function showBound(b: Bound | undefined, side: 'lower' | 'upper'): string {
  if (b === undefined) return 'none'
  return `${side === 'lower' ? '>' : '<'}${b.exclusive ? '' : '='} ${b.value}`
}

/** Number keywords: bounds and `multipleOf`. `integer` when every number `sub` admits here is an integer. */
export function compareNumbers(sub: JsonSchema, sup: JsonSchema, at: string, integer: boolean): Finding[] {
  const findings: Finding[] = []
  for (const side of ['lower', 'upper'] as const) {
    const a = bound(sub, side, integer), b = bound(sup, side, integer)
    const keyword = side === 'lower' ? 'minimum' : 'maximum'
    if (b !== undefined && (a === undefined || tighter(b, a, side))) findings.push({ at, code: 'constraint', keyword, sub: showBound(a, side), sup: showBound(b, side) })
    else if (a !== undefined && (b === undefined || tighter(a, b, side))) findings.push({ at, code: 'constraint-loosened', keyword, sub: showBound(a, side), sup: showBound(b, side) })
  }
  const step = num(sup.multipleOf), own = num(sub.multipleOf)
  if (step !== undefined && !(integer && Number.isInteger(step) && step === 1)) {
    const ratio = own === undefined ? Number.NaN : own / step
    if (!(Math.abs(ratio - Math.round(ratio)) < 1e-9 && Math.round(ratio) >= 1)) findings.push({ at, code: 'constraint', keyword: 'multipleOf', sub: own === undefined ? 'none' : String(own), sup: String(step) })
  } else if (own !== undefined && step === undefined) findings.push({ at, code: 'constraint-loosened', keyword: 'multipleOf', sub: String(own), sup: 'none' })
  return findings
}

/**
 * A count range (`minLength`/`maxLength`, `minItems`/`maxItems`,
 * `minProperties`/`maxProperties`): `sub`'s range must lie inside `sup`'s.
 */
export function compareCounts(sub: JsonSchema, sup: JsonSchema, at: string, min: string, max: string): Finding[] {
  const findings: Finding[] = []
  const subMin = num(sub[min]) ?? 0, supMin = num(sup[min]) ?? 0
  if (supMin > subMin) findings.push({ at, code: 'constraint', keyword: min, sub: String(subMin), sup: String(supMin) })
  else if (subMin > supMin) findings.push({ at, code: 'constraint-loosened', keyword: min, sub: String(subMin), sup: String(supMin) })
  const subMax = num(sub[max]), supMax = num(sup[max])
  if (supMax !== undefined && (subMax === undefined || subMax > supMax)) findings.push({ at, code: 'constraint', keyword: max, sub: subMax === undefined ? 'none' : String(subMax), sup: String(supMax) })
  else if (subMax !== undefined && (supMax === undefined || supMax > subMax)) findings.push({ at, code: 'constraint-loosened', keyword: max, sub: String(subMax), sup: supMax === undefined ? 'none' : String(supMax) })
  return findings
}

/** String keywords: lengths, `pattern` (equal text or none on `sup`; anything else cannot be decided) and `format`. */
export function compareStrings(sub: JsonSchema, sup: JsonSchema, at: string): Finding[] {
  const findings = compareCounts(sub, sup, at, 'minLength', 'maxLength')
  const subPattern = typeof sub.pattern === 'string' ? sub.pattern : undefined
  const supPattern = typeof sup.pattern === 'string' ? sup.pattern : undefined
  if (supPattern !== undefined && subPattern !== supPattern) {
    findings.push(subPattern === undefined ? { at, code: 'pattern', sup: supPattern } : { at, code: 'pattern-changed', sub: subPattern, sup: supPattern })
  } else if (subPattern !== undefined && supPattern === undefined) findings.push({ at, code: 'pattern-dropped' })
  const subFormat = typeof sub.format === 'string' ? sub.format : undefined
  const supFormat = typeof sup.format === 'string' ? sup.format : undefined
  if (supFormat !== undefined && subFormat !== supFormat) findings.push({ at, code: 'format', sub: subFormat, sup: supFormat })
  else if (subFormat !== undefined && supFormat === undefined) findings.push({ at, code: 'format-dropped', sub: subFormat })
  return findings
}
