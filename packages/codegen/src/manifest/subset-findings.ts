/**
 * What the subset check (`sub ⊆ sup`: every value `sub` accepts, `sup`
 * accepts too) found, in terms of `sub` and `sup`. The caller knows which is
 * the old schema and which the new one (inputs: old ⊆ new; outputs:
 * new ⊆ old) and words each finding for a person (describe-finding.ts).
 *
 * `at` is where, below the schema's root: `.author.email`, `[]` (array
 * elements), `[1]` (a tuple slot), `.*` (a record's values); `''` is the root.
 */
export type Finding = { readonly at: string } & (Violation | Note)

/** A value `sub` accepts that `sup` refuses (or may refuse: `unknown`). */
export type Violation =
  /**
   * `sub` admits types `sup` does not: JSON types, or the serializer's meta
   * types where a schema names one (`Date`, `bigint`, `undefined`...), since
   * a `Date` and a plain string are both JSON strings but not the same value
   * to a consumer.
   */
  | { readonly code: 'type'; readonly extra: readonly string[]; readonly subTypes: readonly string[]; readonly supTypes: readonly string[] }
  /** `sup` requires a property `sub` may leave out. */
  | { readonly code: 'required'; readonly name: string; readonly declaredInSub: boolean }
  /** `sub` declares a property that `sup` refuses (it refuses undeclared ones). */
  | { readonly code: 'property-refused'; readonly name: string }
  /** `sup` refuses undeclared properties, `sub` does not. */
  | { readonly code: 'extras-refused' }
  /** Constants or enum values of `sub` outside `sup`. */
  | { readonly code: 'values'; readonly values: readonly unknown[] }
  /** Both are one constant, and they differ. */
  | { readonly code: 'const-changed'; readonly sub: unknown; readonly sup: unknown }
  /** `sup` is an enum (or constant), `sub` a wider type. */
  | { readonly code: 'enum-narrowed'; readonly supValues: readonly unknown[] }
  /** A bound or count: `sub`'s is looser than `sup`'s (`none` when absent). */
  | { readonly code: 'constraint'; readonly keyword: string; readonly sub: string; readonly sup: string }
  | { readonly code: 'format'; readonly sub: string | undefined; readonly sup: string | undefined }
  /** `sup` has a pattern, `sub` none. */
  | { readonly code: 'pattern'; readonly sup: string }
  /** Both have a pattern, and they differ: whether one language contains the other is not decided here (`unknown`). */
  | { readonly code: 'pattern-changed'; readonly sub: string; readonly sup: string }
  /** A member of `sub`'s union that no member of `sup` covers. */
  | { readonly code: 'union-member'; readonly member: string }
  /** `sup` is `false` here (a tuple slot past its end, a property it forbids). */
  | { readonly code: 'refused' }
  /** The check cannot decide; treated as breaking. */
  | { readonly code: 'unknown'; readonly reason: string }

/** A difference that keeps `sub ⊆ sup`: `sup` accepts more than `sub` here. */
export type Note =
  /** `sup` declares a property `sub` does not have. */
  | { readonly code: 'declared'; readonly name: string }
  /** `sub` declares a property `sup` leaves open. */
  | { readonly code: 'undeclared'; readonly name: string }
  | { readonly code: 'required-dropped'; readonly name: string }
  | { readonly code: 'values-added'; readonly values: readonly unknown[] }
  | { readonly code: 'types-added'; readonly types: readonly string[] }
  | { readonly code: 'constraint-loosened'; readonly keyword: string; readonly sub: string; readonly sup: string }
  | { readonly code: 'member-added'; readonly member: string }
  | { readonly code: 'extras-accepted' }
  | { readonly code: 'enum-dropped'; readonly subValues: readonly unknown[] }
  | { readonly code: 'format-dropped'; readonly sub: string }
  | { readonly code: 'pattern-dropped' }

export type FindingCode = Finding['code']

const NOTE_CODES: ReadonlySet<FindingCode> = new Set<Note['code']>([
  'declared', 'undeclared', 'required-dropped', 'values-added', 'types-added', 'constraint-loosened', 'member-added', 'extras-accepted', 'enum-dropped', 'format-dropped', 'pattern-dropped',
])

/** A finding that breaks `sub ⊆ sup` (an `unknown` one included). */
export function isViolation(finding: Finding): finding is { readonly at: string } & Violation {
  return !NOTE_CODES.has(finding.code)
}

/** Whether any finding breaks `sub ⊆ sup`. */
export function hasViolation(findings: readonly Finding[]): boolean {
  return findings.some(isViolation)
}
