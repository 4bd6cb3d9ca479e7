import { describe, expect, it } from 'vitest'
import { backoffDelay, closeMeaning, type RpcErrorCode } from '@wirecall/client'
import { backoffDelay as backoffDelayFromModule } from '../src/backoff'

const options = { minDelayMs: 100, maxDelayMs: 1_000, factor: 2 }
/** Just below 1: `random()` never returns 1 itself, so this is the top of its range. */
const ALMOST_ONE = 1 - Number.EPSILON

describe('backoffDelay', () => {
  it('is the same function from the package entry point and its module', () => {
    expect(backoffDelay).toBe(backoffDelayFromModule)
  })

  it('multiplies the ceiling by factor per consecutive failure', () => {
    // random() = 0.5 lands on half the ceiling, so the ceiling can be read back.
    const half = (failures: number) => backoffDelay(failures, options, () => 0.5)
    expect([0, 1, 2, 3].map(half)).toEqual([50, 100, 200, 400])
    expect(backoffDelay(2, { minDelayMs: 10, maxDelayMs: 1_000_000, factor: 3 }, () => 0.5)).toBe(45)
  })

  it('caps the ceiling at maxDelayMs however many failures there were', () => {
    const top = (failures: number) => backoffDelay(failures, options, () => ALMOST_ONE)
    expect(top(4)).toBe(999)
    expect(top(5)).toBe(999)
    expect(top(50)).toBe(999)
    // 2 ** 2000 is Infinity: the cap must still hold.
    expect(top(2_000)).toBe(999)
  })

  it('waits just under the ceiling when random() is at the top of its range', () => {
    expect(backoffDelay(0, options, () => ALMOST_ONE)).toBe(99)
    expect(backoffDelay(1, options, () => ALMOST_ONE)).toBe(199)
    expect(backoffDelay(3, options, () => ALMOST_ONE)).toBe(799)
  })

  it('waits nothing when random() is 0 (full jitter reaches all the way down)', () => {
    for (const failures of [0, 1, 5, 100]) expect(backoffDelay(failures, options, () => 0)).toBe(0)
  })

  it('spreads Math.random samples over [0, ceiling) instead of waiting a fixed time', () => {
    const samples = Array.from({ length: 500 }, () => backoffDelay(3, options))
    const ceiling = 800
    for (const delay of samples) {
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThan(ceiling)
      expect(Number.isInteger(delay)).toBe(true)
    }
    // 500 uniform draws over 800 values: dozens of distinct values, and both halves of the range hit.
    expect(new Set(samples).size).toBeGreaterThan(100)
    expect(samples.some((d) => d < ceiling / 2)).toBe(true)
    expect(samples.some((d) => d >= ceiling / 2)).toBe(true)
  })

  it('keeps Math.random samples under maxDelayMs once capped', () => {
    const samples = Array.from({ length: 500 }, () => backoffDelay(20, options))
    expect(Math.max(...samples)).toBeLessThan(options.maxDelayMs)
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0)
    expect(new Set(samples).size).toBeGreaterThan(100)
  })
})

describe('closeMeaning', () => {
  const terminal: [number, RpcErrorCode][] = [
    [1000, 'CONNECTION_LOST'],
    [1002, 'BAD_REQUEST'],
    [1003, 'BAD_REQUEST'],
    [1007, 'BAD_REQUEST'],
    [1008, 'FORBIDDEN'],
    [1010, 'BAD_REQUEST'],
    [4400, 'BAD_REQUEST'],
    [4401, 'UNAUTHORIZED'],
    [4403, 'FORBIDDEN'],
    [4404, 'BAD_REQUEST'],
    [4450, 'BAD_REQUEST'],
    [4499, 'BAD_REQUEST'],
  ]
  const retryable: [number, RpcErrorCode][] = [
    [1001, 'CONNECTION_LOST'],
    [1006, 'CONNECTION_LOST'],
    [1009, 'PAYLOAD_TOO_LARGE'],
    [1011, 'CONNECTION_LOST'],
    [1012, 'CONNECTION_LOST'],
    [1013, 'OVERLOADED'],
    [1014, 'CONNECTION_LOST'],
    [3000, 'CONNECTION_LOST'],
    [4000, 'CONNECTION_LOST'],
    [4399, 'CONNECTION_LOST'],
    [4408, 'TIMEOUT'],
    [4429, 'TOO_MANY_REQUESTS'],
    [4500, 'CONNECTION_LOST'],
    [4999, 'CONNECTION_LOST'],
  ]

  it.each(terminal)('treats %i as terminal (%s): retrying would fail the same way', (code, rpcCode) => {
    expect(closeMeaning(code)).toEqual({ code: rpcCode, terminal: true })
  })

  it.each(retryable)('treats %i as retryable (%s)', (code, rpcCode) => {
    expect(closeMeaning(code)).toEqual({ code: rpcCode, terminal: false })
  })

  it('makes the whole 4400-4499 band terminal except 4408 and 4429', () => {
    for (let code = 4400; code <= 4499; code++) {
      expect(closeMeaning(code).terminal, `close code ${code}`).toBe(code !== 4408 && code !== 4429)
    }
    expect(closeMeaning(4399).terminal).toBe(false)
    expect(closeMeaning(4500).terminal).toBe(false)
  })
})
