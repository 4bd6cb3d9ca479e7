import { INCOMING_STREAM, RpcError, creditFrame, invalidChunk, validate, type AnySchema, type ChunkMessage } from '@wirecall/core'
import { unrefTimer } from './unref'

/** Longest delay `setTimeout` honours. */
const MAX_TIMER_MS = 2_147_483_647

/** The bounds of one client stream, every one set: the procedure's `stream(schema, options)` over the server's `streams` option. */
export interface StreamLimits {
  window: number
  maxChunks: number
  maxBytes: number
  maxDurationMs: number
}

/** What an {@link IncomingStream} needs from the call or subscription it is the input of. */
export interface StreamOwner {
  /** Writes a frame (a `credit`) to the client. */
  send(frame: string): void
  /** Decodes a chunk's payload as an input is decoded (payload bounds, serializer); throws `BAD_REQUEST`. */
  decode(data: unknown, meta: unknown): unknown
  /** The stream failed on its own (a bad chunk, a limit): the call or subscription ends with `error`, sent at once. */
  fail(error: RpcError): void
  /** The stream is gone: its id leaves the session's table. Called exactly once. */
  released(stream: IncomingStream): void
}

/**
 * One client stream as the resolver reads it: an `AsyncIterable` of
 * validated chunks. Chunks wait here, at most `window` of them (the credit
 * the server granted); each is decoded and validated when the resolver
 * pulls it, so a slow resolver pays for validation at its own pace and an
 * asynchronous schema keeps the order. Credit goes back to the client in
 * batches: once the resolver has taken half the window (at least one),
 * that many more are granted.
 *
 * Ownership: the owner (a call or subscription) ends the stream with
 * {@link abort} (cancel, connection lost, its answer); the stream ends its
 * owner with `fail` (an invalid chunk, `maxChunks`, `maxBytes`,
 * `maxDurationMs`). Either way the iterator then throws that error, what was
 * buffered is dropped, and later chunks for the id are ignored.
 */
export class IncomingStream implements AsyncIterable<unknown>, AsyncIterator<unknown> {
  readonly [INCOMING_STREAM] = true
  private readonly buffer: ChunkMessage[] = []
  /** Chunks the client may still send: granted and not yet received. */
  private credit: number
  /** Chunks the resolver took since credit was last granted. */
  private consumed = 0
  private received = 0
  private bytes = 0
  /** Index of the next chunk the resolver takes, for the error message of an invalid one. */
  private index = 0
  /** The client sent `end`, or the stream stopped: no more chunks are taken. */
  private ended = false
  /** The iterator returned `done`. */
  private done = false
  /** Out of the session's table. */
  private released = false
  /** Why the stream stopped, once it has: what the iterator throws. */
  private failure: RpcError | undefined
  private waiter: { resolve: (result: IteratorResult<unknown>) => void; reject: (error: unknown) => void } | undefined
  private readonly timer: ReturnType<typeof setTimeout>

  constructor(
    readonly id: number,
    private readonly chunk: AnySchema,
    private readonly limits: StreamLimits,
    private readonly owner: StreamOwner,
  ) {
    this.credit = limits.window
    this.timer = setTimeout(() => this.fail(new RpcError('TIMEOUT', `The stream did not end within ${limits.maxDurationMs} ms`)), Math.min(limits.maxDurationMs, MAX_TIMER_MS))
    unrefTimer(this.timer)
    owner.send(creditFrame(id, limits.window))
  }

  /** A chunk arrived. False when it was beyond the credit granted: a protocol violation, which the session answers by closing. */
  push(message: ChunkMessage): boolean {
    if (this.failure !== undefined || this.ended) return true
    if (this.credit <= 0) return false
    this.credit--
    this.received++
    // The chunk's JSON as it came: what `maxBytes` counts, measured on the parsed message (the frame may batch several).
    this.bytes += JSON.stringify(message).length
    const { maxChunks, maxBytes } = this.limits
    if (this.received > maxChunks) return this.fail(new RpcError('PAYLOAD_TOO_LARGE', `A stream may carry at most ${maxChunks} chunks`, { data: { maxChunks } }))
    if (this.bytes > maxBytes) return this.fail(new RpcError('PAYLOAD_TOO_LARGE', `A stream may carry at most ${maxBytes} bytes`, { data: { maxBytes } }))
    this.buffer.push(message)
    this.wake()
    return true
  }

  /** The client sent `end`: the iterator finishes once the buffered chunks are read. */
  end(): void {
    if (this.failure !== undefined || this.ended) return
    this.ended = true
    clearTimeout(this.timer)
    this.wake()
  }

  /** The owner ended (cancelled, connection lost, answered): the iterator throws `reason`, and the stream is gone. Idempotent. */
  abort(reason: RpcError): void {
    if (this.failure === undefined && !this.done) this.stop(reason)
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.done) return Promise.resolve({ done: true, value: undefined })
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.buffer.length > 0) return this.take()
    if (this.ended) return this.finish()
    if (this.waiter !== undefined) return Promise.reject(new RpcError('INTERNAL', 'A stream input is read by one loop at a time'))
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }))
  }

  /** The resolver stopped reading (`break`): nothing more is buffered or granted; the client waits until the call answers. */
  return(): Promise<IteratorResult<unknown>> {
    if (!this.done && this.failure === undefined) this.stop(new RpcError('CANCELLED', 'The resolver stopped reading the stream'))
    this.done = true
    return Promise.resolve({ done: true, value: undefined })
  }

  /** Takes the oldest chunk: returns credit when due, then decodes and validates it. */
  private async take(): Promise<IteratorResult<unknown>> {
    const message = this.buffer.shift()!
    const index = this.index++
    if (++this.consumed >= Math.max(1, this.limits.window >> 1) && !this.ended) {
      this.credit += this.consumed
      this.owner.send(creditFrame(this.id, this.consumed))
      this.consumed = 0
    }
    try {
      const value = await validate(this.chunk, this.owner.decode(message.data, message.meta), 'input')
      if (this.failure !== undefined) throw this.failure
      return { done: false, value }
    } catch (thrown) {
      if (thrown === this.failure) throw thrown
      const error = invalidChunk(index, thrown)
      this.fail(error)
      throw error
    }
  }

  private finish(): Promise<IteratorResult<unknown>> {
    this.done = true
    this.stop(undefined)
    return Promise.resolve({ done: true, value: undefined })
  }

  /** Gives a waiting `next()` what it waited for. */
  private wake(): void {
    const waiter = this.waiter
    if (waiter === undefined) return
    this.waiter = undefined
    ;(this.failure !== undefined ? Promise.reject(this.failure) : this.buffer.length > 0 ? this.take() : this.finish()).then(waiter.resolve, waiter.reject)
  }

  /** The stream failed on its own: the owner ends, telling the client. Returns true: the chunk that caused it was within credit. */
  private fail(error: RpcError): true {
    if (this.failure === undefined) {
      this.stop(error)
      this.owner.fail(error)
    }
    return true
  }

  /** Ends the stream: from now on the iterator throws `reason` (`undefined`: it finished), and the stream leaves the table. */
  private stop(reason: RpcError | undefined): void {
    this.failure ??= reason
    this.ended = true
    this.buffer.length = 0
    clearTimeout(this.timer)
    if (reason !== undefined) this.wake()
    if (this.released) return
    this.released = true
    this.owner.released(this)
  }
}
