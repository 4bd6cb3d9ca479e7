import { RpcError } from './errors'
import type { AnyProcedure, MiddlewareResult, ProcedureStep } from './procedure'
import { validate } from './schema'

/** What {@link callProcedure} needs. */
export interface CallProcedureOptions {
  procedure: AnyProcedure
  path: string
  ctx: object
  /** The deserialized input as the client sent it; validated here. */
  input: unknown
  signal: AbortSignal
  /** For subscriptions: the id the client is resuming from. */
  lastEventId?: string | undefined
  /** For idempotent mutations: the key the client sent. */
  idempotencyKey?: string | undefined
}

/**
 * Runs a procedure's chain — middleware and input validation in declaration
 * order; with several `.input()` steps each validates the raw input and the
 * results are merged — then its resolver, then output validation (queries and mutations;
 * subscriptions validate each event where they are pulled). Returns what the
 * resolver returned (for a subscription: its `AsyncIterable`). Throws what
 * the chain throws; the caller normalises it with `RpcError.from`.
 *
 * This is transport-free: the server adapter calls it, and so can tests.
 */
export async function callProcedure(options: CallProcedureOptions): Promise<unknown> {
  const { procedure, path, signal } = options
  const def = procedure._def
  const steps = def.steps

  const firstInput = steps.findIndex((s) => s.kind === 'input')
  const raw = options.input

  const run = async (index: number, ctx: object, input: unknown): Promise<MiddlewareResult<object>> => {
    if (signal.aborted) throw new RpcError('CANCELLED', 'The call was cancelled')
    const step: ProcedureStep | undefined = steps[index]
    if (step === undefined) {
      const data = await def.resolver({ ctx, input, signal, path, lastEventId: options.lastEventId, idempotencyKey: options.idempotencyKey })
      return { ok: true, data }
    }
    if (step.kind === 'input') {
      // Every input schema sees what the client sent; later ones are merged
      // over earlier ones, so a base procedure can declare shared fields.
      const parsed = await validate(step.schema, raw, 'input')
      return run(index + 1, ctx, index === firstInput ? parsed : mergeInputs(input, parsed, path))
    }
    const next = (opts?: { ctx?: object }) => {
      const extension = opts?.ctx
      const nextCtx = extension === undefined ? ctx : { ...ctx, ...extension }
      return run(index + 1, nextCtx, input)
    }
    const result = await step.fn({ ctx, input, path, type: def.type, meta: def.meta, signal, next })
    if (typeof result !== 'object' || result === null || result.ok !== true) {
      throw new RpcError('INTERNAL', `middleware on "${path}" did not return the result of next()`)
    }
    return result
  }

  // A procedure with no input schema gets `undefined` whatever was sent, so
  // unchecked data never reaches its middleware or resolver.
  const { data } = await run(0, options.ctx, firstInput === -1 ? undefined : raw)
  if (def.type !== 'subscription' && def.output !== undefined) return validate(def.output, data, 'output')
  return data
}

/** Merges the outputs of two input schemas; only objects merge. */
function mergeInputs(previous: unknown, next: unknown, path: string): unknown {
  if (isObject(previous) && isObject(next)) return { ...previous, ...next }
  throw new RpcError('INTERNAL', `"${path}" declares several inputs that are not all objects, so they cannot be merged`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
