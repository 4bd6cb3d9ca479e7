/**
 * Verification helpers: every case checks everything it receives, and a
 * mismatch fails the run loudly.
 */
import { isPushEvent } from '../contract'

/** Something received was not what the operation must produce. */
export class Mismatch extends Error {
  override name = 'Mismatch'
}

/** A short rendering of a received value for an error message. */
export function preview(value: unknown): string {
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = String(value)
  }
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

/**
 * Checks one subscriber's events: exactly `pushEvent(0)`, `pushEvent(1)`, ...
 * up to the expected count, in order, nothing more. Records the first
 * problem instead of throwing, since events arrive in the library's callbacks.
 */
export class SeqChecker {
  received = 0
  error: Mismatch | undefined
  /** Called once, when the expected count has arrived. */
  onComplete: (() => void) | undefined

  constructor(
    private readonly label: string,
    public expected: number,
  ) {}

  readonly onEvent = (event: unknown): void => {
    if (this.error !== undefined) return
    if (this.received >= this.expected) {
      this.error = new Mismatch(`${this.label}: an event past the ${this.expected} expected: ${preview(event)}`)
    } else if (!isPushEvent(event, this.received)) {
      this.error = new Mismatch(`${this.label}: expected seq ${this.received}, got ${preview(event)}`)
    } else if (++this.received === this.expected) {
      this.onComplete?.()
    }
  }

  /** Starts a new phase that expects `expected` events from seq 0. */
  reset(expected: number): void {
    this.check()
    if (this.received !== this.expected) throw new Mismatch(`${this.label}: ${this.received} of ${this.expected} events arrived`)
    this.received = 0
    this.expected = expected
  }

  /** Throws the first problem seen, if any. */
  check(): void {
    if (this.error !== undefined) throw this.error
  }

  /** Throws unless exactly the expected events arrived. */
  checkComplete(): void {
    this.check()
    if (this.received !== this.expected) throw new Mismatch(`${this.label}: ${this.received} of ${this.expected} events arrived`)
  }
}

/** Rejects after `ms` with a message naming what was awaited, so a lost event shows as such. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Mismatch(`${what}: nothing after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
