import { afterEach, describe, expect, it, vi } from 'vitest'
import { Reconnector } from '../src/reconnector'

const options = { minDelayMs: 10_000, maxDelayMs: 10_000, factor: 2, maxRetries: Infinity, stableAfterMs: 10_000 }

/** The Node timer the reconnector armed for its next attempt. */
function armedTimer(schedule: () => void): NodeJS.Timeout {
  const spy = vi.spyOn(globalThis, 'setTimeout')
  schedule()
  const timer = spy.mock.results.at(-1)!.value as NodeJS.Timeout
  spy.mockRestore()
  return timer
}

describe('Reconnector', () => {
  const reconnectors: Reconnector[] = []
  afterEach(() => {
    for (const r of reconnectors.splice(0)) r.cancel()
  })
  const make = () => {
    const r = new Reconnector(options)
    reconnectors.push(r)
    return r
  }

  it('keeps a Node process alive while it waits with work pending (calls or subscriptions), as the open socket did', () => {
    const r = make()
    expect(armedTimer(() => r.schedule(() => {}, true)).hasRef()).toBe(true)
  })

  it('does not keep a Node process alive while it waits with nothing pending', () => {
    const r = make()
    expect(armedTimer(() => r.schedule(() => {}, false)).hasRef()).toBe(false)
  })

  it('never keeps a Node process alive with its stable-connection timer', () => {
    const r = make()
    expect(armedTimer(() => r.connected()).hasRef()).toBe(false)
  })

  it('uses an announced restart delay once, then goes back to backoff', () => {
    const r = make()
    r.announced(1_234)
    expect(r.schedule(() => {}, false)).toEqual({ attempt: 1, delayMs: 1_234 })
    const next = r.schedule(() => {}, false)!
    expect(next.attempt).toBe(2)
    expect(next.delayMs).toBeLessThan(10_000)
  })

  it('never asks setTimeout for more than it can wait, so maxDelayMs: Infinity does not turn into a tight loop', () => {
    const r = new Reconnector({ ...options, minDelayMs: 4e9, maxDelayMs: Infinity })
    reconnectors.push(r)
    const spy = vi.spyOn(globalThis, 'setTimeout')
    vi.spyOn(Math, 'random').mockReturnValue(0.99)
    try {
      expect(r.schedule(() => {}, false)!.delayMs).toBe(2_147_483_647)
      expect(spy.mock.calls.at(-1)![1]).toBe(2_147_483_647)
    } finally {
      vi.restoreAllMocks()
    }
  })
})
