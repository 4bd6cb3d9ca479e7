import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { RateLimiter, type Verdict } from '../src/session/rate-limit'

const options = { messagesPerSecond: 100, burst: 10, bytesPerSecond: 1_000, burstBytes: 2_000 }

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

function takeMany(limiter: RateLimiter, n: number): Verdict[] {
  return Array.from({ length: n }, () => limiter.take())
}

describe('RateLimiter, messages', () => {
  it('accepts a burst, refuses the rest, and refills at the sustained rate', () => {
    const limiter = new RateLimiter(options, 0)
    expect(takeMany(limiter, 10)).toEqual(Array(10).fill('accept'))
    expect(limiter.take()).toBe('refuse')
    vi.advanceTimersByTime(50)
    expect(takeMany(limiter, 5)).toEqual(Array(5).fill('accept'))
    expect(limiter.take()).toBe('refuse')
  })

  it('calls a burst of more than `burst` refused messages a flood', () => {
    const limiter = new RateLimiter(options, 0)
    takeMany(limiter, 10)
    expect(takeMany(limiter, 10)).toEqual(Array(10).fill('refuse'))
    expect(limiter.take()).toBe('flood')
  })

  it('a steady refill does not reset the count: a peer that keeps sending faster than the rate is a flood', () => {
    const limiter = new RateLimiter(options, 0)
    takeMany(limiter, 10)
    // Three messages every 10 ms against one token per 10 ms: one accepted, two refused, each time.
    const verdicts: Verdict[] = []
    for (let tick = 0; tick < 20 && !verdicts.includes('flood'); tick++) {
      vi.advanceTimersByTime(10)
      verdicts.push(...takeMany(limiter, 3))
    }
    expect(verdicts.filter((v) => v === 'accept').length).toBeGreaterThan(0)
    expect(verdicts).toContain('flood')
  })

  it('forgets refusals slowly: a peer that slows down after a burst is not a flood', () => {
    const limiter = new RateLimiter(options, 0)
    takeMany(limiter, 10)
    expect(takeMany(limiter, 8)).toEqual(Array(8).fill('refuse'))
    // The count drains at a tenth of the rate (10/s): after a second it is 0 again.
    vi.advanceTimersByTime(1_000)
    takeMany(limiter, 10)
    expect(takeMany(limiter, 10)).toEqual(Array(10).fill('refuse'))
  })
})

describe('RateLimiter, bytes', () => {
  it('takes a frame while the bucket holds it, and says how long until it will', () => {
    const limiter = new RateLimiter(options, 0)
    expect(limiter.takeBytes(1_500)).toBe(true)
    expect(limiter.takeBytes(1_000)).toBe(false)
    // 500 left; 500 more come in half a second.
    expect(limiter.bytesWait(1_000)).toBe(500)
    vi.advanceTimersByTime(500)
    expect(limiter.takeBytes(1_000)).toBe(true)
  })

  it('never makes the bucket smaller than maxPayload, so that the largest frame can pass', () => {
    const limiter = new RateLimiter(options, 5_000)
    expect(limiter.burstBytes).toBe(5_000)
    expect(limiter.takeBytes(5_000)).toBe(true)
  })

  it('caps the bucket at burstBytes however long the peer was quiet', () => {
    const limiter = new RateLimiter(options, 0)
    vi.advanceTimersByTime(60_000)
    expect(limiter.takeBytes(2_000)).toBe(true)
    expect(limiter.takeBytes(1)).toBe(false)
  })
})
