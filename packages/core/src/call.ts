import { RpcError } from './errors'
import type { AnyProcedure, MiddlewareResult, ProcedureDef, ProcedureStep } from './procedure'
import { check } from './schema'

/** What {@link callProcedure} needs. */
export interface CallProcedureOptions {
  procedure: AnyProcedure
  path: string
  ctx: object
  /** The deserialized input as the client sent it; validated here. */
  input: unknown
  /** Handed to middleware and the resolver; a step that starts after it aborted throws `CANCELLED`. */
  signal: AbortSignal | LazyAbort
  /** For subscriptions: the id the client is resuming from. */
  lastEventId?: string | undefined
  /** For idempotent mutations: the key the client sent. */
  idempotencyKey?: string | undefined
  /** The connection's client, for its client procedures (`peer.ui.confirm.call()`); without one, every call rejects `NOT_IMPLEMENTED`. */
  peer?: object | undefined
}

/**
 * An abort signal made only when someone asks for it. Most calls finish
 * without their resolver ever looking at `signal`, and an
 * `AbortController` is one of the costlier objects a call would otherwise
 * make; this keeps the abort state, and creates the real controller (already
 * aborted, if it is) the first time `signal` is read.
 */
export class LazyAbort {
  private controller: AbortController | undefined
  private why: unknown
  private listeners: (() => void)[] | undefined
  /** True once {@link abort} was called. */
  aborted = false

  /** Calls `listener` once it is aborted (at once if it is), without making the `AbortSignal`. */
  onAbort(listener: () => void): void {
    if (this.aborted) return listener()
    ;(this.listeners ??= []).push(listener)
  }

  /** The `AbortSignal`, created on first use. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController()
      if (this.aborted) this.controller.abort(this.why)
    }
    return this.controller.signal
  }

  /** Aborts with `reason`; later calls do nothing. */
  abort(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.why = reason
    this.controller?.abort(reason)
    const listeners = this.listeners
    this.listeners = undefined
    if (listeners !== undefined) for (const listener of listeners) listener()
  }
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
  return startProcedure(options)
}

/**
 * {@link callProcedure} without a promise where none is needed: when every
 * schema and the resolver are synchronous, returns the output itself (and
 * throws what they throw); otherwise a promise of it. A sequential call's
 * answer then leaves in the turn its frame arrived, without the microtask
 * hops of three `await`s.
 */
export function startProcedure(options: CallProcedureOptions): unknown {
  const def = options.procedure._def
  // Middleware before the first `.input()` sees the input as sent; a procedure with no input schema gets
  // `undefined` whatever was sent, so unchecked data never reaches its middleware or resolver.
  if (!onlyInputs(def.steps)) {
    return runChain(def, options, 0, options.ctx, def.steps.some((s) => s.kind === 'input') ? options.input : undefined).then((result) => checkOutput(def, result.data))
  }
  const data = runInputsAndResolver(def, options, 0, undefined)
  return isThenable(data) ? Promise.resolve(data).then((value) => checkOutput(def, value)) : checkOutput(def, data)
}

function checkOutput(def: ProcedureDef, data: unknown): unknown {
  return def.type !== 'subscription' && def.output !== undefined ? check(def.output, data, 'output') : data
}

/** True for a promise or any other thenable (what `await` would wait for). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

/**
 * The common chain, with no middleware: validation from step `from`, then
 * the resolver, without a promise per step: a synchronous schema is checked
 * at once, and only an asynchronous one makes the rest wait.
 */
function runInputsAndResolver(def: ProcedureDef, options: CallProcedureOptions, from: number, merged: unknown): unknown {
  let input = merged
  const steps = def.steps
  for (let i = from; i < steps.length; i++) {
    throwIfAborted(options.signal)
    const parsed = check((steps[i] as Extract<ProcedureStep, { kind: 'input' }>).schema, options.input, 'input')
    if (parsed instanceof Promise) {
      return parsed.then((value) => runInputsAndResolver(def, options, i + 1, i === 0 ? value : mergeInputs(input, value, options.path)))
    }
    input = i === 0 ? parsed : mergeInputs(input, parsed, options.path)
  }
  throwIfAborted(options.signal)
  return def.resolver(resolverOptions(options, options.ctx, input))
}

/** The chain with middleware: each step runs the next through `next()`. */
async function runChain(def: ProcedureDef, options: CallProcedureOptions, index: number, ctx: object, input: unknown): Promise<MiddlewareResult<object>> {
  throwIfAborted(options.signal)
  const step = def.steps[index]
  if (step === undefined) return { ok: true, data: await def.resolver(resolverOptions(options, ctx, input)) }
  if (step.kind === 'input') {
    // Every input schema sees what the client sent; later ones are merged
    // over earlier ones, so a base procedure can declare shared fields.
    const parsed = await check(step.schema, options.input, 'input')
    const first = def.steps.findIndex((s) => s.kind === 'input') === index
    return runChain(def, options, index + 1, ctx, first ? parsed : mergeInputs(input, parsed, options.path))
  }
  const next = (opts?: { ctx?: object }) => {
    const extension = opts?.ctx
    return runChain(def, options, index + 1, extension === undefined ? ctx : { ...ctx, ...extension }, input)
  }
  const source = options.signal
  const result = await step.fn({
    ctx,
    input,
    path: options.path,
    type: def.type,
    meta: def.meta,
    get signal() {
      return signalOf(source)
    },
    next,
  })
  if (typeof result !== 'object' || result === null || result.ok !== true) {
    throw new RpcError('INTERNAL', `middleware on "${options.path}" did not return the result of next()`)
  }
  return result
}

/** What the resolver receives; `signal` is made only if the resolver reads it. */
function resolverOptions(options: CallProcedureOptions, ctx: object, input: unknown) {
  const source = options.signal
  return {
    ctx,
    input,
    get signal() {
      return signalOf(source)
    },
    path: options.path,
    lastEventId: options.lastEventId,
    idempotencyKey: options.idempotencyKey,
    peer: options.peer ?? NO_PEER,
  }
}

/** The `peer` of a call with no connection behind it (`createCaller`): every client procedure answers `NOT_IMPLEMENTED`. */
const NO_PEER: object = /* @__PURE__ */ peerProxy(() => Promise.reject(new RpcError('NOT_IMPLEMENTED', 'No client is connected to call')))

/**
 * A `peer` object: any dotted path, ending in `.call(input, options)`,
 * goes to `call(path, input, options)`. A proxy, because the paths are the
 * client router's, known to the types only.
 */
export function peerProxy(call: (path: string, input: unknown, options: unknown) => Promise<unknown>): object {
  const at = (path: string): object =>
    new Proxy(function () {}, {
      get: (_target, key) => {
        if (typeof key !== 'string' || key === 'then') return undefined
        if (key === 'call' && path !== '') return (input?: unknown, options?: unknown) => call(path, input, options)
        return at(path === '' ? key : `${path}.${key}`)
      },
    })
  return at('')
}

function signalOf(source: AbortSignal | LazyAbort): AbortSignal {
  return source instanceof LazyAbort ? source.signal : source
}

function throwIfAborted(source: AbortSignal | LazyAbort): void {
  if (source.aborted) throw new RpcError('CANCELLED', 'The call was cancelled')
}

/** True when the chain is input schemas only (or nothing): the fast path applies. */
function onlyInputs(steps: readonly ProcedureStep[]): boolean {
  for (let i = 0; i < steps.length; i++) if (steps[i]!.kind !== 'input') return false
  return true
}

/** Merges the outputs of two input schemas; only objects merge. */
function mergeInputs(previous: unknown, next: unknown, path: string): unknown {
  if (isObject(previous) && isObject(next)) return { ...previous, ...next }
  throw new RpcError('INTERNAL', `"${path}" declares several inputs that are not all objects, so they cannot be merged`)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
