import { assertNever, type ClientMessage } from '@wirecall/core'
import type { RateLimitOptions } from '../options'

/** What the rate limit says of one message. */
export type Verdict = 'accept' | 'refuse' | 'flood'

/** How much slower than `messagesPerSecond` the count of refused messages drains. */
const FLOOD_DRAIN_DIVISOR = 10

/**
 * A session's rate limit: two token buckets refilled continuously from one
 * clock, computed when tokens are asked for (an idle session costs
 * nothing), each capped at its burst however long the session was idle.
 *
 * - Messages: one token per message, `messagesPerSecond` sustained,
 *   `burst` at once. A message with no token is refused.
 * - Bytes: a frame's length, `bytesPerSecond` sustained, `burstBytes` at
 *   once. A frame with too few waits (see `Session.receive`) before it is
 *   parsed: the peer is slowed, not refused, and its parsing cannot take
 *   more than its share of the event loop.
 *
 * A flood is told by a count of refused messages that each refusal raises
 * by one and that drains at a tenth of `messagesPerSecond`: accepted
 * messages do not reset it, so a peer that keeps sending faster than its
 * refill is closed, while one burst a little over the limit is not. What
 * each verdict means for each message type is the session's decision (see
 * `Session.admit`).
 */
export class RateLimiter {
  private tokens: number
  private byteTokens: number
  private refused = 0
  private last = performance.now()
  private readonly perSecond: number
  private readonly burst: number
  private readonly bytesPerSecond: number
  /** The byte bucket's size: never below the largest frame, which must be able to pass. */
  readonly burstBytes: number

  constructor(options: Required<RateLimitOptions>, maxPayload: number) {
    this.perSecond = options.messagesPerSecond
    this.burst = options.burst
    this.bytesPerSecond = options.bytesPerSecond
    this.burstBytes = Math.max(options.burstBytes, maxPayload)
    this.tokens = this.burst
    this.byteTokens = this.burstBytes
  }

  /** Takes a token for one message. */
  take(): Verdict {
    this.refill()
    if (this.tokens >= 1) {
      this.tokens--
      return 'accept'
    }
    return ++this.refused > this.burst ? 'flood' : 'refuse'
  }

  /** Takes `length` byte tokens for a frame; false (taking none) when the bucket holds fewer. `now`: the caller's `performance.now()`, if it has one. */
  takeBytes(length: number, now = performance.now()): boolean {
    this.refill(now)
    if (this.byteTokens < length) return false
    this.byteTokens -= length
    return true
  }

  /** Milliseconds until the byte bucket holds `length` tokens, at least 1. */
  bytesWait(length: number): number {
    this.refill()
    return Math.max(1, Math.ceil(((length - this.byteTokens) * 1_000) / this.bytesPerSecond))
  }

  private refill(now = performance.now()): void {
    const elapsed = now - this.last
    if (elapsed <= 0) return
    this.last = now
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1_000)
    this.byteTokens = Math.min(this.burstBytes, this.byteTokens + (elapsed * this.bytesPerSecond) / 1_000)
    if (this.refused > 0) this.refused = Math.max(0, this.refused - (elapsed * this.perSecond) / 1_000 / FLOOD_DRAIN_DIVISOR)
  }
}

/**
 * Whether a message the rate limit refused is carried out all the same: a
 * `cancel` or `unsubscribe` frees server resources, and `init` starts the
 * session; `chunk`, `end`, `result` and `error` answer what the server
 * asked for (credit it granted, its own calls), so they are bounded by it,
 * and refusing one would break a stream or a call the server made. The
 * others are not: a message with an id is answered `TOO_MANY_REQUESTS`, a
 * ping goes unanswered. Every message counts towards a flood either way.
 */
export function carriedOutWhenRefused(message: ClientMessage): boolean {
  switch (message.type) {
    case 'cancel':
    case 'unsubscribe':
    case 'init':
    case 'chunk':
    case 'end':
    case 'result':
    case 'error':
      return true
    case 'call':
    case 'subscribe':
    case 'reinit':
    case 'ping':
    case 'pong':
      return false
    default:
      return assertNever(message)
  }
}
