import { unref } from './timers'

/** What {@link IdleClose} asks of its client. */
export interface IdleClient {
  readonly state: string
  /** Calls in flight or live subscriptions: the connection is in use. */
  readonly busy: boolean
  /** Closes the connection and goes back to `idle`. */
  closeIdle(): void
}

/**
 * Lazy clients only: closes the connection once nothing has used it for
 * `idleMs` — no call in flight, no subscription, nothing sent or received.
 * One timer, re-armed for the rest of the quiet time when it fires early.
 */
export class IdleClose {
  private declare timer: ReturnType<typeof setTimeout> | undefined
  private lastActivity = 0

  constructor(
    private readonly idleMs: number,
    private readonly client: IdleClient,
  ) {}

  /** Something used the connection now. */
  touch(): void {
    this.lastActivity = Date.now()
  }

  /** The connection opened: start watching. */
  arm(): void {
    if (!Number.isFinite(this.idleMs) || this.timer !== undefined) return
    this.schedule(this.idleMs)
  }

  /** The connection is gone, or the client closed. */
  clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => this.check(), delayMs)
    unref(this.timer)
  }

  private check(): void {
    this.timer = undefined
    if (this.client.state !== 'open') return
    const quietMs = Date.now() - this.lastActivity
    const busy = this.client.busy
    if (busy || quietMs < this.idleMs) return this.schedule(busy ? this.idleMs : this.idleMs - quietMs)
    this.client.closeIdle()
  }
}
