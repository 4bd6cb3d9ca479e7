import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { SendBudget } from '../src/send-budget'

/**
 * The client's copy of the server's message bucket: it must never let
 * through more than the server's bucket would, whatever the timing, and
 * must let through close to it.
 */

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['performance'] })
})
afterEach(() => {
  vi.useRealTimers()
})

/** Sends as fast as the budget allows, for `ms` milliseconds in 1 ms steps; returns how many went. */
function drain(budget: SendBudget, ms: number): number {
  let sent = 0
  for (let t = 0; t <= ms; t++) {
    while (budget.available()) {
      budget.charge()
      sent++
    }
    vi.advanceTimersByTime(1)
  }
  return sent
}

describe('SendBudget', () => {
  it('lets 90% of the burst through at once, then paces at 95% of the rate', () => {
    const budget = new SendBudget(1_000, 100)
    expect(drain(budget, 0)).toBe(89)
    // One second on: 950 more, give or take the rounding of the last millisecond.
    const next = drain(budget, 1_000)
    expect(next).toBeGreaterThanOrEqual(949)
    expect(next).toBeLessThanOrEqual(951)
  })

  it('never holds more than its size, however long it was idle: idle time before a burst is not credit', () => {
    const budget = new SendBudget(1_000, 100)
    drain(budget, 0)
    vi.advanceTimersByTime(60_000)
    expect(drain(budget, 0)).toBe(89)
    // Idle while full, then a burst, then immediately more: only what refilled since the burst.
    vi.advanceTimersByTime(60_000)
    expect(drain(budget, 0)).toBe(89)
    expect(drain(budget, 0)).toBe(0)
  })

  it('goes into debt for messages that must go, and makes later ones wait for it', () => {
    const budget = new SendBudget(1_000, 20)
    drain(budget, 0)
    for (let i = 0; i < 10; i++) budget.charge()
    expect(budget.available()).toBe(false)
    // Ten messages of debt, plus one for the next, at 0.95 per ms: 11 to 12 ms.
    const waitMs = budget.waitMs()
    expect(waitMs).toBeGreaterThanOrEqual(11)
    expect(waitMs).toBeLessThanOrEqual(12)
    vi.advanceTimersByTime(waitMs - 2)
    expect(budget.available()).toBe(false)
    vi.advanceTimersByTime(2)
    expect(budget.available()).toBe(true)
  })

  it('keeps under the server bucket at every moment of a paced run', () => {
    const rate = 500
    const burst = 50
    const budget = new SendBudget(rate, burst)
    // The server's bucket, refilled continuously, starts full.
    let server = burst
    let last = performance.now()
    for (let t = 0; t < 3_000; t++) {
      const now = performance.now()
      server = Math.min(burst, server + ((now - last) * rate) / 1_000)
      last = now
      while (budget.available()) {
        budget.charge()
        server -= 1
        expect(server).toBeGreaterThanOrEqual(0)
      }
      vi.advanceTimersByTime(1)
    }
  })

  it('has room for one message even under a burst of 1', () => {
    const budget = new SendBudget(10, 1)
    expect(budget.available()).toBe(true)
  })
})
