/**
 * What the client keeps below the server's announced rate: the server
 * refills its bucket continuously and counts a message when it reads it,
 * after the network, which may bunch messages that left spread out. The
 * client's bucket is smaller and fills a little slower than the server's,
 * so that what it sends still fits when it arrives in a clump.
 */
const BURST_SHARE = 0.9
const RATE_SHARE = 0.95

/**
 * The client's side of the server's message rate limit (`ack.limits`): a
 * token bucket, one token per message, that calls and subscriptions wait
 * on instead of being refused with `TOO_MANY_REQUESTS`. Messages that must
 * go at once (a cancel, an unsubscribe, a ping or pong) are charged all the
 * same, and the bucket goes into debt: what waits, waits longer.
 */
export class SendBudget {
  private declare tokens: number
  private last = performance.now()
  private declare readonly capacity: number
  private declare readonly perMs: number

  constructor(messagesPerSecond: number, burst: number) {
    this.capacity = Math.max(1, Math.floor(burst * BURST_SHARE) - 1)
    this.perMs = (messagesPerSecond * RATE_SHARE) / 1_000
    this.tokens = this.capacity
  }

  /** Whether a message may be written now (its token is taken by {@link charge}). */
  available(): boolean {
    if (this.tokens >= 1) return true
    this.refill()
    return this.tokens >= 1
  }

  /** One message was written: its token is taken, into debt if need be. */
  charge(): void {
    // Refilled before every take, so the bucket's cap applies at every moment as the server's does.
    this.refill()
    this.tokens--
  }

  /** Milliseconds until a message may be written; 0 when it may now. */
  waitMs(): number {
    if (this.available()) return 0
    return Math.ceil((1 - this.tokens) / this.perMs)
  }

  private refill(): void {
    const now = performance.now()
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs)
    this.last = now
  }
}
