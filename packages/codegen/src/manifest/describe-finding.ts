import { typesOverlap } from './schema-facts'
import type { Finding } from './subset-findings'

/**
 * Which side of a procedure a finding is about. An input must accept at
 * least what it did (`old ⊆ new`: `sub` is the old schema); an output or
 * event must produce at most what it did (`new ⊆ old`: `sub` is the new one).
 */
export type Side = 'input' | 'output'

const values = (list: readonly unknown[]): string => list.map((value) => JSON.stringify(value)).join(', ')
const plural = (list: readonly unknown[], one: string, many: string): string => (list.length === 1 ? one : many)
const types = (list: readonly string[]): string => list.join(' | ')

/** A finding in a person's words, from the old schema to the new one. */
export function describeFinding(finding: Finding, side: Side): string {
  const input = side === 'input'
  // Old and new, whichever of sub/sup they are on this side.
  const was = <T>(sub: T, sup: T): T => (input ? sub : sup)
  const now = <T>(sub: T, sup: T): T => (input ? sup : sub)
  switch (finding.code) {
    case 'type':
      if (finding.extra.includes('any')) return input ? `now limited to ${types(finding.supTypes)}` : `may now be any type (was ${types(finding.supTypes)})`
      if (finding.extra.length === 1 && finding.extra[0] === 'number' && finding.supTypes.includes('integer')) return input ? 'type narrowed from number to integer' : 'type widened from integer to number'
      if (!typesOverlap(finding.subTypes, finding.supTypes)) return `type changed from ${types(was(finding.subTypes, finding.supTypes))} to ${types(now(finding.subTypes, finding.supTypes))}`
      if (input) return `no longer accepts ${types(finding.extra)}`
      return finding.extra.length === 1 && finding.extra[0] === 'null' ? 'made nullable' : `may now be ${types(finding.extra)}`
    case 'required':
      if (input) return finding.declaredInSub ? `field "${finding.name}" made required` : `new required field "${finding.name}"`
      return finding.declaredInSub ? `field "${finding.name}" made optional` : `field "${finding.name}" removed`
    case 'property-refused':
      return input ? `field "${finding.name}" removed (extra fields are refused)` : `new field "${finding.name}" (the old schema refuses extra fields)`
    case 'extras-refused':
      return input ? 'extra fields no longer accepted' : 'may now hold extra fields (the old schema refuses them)'
    case 'values':
      return `${plural(finding.values, 'enum value', 'enum values')} ${values(finding.values)} ${input ? 'removed' : 'added'}`
    case 'const-changed':
      return `value changed from ${JSON.stringify(was(finding.sub, finding.sup))} to ${JSON.stringify(now(finding.sub, finding.sup))}`
    case 'enum-narrowed':
      return input ? `narrowed to ${values(finding.supValues)}` : `no longer limited to ${values(finding.supValues)}`
    case 'constraint':
      return `${input ? 'tighter' : 'looser'} ${finding.keyword}: ${now(finding.sub, finding.sup)} (was ${was(finding.sub, finding.sup)})`
    case 'format':
      return `format changed from ${was(finding.sub, finding.sup) ?? 'none'} to ${now(finding.sub, finding.sup) ?? 'none'}`
    case 'pattern':
      return input ? `pattern added: /${finding.sup}/` : `pattern removed (was /${finding.sup}/)`
    case 'pattern-changed':
      return `cannot tell whether compatible: pattern changed from /${was(finding.sub, finding.sup)}/ to /${now(finding.sub, finding.sup)}/`
    case 'union-member':
      return input ? `union member removed: ${finding.member}` : `union member added: ${finding.member}`
    case 'refused':
      return input ? 'no longer accepted' : 'may now be present (the old schema forbids it)'
    case 'unknown':
      return `cannot tell whether compatible: ${finding.reason}`
    case 'declared':
      return input ? `new optional field "${finding.name}"` : `field "${finding.name}" no longer declared`
    case 'undeclared':
      return input ? `field "${finding.name}" no longer declared (any value accepted)` : `new field "${finding.name}"`
    case 'required-dropped':
      return input ? `field "${finding.name}" made optional` : `field "${finding.name}" now always present`
    case 'values-added':
      return `${plural(finding.values, 'enum value', 'enum values')} ${values(finding.values)} ${input ? 'added' : 'no longer produced'}`
    case 'types-added':
      if (input) return `now also accepts ${types(finding.types)}`
      return finding.types.length === 1 && finding.types[0] === 'null' ? 'no longer nullable' : `no longer ${types(finding.types)}`
    case 'constraint-loosened':
      return `${input ? 'looser' : 'tighter'} ${finding.keyword}: ${now(finding.sub, finding.sup)} (was ${was(finding.sub, finding.sup)})`
    case 'member-added':
      return input ? `union member added: ${finding.member}` : `union member removed: ${finding.member}`
    case 'extras-accepted':
      return input ? 'extra fields now accepted' : 'no longer holds extra fields'
    case 'enum-dropped':
      return input ? `no longer limited to ${values(finding.subValues)}` : `now limited to ${values(finding.subValues)}`
    case 'format-dropped':
      return input ? `format ${finding.sub} no longer required` : `now always format ${finding.sub}`
    case 'pattern-dropped':
      return input ? 'pattern no longer required' : 'now matches a pattern'
  }
}
