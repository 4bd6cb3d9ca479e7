/**
 * Checks the feed as the resuming client receives it: exactly
 * `pushEvent(0)`, `pushEvent(1)`, ... across the live events, the drop and
 * the replay, so a lost, repeated or reordered event fails the run at once,
 * and tells when a given count has arrived, with the time it did.
 */
import { hrtime } from 'node:process'
import { Mismatch, preview } from '../../cases/verify'
import { isPushEvent } from '../../contract'
import { failLater } from '../../impls/util'

export class EventChecker {
  received = 0
  private waiter: { total: number; resolve(at: bigint): void } | undefined

  constructor(private readonly label: string) {}

  readonly onEvent = (event: unknown): void => {
    if (!isPushEvent(event, this.received)) return failLater(new Mismatch(`${this.label}: expected seq ${this.received}, got ${preview(event)}`))
    this.received++
    const waiter = this.waiter
    if (waiter === undefined) return
    if (this.received > waiter.total) return failLater(new Mismatch(`${this.label}: an event past the ${waiter.total} expected: ${preview(event)}`))
    if (this.received === waiter.total) {
      this.waiter = undefined
      waiter.resolve(hrtime.bigint())
    }
  }

  /** Resolves with the `hrtime` at which the `total`-th event arrived (now, if it has); rejects after `timeoutMs`. */
  until(total: number, timeoutMs: number): Promise<bigint> {
    if (this.received > total) return Promise.reject(new Mismatch(`${this.label}: ${this.received} events arrived, ${total} expected`))
    if (this.received === total) return Promise.resolve(hrtime.bigint())
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined
        reject(new Mismatch(`${this.label}: ${this.received} of ${total} events after ${timeoutMs / 1000} s`))
      }, timeoutMs)
      this.waiter = {
        total,
        resolve: (at) => {
          clearTimeout(timer)
          resolve(at)
        },
      }
    })
  }
}
