import type { JsonSchema } from '../schema/schema-types'
import { jsonEqual } from './canonical-json'
import { describeFinding, type Side } from './describe-finding'
import type { ApiManifest, ManifestProcedure } from './manifest-types'
import { normalizeSchema } from './normalize-schema'
import { manifestProcedures } from './parse-manifest'
import { schemaSubset } from './schema-subset'
import { isViolation } from './subset-findings'

/** One difference between two manifests, as `wirecall api check` lists it. */
export interface ApiChange {
  /** A consumer built against the old API may fail (or the check cannot tell that it will not). */
  readonly breaking: boolean
  /** A procedure that is new. */
  readonly added?: true
  /** The procedure's dotted path. */
  readonly path: string
  /** Where in the procedure: `''` for the procedure itself, `input`, `output.author.email`, `event[]`. */
  readonly where: string
  readonly message: string
}

/**
 * What changed from `old` to `next`, breaking changes and additive ones,
 * by procedure path. Breaking: a procedure removed, its kind changed, no
 * longer idempotent, newly able to resync; an input that accepts less
 * (`old ⊆ new` fails); an output or event that can hold more (`new ⊆ old`
 * fails); anything the schema comparison cannot decide.
 */
export function compareManifests(old: ApiManifest, next: ApiManifest): ApiChange[] {
  const changes: ApiChange[] = []
  const paths = [...new Set([...Object.keys(old.procedures), ...Object.keys(next.procedures)])].sort()
  const before = new Map(manifestProcedures(old)), after = new Map(manifestProcedures(next))
  for (const path of paths) {
    const a = before.get(path), b = after.get(path)
    if (a === undefined && b !== undefined) changes.push({ breaking: false, added: true, path, where: '', message: `(${b.kind})` })
    else if (a !== undefined && b === undefined) changes.push({ breaking: true, path, where: '', message: `removed (was a ${a.kind})` })
    else if (a !== undefined && b !== undefined) changes.push(...compareProcedure(path, a, b))
  }
  return changes
}

function compareProcedure(path: string, a: ManifestProcedure, b: ManifestProcedure): ApiChange[] {
  const change = (breaking: boolean, message: string, where = ''): ApiChange => ({ breaking, path, where, message })
  if (a.kind !== b.kind) return [change(true, `kind changed from ${a.kind} to ${b.kind}`)]
  const changes: ApiChange[] = []
  if (a.idempotent === true && b.idempotent !== true) changes.push(change(true, 'no longer idempotent (clients built against the old API retry it after a lost connection)'))
  if (a.idempotent !== true && b.idempotent === true) changes.push(change(false, 'now idempotent'))
  if (a.resync !== true && b.resync === true) changes.push(change(true, 'can now resync (consumers built against the old API do not expect a resync)'))
  if (a.resync === true && b.resync !== true) changes.push(change(false, 'no longer resyncs'))
  changes.push(...compareSide(path, 'input', 'input', a.input, b.input))
  changes.push(...compareSide(path, 'output', a.kind === 'subscription' ? 'event' : 'output', a.output, b.output))
  return changes
}

/**
 * One side of a procedure: inputs must accept at least what they did,
 * outputs and events produce at most what they did. Equal findings (a
 * union can report one twice) are listed once; a change that keeps both
 * directions (the same values, written another way) is listed as compatible.
 */
function compareSide(path: string, side: Side, label: string, old: JsonSchema, next: JsonSchema): ApiChange[] {
  const findings = side === 'input' ? schemaSubset(old, old, next, next) : schemaSubset(next, next, old, old)
  const changes = new Map<string, ApiChange>()
  for (const finding of findings) {
    const change: ApiChange = { breaking: isViolation(finding), path, where: `${label}${finding.at}`, message: describeFinding(finding, side) }
    changes.set(`${change.where}\u0000${change.message}`, change)
  }
  if (changes.size === 0 && !jsonEqual(normalizeSchema(old), normalizeSchema(next))) {
    return [{ breaking: false, path, where: label, message: 'schema rewritten, accepts the same values' }]
  }
  return [...changes.values()]
}
