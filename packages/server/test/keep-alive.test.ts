import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { KeepAliveSweep, type KeptAlive } from '../src/node/keep-alive'

/** intervalMs 1 000 and timeoutMs 400: the sweep runs every 100 ms, pings after 10 quiet runs, waits 4 runs for an answer. */
const options = { intervalMs: 1_000, timeoutMs: 400 }

/** A watched socket that records when (fake `Date.now()`, starting at 0) it was pinged and terminated. */
interface FakeSocket extends KeptAlive {
  readonly pings: number[]
  readonly terminations: number[]
}

function fakeSocket(onPing?: (socket: FakeSocket) => void): FakeSocket {
  const socket: FakeSocket = {
    heardAt: 0,
    pingedAt: 0,
    pings: [],
    terminations: [],
    ping() {
      socket.pings.push(Date.now())
      onPing?.(socket)
    },
    terminate() {
      socket.terminations.push(Date.now())
    },
  }
  return socket
}

/** The delay each `setInterval` was armed with while `run` ran. */
function intervalDelays(run: () => void): (number | undefined)[] {
  const spy = vi.spyOn(globalThis, 'setInterval')
  try {
    run()
    return spy.mock.calls.map((call) => call[1])
  } finally {
    spy.mockRestore()
  }
}

describe('KeepAliveSweep', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  describe('its timer', () => {
    it('is one timer for every watched socket', () => {
      const sweep = new KeepAliveSweep(options)
      for (let i = 0; i < 100; i++) sweep.watch(fakeSocket())
      expect(vi.getTimerCount()).toBe(1)
    })

    it('is not armed before a socket is watched, and is stopped when the last one is unwatched', () => {
      const sweep = new KeepAliveSweep(options)
      expect(vi.getTimerCount()).toBe(0)
      const a = fakeSocket()
      const b = fakeSocket()
      sweep.watch(a)
      sweep.watch(b)
      sweep.unwatch(a)
      expect(vi.getTimerCount()).toBe(1)
      sweep.unwatch(a) // twice: no effect
      expect(vi.getTimerCount()).toBe(1)
      sweep.unwatch(b)
      expect(vi.getTimerCount()).toBe(0)
    })

    it('starts again when a socket is watched after the last one left, and pings it intervalMs later', () => {
      const sweep = new KeepAliveSweep(options)
      const first = fakeSocket()
      sweep.watch(first)
      vi.advanceTimersByTime(350)
      sweep.unwatch(first)
      vi.advanceTimersByTime(5_000)
      const second = fakeSocket()
      sweep.watch(second)
      expect(vi.getTimerCount()).toBe(1)
      vi.advanceTimersByTime(options.intervalMs)
      expect(second.pings).toEqual([5_350 + options.intervalMs])
      expect(first.pings).toEqual([])
    })

    it('leaves no timer when unwatching a socket it never watched', () => {
      const sweep = new KeepAliveSweep(options)
      sweep.unwatch(fakeSocket())
      expect(vi.getTimerCount()).toBe(0)
    })

    it.each([
      [{ intervalMs: 1_000, timeoutMs: 400 }, 100],
      [{ intervalMs: 400, timeoutMs: 1_000 }, 100],
      [{ intervalMs: 30_000, timeoutMs: 10_000 }, 2_500],
      [{ intervalMs: 2, timeoutMs: 2 }, 1],
    ])('runs every quarter of the shorter of intervalMs and timeoutMs, and never more often than every 1 ms (%o)', (opts, periodMs) => {
      const sweep = new KeepAliveSweep(opts)
      expect(intervalDelays(() => sweep.watch(fakeSocket()))).toEqual([periodMs])
    })
  })

  describe('pings', () => {
    it('pings a socket that stays quiet intervalMs after it was watched, not before', () => {
      const sweep = new KeepAliveSweep(options)
      const socket = fakeSocket()
      sweep.watch(socket)
      vi.advanceTimersByTime(options.intervalMs - 1)
      expect(socket.pings).toEqual([])
      vi.advanceTimersByTime(1)
      expect(socket.pings).toEqual([options.intervalMs])
    })

    it.each([0, 1, 50, 99, 100, 101, 199])(
      'pings a socket last heard %i ms into the timer never later than intervalMs after, and at most one run (100 ms) early',
      (heardAtMs) => {
        const sweep = new KeepAliveSweep(options)
        const socket = fakeSocket()
        sweep.watch(fakeSocket()) // starts the timer at 0
        vi.advanceTimersByTime(heardAtMs)
        sweep.watch(socket)
        vi.advanceTimersByTime(options.intervalMs + 100)
        expect(socket.pings).toHaveLength(1)
        const quietMs = socket.pings[0]! - heardAtMs
        expect(quietMs).toBeLessThanOrEqual(options.intervalMs)
        expect(quietMs).toBeGreaterThan(options.intervalMs - 100)
      },
    )

    it('pings no later than intervalMs rounded up to whole runs when intervalMs is not a whole number of runs', () => {
      // Runs of 100 ms; intervalMs 1 050 counts as 11 runs (1 100 ms).
      const sweep = new KeepAliveSweep({ intervalMs: 1_050, timeoutMs: 400 })
      const socket = fakeSocket()
      sweep.watch(fakeSocket())
      vi.advanceTimersByTime(1)
      sweep.watch(socket)
      vi.advanceTimersByTime(2_000)
      const quietMs = socket.pings[0]! - 1
      expect(quietMs).toBeLessThanOrEqual(1_100)
      expect(quietMs).toBeGreaterThan(1_000)
    })

    it('does not ping a socket it keeps hearing from', () => {
      const sweep = new KeepAliveSweep(options)
      const socket = fakeSocket()
      sweep.watch(socket)
      for (let i = 0; i < 20; i++) {
        vi.advanceTimersByTime(options.intervalMs - 100)
        sweep.heard(socket)
      }
      expect(socket.pings).toEqual([])
      expect(socket.terminations).toEqual([])
    })

    it('pings only the quiet sockets of those it watches', () => {
      const sweep = new KeepAliveSweep(options)
      const quiet = fakeSocket()
      const chatty = fakeSocket()
      sweep.watch(quiet)
      sweep.watch(chatty)
      vi.advanceTimersByTime(500)
      sweep.heard(chatty)
      vi.advanceTimersByTime(500)
      expect(quiet.pings).toEqual([1_000])
      expect(chatty.pings).toEqual([])
    })

    it('pings a socket that answers every intervalMs, and never terminates it', () => {
      const sweep = new KeepAliveSweep(options)
      // The pong arrives 50 ms after each ping.
      const socket = fakeSocket((s) => setTimeout(() => sweep.heard(s), 50))
      sweep.watch(socket)
      vi.advanceTimersByTime(10_000)
      expect(socket.pings).toEqual([1_000, 2_000, 3_000, 4_000, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000])
      expect(socket.terminations).toEqual([])
    })
  })

  describe('terminations', () => {
    it('terminates a socket whose ping is unanswered for timeoutMs, counted from the ping, and stops watching it', () => {
      const sweep = new KeepAliveSweep(options)
      const socket = fakeSocket()
      sweep.watch(socket)
      vi.advanceTimersByTime(options.intervalMs)
      expect(socket.pings).toEqual([1_000])
      vi.advanceTimersByTime(options.timeoutMs - 1)
      expect(socket.terminations).toEqual([])
      vi.advanceTimersByTime(1)
      expect(socket.terminations).toEqual([1_000 + options.timeoutMs])
      expect(vi.getTimerCount()).toBe(0) // it was the only socket: unwatched, so the timer stopped
      vi.advanceTimersByTime(10_000)
      expect(socket.terminations).toHaveLength(1)
      expect(socket.pings).toHaveLength(1)
    })

    it('keeps watching the other sockets after terminating one', () => {
      const sweep = new KeepAliveSweep(options)
      const dead = fakeSocket()
      const alive = fakeSocket((s) => sweep.heard(s))
      sweep.watch(dead)
      sweep.watch(alive)
      vi.advanceTimersByTime(options.intervalMs + options.timeoutMs)
      expect(dead.terminations).toHaveLength(1)
      expect(vi.getTimerCount()).toBe(1)
      vi.advanceTimersByTime(options.intervalMs)
      expect(alive.pings).toEqual([1_000, 2_000])
      expect(alive.terminations).toEqual([])
    })

    it('spares a socket whose answer arrives just before timeoutMs, and clears its unanswered ping', () => {
      const sweep = new KeepAliveSweep(options)
      const socket = fakeSocket()
      sweep.watch(socket)
      vi.advanceTimersByTime(options.intervalMs + options.timeoutMs - 1)
      sweep.heard(socket)
      expect(socket.pingedAt).toBe(0)
      vi.advanceTimersByTime(options.timeoutMs)
      expect(socket.terminations).toEqual([])
    })

    it.each([0, 1, 50, 99])(
      'finds a half-open socket last heard %i ms into the timer within intervalMs + timeoutMs',
      (heardAtMs) => {
        const sweep = new KeepAliveSweep(options)
        const socket = fakeSocket()
        sweep.watch(fakeSocket((s) => sweep.heard(s))) // a healthy socket keeps the timer running from 0
        vi.advanceTimersByTime(heardAtMs)
        sweep.watch(socket)
        vi.advanceTimersByTime(options.intervalMs + options.timeoutMs)
        expect(socket.terminations).toHaveLength(1)
        const foundAfterMs = socket.terminations[0]! - heardAtMs
        expect(foundAfterMs).toBeLessThanOrEqual(options.intervalMs + options.timeoutMs)
        // and not before its ping has waited timeoutMs in full
        expect(socket.terminations[0]! - socket.pings[0]!).toBe(options.timeoutMs)
      },
    )

    it('finds a half-open socket within intervalMs + timeoutMs each rounded up to whole runs', () => {
      // Runs of 105 ms (a quarter of 420): intervalMs 1 000 counts as 10 runs (1 050 ms), timeoutMs 420 as 4 runs (420 ms).
      const sweep = new KeepAliveSweep({ intervalMs: 1_000, timeoutMs: 420 })
      const socket = fakeSocket()
      sweep.watch(fakeSocket((s) => sweep.heard(s)))
      vi.advanceTimersByTime(3)
      sweep.watch(socket)
      vi.advanceTimersByTime(2_000)
      expect(socket.terminations).toHaveLength(1)
      const foundAfterMs = socket.terminations[0]! - 3
      expect(foundAfterMs).toBeLessThanOrEqual(Math.ceil(1_000 / 105) * 105 + Math.ceil(420 / 105) * 105)
      expect(socket.terminations[0]! - socket.pings[0]!).toBeGreaterThanOrEqual(420)
    })

    // Found by this test: the period was min(intervalMs, timeoutMs) / 4 unrounded, but Node's
    // setInterval truncates a fractional delay (7.5 ms runs every 7 ms), while the runs to wait were
    // counted with the unrounded period, so a socket could be terminated before timeoutMs.
    it('waits timeoutMs in full after a ping even when a quarter of the shorter setting is not a whole number of ms', () => {
      const fakeSetInterval = globalThis.setInterval
      // Node truncates the delay (lib/internal/timers.js: "accuracy of sub-millisecond timers is not
      // assumed"); the fake clock does not, so it is made to, here.
      const spy = vi
        .spyOn(globalThis, 'setInterval')
        .mockImplementation((handler: () => void, ms?: number) => fakeSetInterval(handler, Math.trunc(ms ?? 0)))
      try {
        const sweep = new KeepAliveSweep({ intervalMs: 30, timeoutMs: 30 })
        const socket = fakeSocket()
        sweep.watch(socket)
        vi.advanceTimersByTime(200)
        expect(socket.pings).toHaveLength(1)
        expect(socket.terminations).toHaveLength(1)
        expect(socket.pings[0]!).toBeGreaterThanOrEqual(30 - 7.5)
        expect(socket.terminations[0]! - socket.pings[0]!).toBeGreaterThanOrEqual(30)
      } finally {
        spy.mockRestore()
      }
    })
  })
})
