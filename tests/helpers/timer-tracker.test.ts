import { describe, expect, it } from 'vitest'
import { trackTimers } from './timer-tracker.js'

/** Resolves after `ms` on a timer the tracker never sees (the original, captured before any tracking). */
const realSetTimeout = globalThis.setTimeout
const pause = (ms: number) => new Promise<void>((resolve) => realSetTimeout(resolve, ms))

describe('timer tracker', () => {
  it('counts only timers created after it started', () => {
    const before = setTimeout(() => {}, 10_000)
    const timers = trackTimers()
    expect(timers.live()).toBe(0)
    clearTimeout(before)
    expect(timers.live()).toBe(0)
  })

  it('a timeout is live until cleared', () => {
    const timers = trackTimers()
    const a = setTimeout(() => {}, 10_000)
    const b = setTimeout(() => {}, 10_000)
    expect(timers.live()).toBe(2)
    clearTimeout(a)
    expect(timers.live()).toBe(1)
    clearInterval(b) // interchangeable with clearTimeout in Node
    expect(timers.live()).toBe(0)
  })

  it('a timeout is live until it fires, and its callback gets its arguments', async () => {
    const timers = trackTimers()
    const fired = new Promise<string>((resolve) => setTimeout(resolve, 5, 'arg'))
    expect(timers.live()).toBe(1)
    expect(await fired).toBe('arg')
    expect(timers.live()).toBe(0)
  })

  it('refresh() re-arms a fired timeout but not a cleared one', async () => {
    const timers = trackTimers()
    let count = 0
    const t = setTimeout(() => count++, 5)
    await pause(30)
    expect([count, timers.live()]).toEqual([1, 0])
    t.refresh()
    expect(timers.live()).toBe(1)
    await pause(30)
    expect([count, timers.live()]).toEqual([2, 0])
    clearTimeout(t)
    t.refresh()
    expect(timers.live()).toBe(0)
  })

  it('an interval is live until cleared, however often it fires', async () => {
    const timers = trackTimers()
    let count = 0
    const i = setInterval(() => count++, 2)
    try {
      // Polled rather than one long wait, so a busy machine cannot make it flaky.
      for (let waited = 0; count < 3 && waited < 2_000; waited += 5) await pause(5)
      expect(count).toBeGreaterThanOrEqual(3)
      expect(timers.live()).toBe(1)
    } finally {
      clearInterval(i)
    }
    expect(timers.live()).toBe(0)
  })

  it('clearing by numeric id works, and untracked or invalid handles are ignored', () => {
    const timers = trackTimers()
    const t = setTimeout(() => {}, 10_000)
    clearTimeout(undefined)
    clearTimeout(12_345_678)
    expect(timers.live()).toBe(1)
    clearTimeout(Number(t))
    expect(timers.live()).toBe(0)
  })

  it('liveStacks() names the kind, delay and creation site of each live timer', () => {
    const timers = trackTimers()
    const t = setTimeout(() => {}, 10_000)
    const i = setInterval(() => {}, 1_000)
    try {
      const stacks = timers.liveStacks()
      expect(stacks).toHaveLength(2)
      expect(stacks[0]).toMatch(/^setTimeout\(10000 ms\) created at\n/)
      expect(stacks[1]).toMatch(/^setInterval\(1000 ms\) created at\n/)
      for (const stack of stacks) expect(stack).toContain('timer-tracker.test.ts')
    } finally {
      clearTimeout(t)
      clearInterval(i)
    }
    expect(timers.liveStacks()).toEqual([])
  })

  it('restore() puts the original globals back and stops tracking', () => {
    const original = globalThis.setTimeout
    const timers = trackTimers()
    expect(globalThis.setTimeout).not.toBe(original)
    timers.restore()
    expect(globalThis.setTimeout).toBe(original)
    const t = setTimeout(() => {}, 10_000)
    clearTimeout(t)
    expect(timers.live()).toBe(0)
    timers.restore() // idempotent
  })

  it('is restored after the test that started it', () => {
    expect(globalThis.setTimeout).toBe(realSetTimeout)
  })

  it('keeps setTimeout promisifiable', async () => {
    const { promisify } = await import('node:util')
    const timers = trackTimers()
    expect(await promisify(setTimeout)(1, 'value')).toBe('value')
    expect(timers.live()).toBe(0)
  })
})
