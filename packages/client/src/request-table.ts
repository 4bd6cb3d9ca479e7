import type { RpcError } from '@wirecall/core'

/**
 * A call waiting for its answer. Its timeout is either its own timer, or,
 * for the many calls that use the client's default timeout, a `deadline`
 * watched by one timer for the whole table (see {@link RequestTable.expired}):
 * a timer per call would be armed and cleared tens of thousands of times a
 * second on a busy connection.
 */
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

  constructor(
    readonly id: number,
    /** The encoded message, ready to send (again). */
    readonly frame: string,
    /**
     * Safe to send again on a new connection when the one it went out on
     * dropped: queries and idempotent mutations. The others reject with
     * `CONNECTION_LOST` instead, since they may have run.
     */
    readonly retry: boolean,
    /** What the call is, for its timeout message: a procedure path, or `undefined` for `updateParams`. */
    readonly path: string | undefined,
    readonly timeoutMs: number,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: RpcError) => void,
  ) {}

  /** Releases the call's timer and abort listener. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.onAbort !== undefined) this.signal!.removeEventListener('abort', this.onAbort)
  }
}

/**
 * Calls in flight by id. Each call leaves the table exactly once, through
 * {@link take} (or a bulk rejection); whoever takes it settles it. An answer
 * for an id that is no longer here (cancelled, timed out) is dropped.
 *
 * Also keeps the count and bytes of calls not yet written, which the client
 * bounds: the offline queue.
 */
export class RequestTable {
  private readonly calls = new Map<number, PendingCall>()
  private unsentCount = 0
  private unsentBytes = 0

  get size(): number {
    return this.calls.size
  }

  /** Calls waiting to be written. */
  get queuedCalls(): number {
    return this.unsentCount
  }

  /** UTF-8 bytes of the calls waiting to be written. */
  get queuedBytes(): number {
    return this.unsentBytes
  }

  add(call: PendingCall): void {
    this.calls.set(call.id, call)
    if (!call.sent) this.count(call, 1)
  }

  /** Records that the call went out on the current socket. */
  markSent(call: PendingCall): void {
    if (call.sent) return
    call.sent = true
    this.count(call, -1)
  }

  /** Removes and returns the call, or `undefined` if it already left. */
  take(id: number): PendingCall | undefined {
    const call = this.calls.get(id)
    if (call === undefined) return undefined
    this.calls.delete(id)
    if (!call.sent) this.count(call, -1)
    call.dispose()
    return call
  }

  /**
   * Calls under the shared timer whose deadline is past `now`, and the
   * earliest deadline still ahead (or `undefined`). Those calls all have the
   * same timeout, so they expire in the order they were made: the walk stops
   * at the first one still in time.
   */
  expired(now: number): { calls: PendingCall[]; next: number | undefined } {
    const calls: PendingCall[] = []
    for (const call of this.calls.values()) {
      if (call.deadline === 0) continue
      if (call.deadline > now) return { calls, next: call.deadline }
      calls.push(call)
    }
    return { calls, next: undefined }
  }

  /** Calls not yet written to the socket, oldest first. */
  unsent(): PendingCall[] {
    const out: PendingCall[] = []
    for (const call of this.calls.values()) if (!call.sent) out.push(call)
    return out
  }

  /**
   * The socket the written calls went out on is gone. Those that may be
   * sent again go back to the queue; the others leave the table and are
   * returned, for the caller to reject.
   */
  connectionLost(): PendingCall[] {
    const lost: PendingCall[] = []
    for (const call of this.calls.values()) {
      if (!call.sent) continue
      if (call.retry) {
        call.sent = false
        this.count(call, 1)
      } else {
        lost.push(call)
      }
    }
    for (const call of lost) this.take(call.id)
    return lost
  }

  /** Removes every call and rejects each with `error`. */
  rejectAll(error: RpcError): void {
    const calls = [...this.calls.values()]
    this.calls.clear()
    this.unsentCount = this.unsentBytes = 0
    for (const call of calls) {
      call.dispose()
      call.reject(error)
    }
  }

  private count(call: PendingCall, sign: 1 | -1): void {
    this.unsentCount += sign
    this.unsentBytes += sign * (call.bytes ??= utf8Length(call.frame))
  }
}

/** UTF-8 length of a string without encoding it. */
export function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) bytes += 1
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 2 // a surrogate pair: 4 bytes for its 2 units
      i++
    } else bytes += 2
  }
  return bytes
}
