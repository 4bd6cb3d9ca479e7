import type { StandardSchemaV1 } from '@standard-schema/spec'
import { RpcError } from './errors'

export type { StandardSchemaV1 }

/** Any Standard Schema v1 validator (zod, valibot, arktype, ...). */
export type AnySchema = StandardSchemaV1<any, any>

/** What a schema accepts. */
export type inferSchemaInput<S> = S extends StandardSchemaV1<infer I, any> ? I : never
/** What a schema produces after validation (and transforms). */
export type inferSchemaOutput<S> = S extends StandardSchemaV1<any, infer O> ? O : never

/**
 * The same types as `inferSchemaInput` / `inferSchemaOutput`, for the
 * builder, which needs them for every procedure (not exported from the
 * package). Read from `~standard.types`, where the spec (and its own
 * `InferInput`) puts them and every validator declares them: an indexed
 * access costs the compiler a fraction of matching the whole schema against
 * `StandardSchemaV1<infer I, infer O>`. A schema with no `types` member (a
 * hand-written validator) or an `any` schema reads as `unknown` there and
 * takes the inference route as before, so neither turns into `any`. (Only a
 * schema declaring `types: undefined` outright differs: `never`.)
 */
export type SchemaInputOf<S extends AnySchema> = unknown extends S['~standard']['types']
  ? inferSchemaInput<S>
  : NonNullable<S['~standard']['types']>['input']
/** See {@link SchemaInputOf}. */
export type SchemaOutputOf<S extends AnySchema> = unknown extends S['~standard']['types']
  ? inferSchemaOutput<S>
  : NonNullable<S['~standard']['types']>['output']

/** True for a Standard Schema v1 validator (what `.input()`, `.output()` and `stream()` take). */
export function isStandardSchema(value: unknown): value is AnySchema {
  const std = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.['~standard']
  return std !== undefined && std !== null && std.version === 1 && typeof std.validate === 'function'
}

/**
 * One validation problem as it travels in `RpcError.data.issues`: JSON-plain
 * whatever the validator produced.
 */
export interface ValidationIssue {
  message: string
  path: (string | number)[]
}

/** `RpcError.data` of a `BAD_REQUEST` from a failed input schema. */
export interface ValidationErrorData {
  issues: ValidationIssue[]
}

/**
 * Runs a Standard Schema and returns the validated (possibly transformed)
 * value, or throws `BAD_REQUEST` (input) / `INTERNAL` (output) with the
 * issues in `data`.
 */
export async function validate(schema: AnySchema, value: unknown, what: 'input' | 'output' = 'input'): Promise<unknown> {
  return check(schema, value, what)
}

/**
 * {@link validate} without the promise when the schema answers at once,
 * as most do: the value, or a promise of it from an async schema. Throws
 * (synchronously, for a synchronous schema) what `validate` rejects with.
 */
export function check(schema: AnySchema, value: unknown, what: 'input' | 'output'): unknown {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) return result.then((settled) => outcome(settled, what))
  return outcome(result, what)
}

function outcome(result: StandardSchemaV1.Result<unknown>, what: 'input' | 'output'): unknown {
  if (result.issues === undefined) return result.value
  const issues = result.issues.map(toIssue)
  if (what === 'input') {
    throw new RpcError('BAD_REQUEST', `Invalid input: ${summarize(issues)}`, { data: { issues } satisfies ValidationErrorData })
  }
  // Output validation failures are the server's bug: hide the details from
  // the caller but keep them for onError.
  throw new RpcError('INTERNAL', 'Output validation failed', { cause: new OutputValidationError(issues) })
}

/** The `cause` of an `INTERNAL` error from a failed output schema. */
export class OutputValidationError extends Error {
  override readonly name = 'OutputValidationError'
  constructor(readonly issues: ValidationIssue[]) {
    super(`Invalid output: ${summarize(issues)}`)
  }
}

function toIssue(issue: StandardSchemaV1.Issue): ValidationIssue {
  const path: (string | number)[] = []
  for (const segment of issue.path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment
    path.push(typeof key === 'number' ? key : String(key))
  }
  return { message: String(issue.message), path }
}

function summarize(issues: ValidationIssue[]): string {
  const first = issues[0]
  if (first === undefined) return 'unknown problem'
  const where = first.path.length > 0 ? `${first.path.join('.')}: ` : ''
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return `${where}${first.message}${more}`
}
