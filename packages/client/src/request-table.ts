import type { RpcError } from '@wirecall/core'

/** A call waiting for its answer. */
export interface PendingCall {
  readonly id: number
  /** The encoded `call` message, ready to send (again). */
  readonly frame: string
  /** Whether the frame has been written to the current socket. */
  sent: boolean
  resolve(value: unknown): void
  reject(error: RpcError): void
  /** Releases the call's timer and abort listener. */
  dispose(): void
}

/**
 * Calls in flight by id. Each call leaves the table exactly once, through
 * {@link take}; whoever takes it settles it. An answer for an id that is no
 * longer here (cancelled, timed out) is dropped by the caller.
 */
export class RequestTable {
  private readonly calls = new Map<number, PendingCall>()

  get size(): number {
    return this.calls.size
  }

  add(call: PendingCall): void {
    this.calls.set(call.id, call)
  }

  /** Removes and returns the call, or `undefined` if it already left. */
  take(id: number): PendingCall | undefined {
    const call = this.calls.get(id)
    if (call === undefined) return undefined
    this.calls.delete(id)
    call.dispose()
    return call
  }

  /** Calls not yet written to the socket, oldest first. */
  unsent(): PendingCall[] {
    const out: PendingCall[] = []
    for (const call of this.calls.values()) if (!call.sent) out.push(call)
    return out
  }

  /** Removes every call and rejects each with `error`. */
  rejectAll(error: RpcError): void {
    const calls = [...this.calls.values()]
    this.calls.clear()
    for (const call of calls) {
      call.dispose()
      call.reject(error)
    }
  }
}
