/**
 * A token bucket: `burst` tokens at most, refilled continuously at
 * `perSecond`. One message costs one token. The refill is computed from the
 * clock when a token is asked for, so an idle connection costs nothing.
 */
export class TokenBucket {
  private tokens: number
  private last = performance.now()

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.tokens = burst
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const now = performance.now()
    // Capped at `burst`, however long the connection was idle: a quiet peer cannot save up a bigger burst.
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1_000)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens--
    return true
  }
}
