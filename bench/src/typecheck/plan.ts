/**
 * The API the type-check benchmark generates for each library: 500
 * procedures in 10 routers × 5 sub-routers × 10 procedures, 60% queries,
 * 30% mutations, 10% subscriptions. Every procedure has its own zod object
 * input (3 to 5 fields of varied types, names unique to the procedure) and
 * its own output object, so the checker cannot reuse one procedure's types
 * for the next. Both libraries get exactly this plan.
 */

/** What a procedure is, in both libraries' words. */
export type ProcedureKind = 'query' | 'mutation' | 'subscription'

/** One input field: its name, its zod schema, and a literal of its input type for the client to send. */
export interface InputField {
  name: string
  schema: string
  literal: string
}

/** One generated procedure. */
export interface PlannedProcedure {
  /** Number of the procedure, 0..499: part of every name it owns. */
  n: number
  /** Router, sub-router and procedure keys: `api.a3.b1.p7`. */
  path: [string, string, string]
  kind: ProcedureKind
  input: InputField[]
  /** Output field the client reads (a number: the client calls `.toFixed()` on it). */
  countField: string
  /** Output field that echoes the first input field (its type comes from the input schema's output). */
  echoField: string
  /** Output field holding a `Date`. */
  dateField: string
}

export const ROUTERS = 10
export const SUB_ROUTERS = 5
export const PROCEDURES = 10

/**
 * Field kinds, rotated through so that each procedure has a different mix:
 * `schema(n, j)` is the zod schema, `literal` a value of its input type.
 */
const FIELD_KINDS: { schema: (n: number, j: number) => string; literal: string }[] = [
  { schema: () => 'z.string().min(1)', literal: "'text'" },
  { schema: () => 'z.number().int()', literal: '42' },
  { schema: () => 'z.boolean()', literal: 'true' },
  { schema: () => 'z.array(z.string())', literal: "['a', 'b']" },
  { schema: () => 'z.number().optional()', literal: '1.5' },
  { schema: (n, j) => `z.enum(['red${n}_${j}', 'green${n}_${j}', 'blue${n}_${j}'])`, literal: '' },
  { schema: (n, j) => `z.object({ x${n}_${j}: z.number(), y${n}_${j}: z.string() })`, literal: '' },
  { schema: () => 'z.date()', literal: 'new Date(0)' },
]

/** Literal for the kinds whose values carry the procedure's own names. */
function literalFor(kind: number, n: number, j: number): string {
  if (kind === 5) return `'green${n}_${j}'`
  if (kind === 6) return `{ x${n}_${j}: 1, y${n}_${j}: 'y' }`
  return FIELD_KINDS[kind]!.literal
}

function kindOf(index: number): ProcedureKind {
  // Per sub-router of 10: 6 queries, 3 mutations, 1 subscription.
  if (index < 6) return 'query'
  if (index < 9) return 'mutation'
  return 'subscription'
}

/** Every procedure of the generated API, in path order. */
export function planProcedures(): PlannedProcedure[] {
  const procedures: PlannedProcedure[] = []
  for (let a = 0; a < ROUTERS; a++) {
    for (let b = 0; b < SUB_ROUTERS; b++) {
      for (let p = 0; p < PROCEDURES; p++) {
        const n = procedures.length
        const fieldCount = 3 + (n % 3)
        const input: InputField[] = []
        for (let j = 0; j < fieldCount; j++) {
          const kind = (n + j * 3) % FIELD_KINDS.length
          input.push({ name: `in${n}_${j}`, schema: FIELD_KINDS[kind]!.schema(n, j), literal: literalFor(kind, n, j) })
        }
        procedures.push({
          n,
          path: [`a${a}`, `b${b}`, `p${p}`],
          kind: kindOf(p),
          input,
          countField: `count${n}`,
          echoField: `echo${n}`,
          dateField: `at${n}`,
        })
      }
    }
  }
  return procedures
}
