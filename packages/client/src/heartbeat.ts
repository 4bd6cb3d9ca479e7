import type { KeepAliveOptions } from '@wirecall/core'
import { unref } from './timers'

/**
 * Watches one connection for silence. Every frame received calls
 * {@link heard}, which only stores a timestamp: the single timer looks at it
 * when it fires, so a busy connection costs no timer work per message.
 *
 * The client's keep-alive, with application-level pings (browsers cannot
 * see ping frames); the server watches all its sockets with one sweep
 * instead. Its timer never keeps a Node process alive.
 */
export class Heartbeat {
  private lastHeard = Date.now()
  private declare pingSentAt: number | undefined
  private declare timer: ReturnType<typeof setTimeout> | undefined
  private declare readonly intervalMs: number
  private declare readonly timeoutMs: number

  constructor(
    options: Required<KeepAliveOptions>,
    private readonly ping: () => void,
    private readonly dead: () => void,
  ) {
    this.intervalMs = Math.max(1, options.intervalMs)
    this.timeoutMs = Math.max(1, options.timeoutMs)
    this.arm(this.intervalMs)
  }

  /** Milliseconds since the outstanding ping was sent, or `undefined` when none is outstanding. */
  get waitingMs(): number | undefined {
    return this.pingSentAt === undefined ? undefined : Date.now() - this.pingSentAt
  }

  /** Something arrived: the peer is alive. */
  heard(): void {
    this.lastHeard = Date.now()
    this.pingSentAt = undefined
  }

  /** Pings now (unless a ping is already out) and expects an answer within `timeoutMs`. */
  probe(): void {
    if (this.timer === undefined || this.pingSentAt !== undefined) return
    this.sendPing(Date.now())
  }

  /** Stops watching; idempotent. */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private check(): void {
    this.timer = undefined
    const now = Date.now()
    if (this.pingSentAt !== undefined) {
      const waited = now - this.pingSentAt
      if (waited >= this.timeoutMs) return this.dead()
      return this.arm(this.timeoutMs - waited)
    }
    const quiet = now - this.lastHeard
    if (quiet < this.intervalMs) return this.arm(this.intervalMs - quiet)
    this.sendPing(now)
  }

  private sendPing(now: number): void {
    this.pingSentAt = now
    this.arm(this.timeoutMs)
    this.ping()
  }

  private arm(ms: number): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.check(), ms)
    unref(this.timer)
  }
}
