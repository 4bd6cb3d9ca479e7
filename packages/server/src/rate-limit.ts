/**
 * A token bucket: `burst` tokens at most, refilled at `perSecond`. One
 * message costs one token. Refilled lazily from the clock when asked, so an
 * idle connection costs nothing.
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
    if (this.tokens < 1) {
      const now = performance.now()
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1_000)
      this.last = now
      if (this.tokens < 1) return false
    }
    this.tokens--
    return true
  }
}
