import { RpcError, utf8Length, type TraceContext } from '@wirecall/core'
import { clampDelay, unref } from './timers'

/** A call waiting for its answer: what the {@link RequestTable} keeps per id. */
export class PendingCall {
  /** Whether the frame has been written to the current socket. */
  sent = false
  /** UTF-8 size of `frame`, counted against the offline queue's bound; measured when first queued. */
  bytes: number | undefined
  /** When the call times out (`performance.now()` ms), if the table's shared timer is in charge of it; else 0. */
  deadline = 0
  /** The call's own timer, when its timeout differs from the client's default. */
  timer: ReturnType<typeof setTimeout> | undefined
  /** The caller's abort signal and the listener on it, removed when the call settles. */
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined

  /**
   * A mutation made before any server said which mutations are idempotent:
   * its input, kept until it is written, when the connection's `ack` decides
   * whether it carries an idempotency key (and the trace context it was made with).
   */
  undecided: { input: unknown; trace: TraceContext | undefined } | undefined

  constructor(
    readonly id: number,
    /** The encoded message, ready to send (again). */
    public frame: string,
    /**
     * Safe to send again on a new connection when the one it went out on
     * dropped: queries and idempotent mutations. The others reject with
     * `CONNECTION_LOST` instead, since they may have run.
     */
    public retry: boolean,
    /** What the call is, for its timeout message: a procedure path, or `undefined` for `updateParams`. */
    readonly path: string | undefined,
    readonly timeoutMs: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: RpcError) => void,
  ) {}
}

/**
 * The calls of one client by id, from the moment they are made to their
 * answer, across connections. The table is where a call's life ends: it
 * times calls out, cancels them when their signal aborts, and settles each
 * exactly once, in {@link settle} — whether the answer came from the
 * server, a timeout, an abort, a lost connection or the client closing. An
 * answer for an id that is no longer here (cancelled, timed out) is
 * dropped.
 *
 * Timeouts run from the moment a call is made, whatever happens to
 * connections meanwhile. The many calls on the client's default timeout
 * share one timer armed for the earliest deadline: a timer per call would
 * be armed and cleared tens of thousands of times a second on a busy
 * connection. A call with its own `timeoutMs` gets its own timer.
 *
 * Also keeps the count and bytes of calls not yet written, which the client
 * bounds: the offline queue.
 */
export class RequestTable {
  private readonly calls = new Map<number, PendingCall>()
  /** Calls not yet written, oldest first: written from the front, so writing k of them costs k steps however many wait. */
  private unsentCalls = new Set<PendingCall>()
  private unsentBytes = 0
  /** The one timer for every call on the default timeout; armed for the earliest deadline. */
  private declare deadlineTimer: ReturnType<typeof setTimeout> | undefined

  /**
   * @param defaultTimeoutMs the client's `timeoutMs`.
   * @param cancelled called for a call settled locally (timeout, abort) after it was written, so the server is told to stop it.
   */
  private declare readonly defaultTimeoutMs: number

  constructor(
    defaultTimeoutMs: number,
    private readonly cancelled: (call: PendingCall) => void,
  ) {
    // Clamped as each call's is, so that calls on the default still share the timer when it is Infinity.
    this.defaultTimeoutMs = clampDelay(defaultTimeoutMs)
  }

  get size(): number {
    return this.calls.size
  }

  /** Calls waiting to be written. */
  get queuedCalls(): number {
    return this.unsentCalls.size
  }

  /** Calls written on the current socket and not answered yet (`reinit`s included): what the server counts as in flight, or more. */
  get inFlight(): number {
    return this.calls.size - this.unsentCalls.size
  }

  /** UTF-8 bytes of the calls waiting to be written. */
  get queuedBytes(): number {
    return this.unsentBytes
  }

  /**
   * Makes a call and starts its clock: it times out `timeoutMs` from now
   * (`undefined`: the client's default) and is cancelled when `signal`
   * aborts. `bytes` is its size when it goes straight to the queue.
   * `direct`: the caller writes it at once ({@link markSent}), so it is
   * never queued, and its size is never measured.
   */
  add(
    id: number,
    frame: string,
    retry: boolean,
    path: string | undefined,
    options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } | undefined,
    bytes: number | undefined,
    direct = false,
  ): Promise<unknown> {
    const timeoutMs = clampDelay(options?.timeoutMs ?? this.defaultTimeoutMs)
    let call!: PendingCall
    const promise = new Promise<unknown>((resolve, reject) => {
      call = new PendingCall(id, frame, retry, path, timeoutMs, resolve, reject)
    })
    call.bytes = bytes
    if (timeoutMs === this.defaultTimeoutMs) {
      call.deadline = performance.now() + timeoutMs
      if (this.deadlineTimer === undefined) this.armDeadlines(timeoutMs)
    } else {
      call.timer = setTimeout(() => this.cancelCall(id, timeoutError(call)), timeoutMs)
      unref(call.timer)
    }
    const signal = options?.signal
    if (signal !== undefined) {
      call.signal = signal
      call.onAbort = () => this.cancelCall(id, abortError(signal))
      signal.addEventListener('abort', call.onAbort, { once: true })
    }
    this.calls.set(id, call)
    if (!direct) this.enqueue(call)
    return promise
  }

  /** The call with this id, if it is still waiting. */
  get(id: number): PendingCall | undefined {
    return this.calls.get(id)
  }

  /**
   * Ends a call: with `error`, or with `value`. The one place a call's
   * promise settles; a call already gone is left alone, so this is safe to
   * call from every path that may race (an answer, a timeout, an abort).
   */
  settle(call: PendingCall, error: RpcError | undefined, value?: unknown): void {
    if (this.calls.get(call.id) !== call) return
    this.calls.delete(call.id)
    if (!call.sent) this.dequeue(call)
    if (call.timer !== undefined) clearTimeout(call.timer)
    if (call.onAbort !== undefined) call.signal!.removeEventListener('abort', call.onAbort)
    if (error === undefined) call.resolve(value)
    else call.reject(error)
  }

  /** Settles a call locally (timeout, abort) and has the server told to stop it, if it was written. */
  cancelCall(id: number, error: RpcError): void {
    const call = this.calls.get(id)
    if (call === undefined) return
    if (call.sent) this.cancelled(call)
    this.settle(call, error)
  }

  /** Records that the call went out on the current socket. */
  markSent(call: PendingCall): void {
    if (call.sent) return
    call.sent = true
    this.dequeue(call)
  }

  /** Calls not yet written to the socket, oldest first; a call may be marked sent (or settled) while this is walked. */
  unsent(): Iterable<PendingCall> {
    return this.unsentCalls
  }

  /**
   * The socket the written calls went out on is gone. Those that may be
   * sent again go back to the queue; the others reject with `error`.
   */
  connectionLost(error: RpcError): void {
    const lost: PendingCall[] = []
    const waiting = this.unsentCalls
    // The calls written before are older than those still waiting: they go first again.
    this.unsentCalls = new Set()
    for (const call of this.calls.values()) {
      if (!call.sent) continue
      if (call.retry) {
        call.sent = false
        this.enqueue(call)
      } else {
        lost.push(call)
      }
    }
    for (const call of waiting) this.unsentCalls.add(call)
    for (const call of lost) this.settle(call, error)
  }

  /** Settles every call with `error` and stops the shared timer: the client is closed. */
  rejectAll(error: RpcError): void {
    clearTimeout(this.deadlineTimer)
    this.deadlineTimer = undefined
    for (const call of [...this.calls.values()]) this.settle(call, error)
  }

  /** Arms the shared call timer to fire in `delayMs`. */
  private armDeadlines(delayMs: number): void {
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, delayMs))
    unref(this.deadlineTimer)
  }

  /**
   * The shared timer fired: times out every call past its deadline, then
   * waits for the next one. Those calls all have the same timeout, so they
   * expire in the order they were made: the walk stops at the first one
   * still in time.
   */
  private expire(): void {
    this.deadlineTimer = undefined
    const now = performance.now()
    const expired: PendingCall[] = []
    let next: number | undefined
    for (const call of this.calls.values()) {
      if (call.deadline === 0) continue
      if (call.deadline > now) {
        next = call.deadline
        break
      }
      expired.push(call)
    }
    for (const call of expired) this.cancelCall(call.id, timeoutError(call))
    if (next !== undefined && this.deadlineTimer === undefined) this.armDeadlines(next - now)
  }

  private enqueue(call: PendingCall): void {
    this.unsentCalls.add(call)
    this.unsentBytes += call.bytes ??= utf8Length(call.frame)
  }

  private dequeue(call: PendingCall): void {
    // A call written at once was never queued.
    if (this.unsentCalls.delete(call)) this.unsentBytes -= call.bytes!
  }
}

function timeoutError(call: PendingCall): RpcError {
  const what = call.path === undefined ? 'updateParams' : `"${call.path}"`
  return new RpcError('TIMEOUT', `${what} timed out after ${call.timeoutMs} ms`)
}

/** What a call whose signal aborted rejects with. */
export function abortError(signal: AbortSignal): RpcError {
  return new RpcError('CANCELLED', 'The call was aborted', { cause: signal.reason })
}
