import { assertNever, type ClientMessage } from '@wirecall/core'
import type { RateLimitOptions } from '../options'

/** What the rate limit says of one message. */
export type Verdict = 'accept' | 'refuse' | 'flood'

/**
 * A session's message rate limit: a token bucket of `burst` tokens at most,
 * refilled continuously at `messagesPerSecond`; one message costs one
 * token. The refill is computed from the clock when a token is asked for,
 * so an idle session costs nothing.
 *
 * A message with no token is refused; a peer that goes on past another
 * `burst` refused messages in a row is a flood. What each verdict means
 * for each message type is the session's decision (see `Session.admit`).
 */
export class RateLimiter {
  private tokens: number
  private last = performance.now()
  /** Messages refused since the last one accepted. */
  private refusedInARow = 0
  private readonly perSecond: number
  private readonly burst: number

  constructor(options: Required<RateLimitOptions>) {
    this.perSecond = options.messagesPerSecond
    this.burst = options.burst
    this.tokens = this.burst
  }

  /** Takes a token for one message. */
  take(): Verdict {
    const now = performance.now()
    // Capped at `burst`, however long the session was idle: a quiet peer cannot save up a bigger burst.
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1_000)
    this.last = now
    if (this.tokens >= 1) {
      this.tokens--
      this.refusedInARow = 0
      return 'accept'
    }
    return ++this.refusedInARow > this.burst ? 'flood' : 'refuse'
  }
}

/**
 * Whether a message the rate limit refused is carried out all the same: a
 * `cancel` or `unsubscribe` frees server resources, and `init` starts the
 * session. The others are not: a message with an id is answered
 * `TOO_MANY_REQUESTS`, a ping goes unanswered.
 */
export function carriedOutWhenRefused(message: ClientMessage): boolean {
  switch (message.type) {
    case 'cancel':
    case 'unsubscribe':
    case 'init':
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
