import {
  LazyAbort,
  RpcError,
  callProcedure,
  isRpcErrorCode,
  isThenable,
  startProcedure,
  encodeFields,
  isRpcError,
  resultFrame,
  stampFrame,
  type AnyProcedure,
  type CallMessage,
  type ReinitMessage,
  type StreamSchema,
} from '@wirecall/core'
import type { CallOutcome, ServerCallEvent } from '../instrumentation'
import { reinit } from './context'
import { outcomeOf, traceOfMessage, type CallResult, type ServerHooks } from './hooks'
import type { Outcome } from './idempotency'
import type { IncomingStream } from './incoming-stream'
import { streamMismatch } from './incoming-streams'
import { isKnown, lookupProcedure } from './lookup'
import { canonicalJsonOfPeerValue, decodeInput } from './payload'
import type { Session } from './session'

/**
 * The calls in flight on one session, by id: admits each call, runs it,
 * answers it once, and cancels it.
 *
 * Ownership: the table owns each call's abort state (a {@link LazyAbort})
 * from admission until its answer is written; an id leaves the table
 * exactly once — answered, cancelled, or aborted with the session — and
 * whoever takes it out is the only one who may answer. A call whose id is
 * no longer here when its resolver finishes (cancelled, closed) sends
 * nothing: nobody is waiting.
 *
 * Idempotent mutations are the exception: their execution belongs to the
 * server-wide {@link IdempotencyCache}, and the table only holds the
 * caller's wait for it.
 */
export class CallTable {
  private readonly running = new Map<number, LazyAbort>()
  /** Waiting for the table to empty; see {@link done}. */
  private doneWaiters: (() => void)[] | undefined

  constructor(private readonly session: Session) {}

  get size(): number {
    return this.running.size
  }

  has(id: number): boolean {
    return this.running.has(id)
  }

  /** Puts `id` in the table with a fresh abort state; the caller must have checked the id is free. */
  hold(id: number): LazyAbort {
    const abort = new LazyAbort()
    this.running.set(id, abort)
    return abort
  }

  /** Takes `id` out if `abort` still holds it; false when it was cancelled or aborted meanwhile (then answer nothing). */
  release(id: number, abort: LazyAbort): boolean {
    if (this.running.get(id) !== abort) return false
    this.forget(id)
    return true
  }

  /** The caller cancelled: the resolver's signal fires and nothing is sent for the id. Unknown ids are ignored. */
  cancel(id: number): void {
    const abort = this.running.get(id)
    if (abort === undefined) return
    this.forget(id)
    abort.abort(new RpcError('CANCELLED', 'The caller cancelled'))
  }

  /** The session is gone: every call is aborted with `reason` and the table empties. */
  abortAll(reason: RpcError): void {
    if (this.running.size > 0) {
      const aborts = [...this.running.values()]
      this.running.clear()
      for (const abort of aborts) abort.abort(reason)
    }
    this.notifyDone()
  }

  /** Resolves when no call is in flight. */
  done(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve()
    return new Promise((resolve) => (this.doneWaiters ??= []).push(resolve))
  }

  /** Runs one call to its answer, through the server's instrumentation if it has some. Never rejects; a promise only while the call runs on. */
  call(message: CallMessage): unknown {
    const hooks = this.session.config.instrumentation
    return hooks?.wrapsCalls !== true ? this.run(message) : this.observe(hooks, this.describe(message), () => Promise.resolve(this.run(message)))
  }

  /** Runs a `reinit` to its answer, as {@link call} runs a call. Never rejects. */
  reinit(message: ReinitMessage): Promise<unknown> {
    const hooks = this.session.config.instrumentation
    return hooks?.wrapsCalls !== true ? reinit(this.session, message) : this.observe(hooks, this.describeReinit(message), () => reinit(this.session, message))
  }

  /** What `onCall` is told of a call (only with instrumentation). */
  describe(message: CallMessage): ServerCallEvent {
    const { config, observed } = this.session
    return {
      connection: observed!.ref,
      id: message.id,
      method: message.method,
      path: message.path,
      known: isKnown(config, message.path, message.method),
      trace: traceOfMessage(message),
      idempotencyKey: message.idempotencyKey,
      readInput: () => decodeInput(config, message.input, message.meta),
    }
  }

  /** What `onCall` is told of a `reinit`: no path, and no input (connection params hold secrets). */
  describeReinit(message: ReinitMessage): ServerCallEvent {
    return {
      connection: this.session.observed!.ref,
      id: message.id,
      method: 'reinit',
      path: undefined,
      known: true,
      trace: traceOfMessage(message),
      idempotencyKey: undefined,
      readInput: () => undefined,
    }
  }

  /**
   * Runs `run` inside the `onCall` wrappers. The wrappers learn the outcome
   * when the answer is written, or as soon as the call is cancelled or its
   * connection closes, even if the resolver goes on ignoring its signal;
   * the session still waits for the resolver itself (it is tracked apart).
   */
  private observe(hooks: ServerHooks, event: ServerCallEvent, run: () => Promise<CallResult>): Promise<unknown> {
    const { session } = this
    const { id } = event
    return hooks.call(session, event, () => {
      const free = !this.running.has(id)
      const settled = run()
      // Only an id this call itself put in the table: another call may hold it (then this one was refused).
      const abort = free ? this.running.get(id) : undefined
      // One promise for the outcome, settled by whichever comes first: the answer, or a cancel or close (the
      // resolver may go on ignoring its signal). Not a race of two promises, and not through `abort.signal`,
      // which would make an AbortController per call: this is the cost of every wrapped call.
      return new Promise<CallOutcome>((resolve) => {
        // `run` never rejects; the session waits for it (tracked) whatever the outcome.
        session.track(settled.then((result) => resolve(outcomeOf(result))))
        abort?.onAbort(() => resolve(outcomeOf(abort)))
      })
    })
  }

  /**
   * Runs one call to its answer; returns how it ended. Never rejects. A
   * call whose schema and resolver are synchronous is answered before this
   * returns, and returns its result itself rather than a promise.
   */
  private run(message: CallMessage): CallResult | Promise<CallResult> {
    const { session } = this
    const { id, path, method } = message
    const inUse = session.refuseIdInUse(id, path, method)
    if (inUse !== undefined) return inUse
    const { config } = session
    if (this.running.size >= config.maxInFlightCalls) {
      const error = new RpcError('TOO_MANY_REQUESTS', `at most ${config.maxInFlightCalls} calls in flight per connection`)
      return session.sendError(id, error, path, method)
    }
    const procedure = lookupProcedure(config, path, method)
    if (procedure instanceof RpcError) return session.sendError(id, procedure, path, method)
    const streamSchema = procedure._def.streamInput
    const mismatch = streamMismatch(path, streamSchema, message.stream === true, message.idempotencyKey)
    if (mismatch !== undefined) return session.sendError(id, mismatch, path, method)
    if (method === 'mutation') {
      if (message.idempotencyKey !== undefined) return this.idempotent(message, procedure)
      if (procedure._def.idempotent === 'required') {
        return session.sendError(id, new RpcError('BAD_REQUEST', `"${path}" requires an idempotencyKey`), path, method)
      }
    }
    const abort = this.hold(id)
    let started: unknown
    try {
      const input = streamSchema === undefined ? decodeInput(config, message.input, message.meta) : this.openStream(message, streamSchema, abort)
      started = startProcedure({ procedure, path, ctx: session.ctx!, input, signal: abort, peer: session.peer })
    } catch (error) {
      return this.failed(message, abort, error)
    }
    if (!isThenable(started)) return this.answer(message, abort, started)
    return Promise.resolve(started).then(
      (data) => this.answer(message, abort, data),
      (error: unknown) => this.failed(message, abort, error),
    )
  }

  /** The resolver returned `data`: answers it, unless the call was cancelled or its connection closed meanwhile. */
  private answer(message: CallMessage, abort: LazyAbort, data: unknown): CallResult {
    const { session } = this
    const { id, path, method } = message
    if (!this.release(id, abort)) return abort
    if (message.stream === true) this.session.incomingStreams().answered(id)
    let frame: string
    try {
      frame = resultFrame(session.config.serializer, id, data)
    } catch (cause) {
      return session.sendError(id, new RpcError('INTERNAL', 'The result could not be serialized', { cause }), path, method)
    }
    session.write(frame)
    return 'ok'
  }

  /** The chain threw `error`: answers it, unless the call was cancelled or its connection closed meanwhile. */
  private failed(message: CallMessage, abort: LazyAbort, error: unknown): CallResult {
    if (!this.release(message.id, abort)) return abort
    if (message.stream === true) this.session.incomingStreams().answered(message.id)
    return this.session.sendError(message.id, error, message.path, message.method)
  }

  /**
   * The call's stream input, whose first credit goes out now: it ends with
   * the call (cancel, connection lost: its iterator throws why), and a
   * stream that fails on its own (a bad chunk, a limit) answers the call
   * with its error at once and aborts the resolver's signal.
   */
  private openStream(message: CallMessage, schema: StreamSchema, abort: LazyAbort): IncomingStream {
    const { id, path, method } = message
    const stream = this.session.incomingStreams().open(id, schema, {
      fail: (error) => {
        if (this.release(id, abort)) this.session.sendError(id, error, path, method)
        abort.abort(error)
      },
    })
    abort.onAbort(() => stream.abort(RpcError.from(abort.signal.reason)))
    return stream
  }

  /**
   * A mutation with an idempotency key. The execution belongs to the
   * server-wide cache, not to this session: when the connection drops, the
   * mutation runs on, so that the client's retry on its next connection
   * joins it (or replays its stored outcome) instead of running it twice.
   * Only an explicit cancel from every caller waiting for it aborts it.
   */
  private async idempotent(message: CallMessage, procedure: AnyProcedure): Promise<CallResult> {
    const { session } = this
    const { id, path } = message
    // By value: the same input with its keys in another order is the same input.
    const fingerprint = canonicalJsonOfPeerValue([message.input ?? null, message.meta ?? null])
    if (fingerprint === undefined) return session.sendError(id, new RpcError('BAD_REQUEST', 'The input could not be fingerprinted'), path, 'mutation')
    const begun = session.config.idempotency.begin(path, message.idempotencyKey!, fingerprint)
    if (begun.kind === 'refused') return session.sendError(id, begun.error, path, 'mutation')
    const { run } = begun
    const waiter = this.hold(id)
    // A cancel from this caller counts against the run; a dropped connection does not.
    // Either way this caller stops waiting, so the session can settle while the run goes on.
    const stoppedWaiting = new Promise<undefined>((resolve) => {
      waiter.signal.addEventListener('abort', () => {
        const reason: unknown = waiter.signal.reason
        if (isRpcError(reason) && reason.code === 'CANCELLED') run.cancel(reason)
        resolve(undefined)
      })
    })
    if (begun.kind === 'new') void this.runOnce(message, procedure, fingerprint, run.signal).then(begun.finish)
    const outcome = await Promise.race([run.outcome, stoppedWaiting])
    if (outcome === undefined || !this.release(id, waiter)) return waiter
    session.write(stampFrame(outcome.kind === 'result' ? 'result' : 'error', id, outcome.fields))
    return outcome.kind === 'result' ? 'ok' : errorOfFields(outcome.fields)
  }

  /**
   * Runs an idempotent mutation this process has not seen, unless the
   * server's store says another process has: then its outcome (waited
   * for while it runs there) is this run's. Never throws.
   */
  private async runOnce(message: CallMessage, procedure: AnyProcedure, fingerprint: string, signal: AbortSignal): Promise<Outcome> {
    const ctx = this.session.ctx!
    const { store, ttlMs } = this.session.config.idempotency
    if (store === undefined) return this.execute(message, procedure, ctx, signal)
    const claim = await store.claim({ path: message.path, key: message.idempotencyKey!, fingerprint, ttlMs, signal })
    if (claim.kind === 'outcome') return claim.outcome
    const outcome = await this.execute(message, procedure, ctx, signal)
    // As in the local cache: every caller cancelled and it failed, so nothing happened worth keeping.
    await (signal.aborted && outcome.kind === 'error' ? claim.abandon() : claim.finish(outcome))
    return outcome
  }

  /** Runs a call to its outcome, encoded once for every caller that joins it; never throws. Errors are reported to `onError` once, here. */
  private async execute(message: CallMessage, procedure: AnyProcedure, ctx: object, signal: AbortSignal): Promise<Outcome> {
    const { session } = this
    const { path, method } = message
    let data: unknown
    try {
      const input = decodeInput(session.config, message.input, message.meta)
      data = await callProcedure({ procedure, path, ctx, input, signal, idempotencyKey: message.idempotencyKey, peer: this.session.peer })
    } catch (thrown) {
      return { kind: 'error', fields: session.errorFields(thrown, path, method) }
    }
    try {
      return { kind: 'result', fields: encodeFields(session.config.serializer, {}, data) }
    } catch (cause) {
      const error = new RpcError('INTERNAL', 'The result could not be serialized', { cause })
      return { kind: 'error', fields: session.errorFields(error, path, method) }
    }
  }

  /** Takes a call out of the table, waking {@link done} when it was the last. */
  private forget(id: number): void {
    this.running.delete(id)
    if (this.running.size === 0) this.notifyDone()
  }

  private notifyDone(): void {
    const waiters = this.doneWaiters
    if (waiters === undefined) return
    this.doneWaiters = undefined
    for (const wake of waiters) wake()
  }
}


/**
 * The error an idempotent mutation's stored outcome sent, for its
 * instrumentation: rebuilt from the encoded fields (the cache keeps what
 * the callers see, not the original error, which may hold much more).
 */
function errorOfFields(fields: string): RpcError {
  try {
    const parsed = JSON.parse(`{${fields.slice(1)}}`) as { code?: unknown; message?: unknown }
    const code = typeof parsed.code === 'string' && isRpcErrorCode(parsed.code) ? parsed.code : 'INTERNAL'
    return new RpcError(code, typeof parsed.message === 'string' ? parsed.message : 'Internal server error')
  } catch {
    return new RpcError('INTERNAL', 'Internal server error')
  }
}
