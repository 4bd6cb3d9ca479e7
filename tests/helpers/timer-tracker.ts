import { onTestFinished } from 'vitest'

/**
 * Counts the timers a test leaves behind, so it can assert that closing a
 * client (or server) cleared every timer it started:
 *
 * ```ts
 * const timers = trackTimers()
 * // ... start and close things ...
 * expect(timers.live(), timers.liveStacks().join('\n\n')).toBe(0)
 * ```
 *
 * Limitation: it sees only timers created through the globals `setTimeout` and
 * `setInterval` after `trackTimers()` was called, from code that looks them up
 * at call time. Timers from functions captured before (`const { setTimeout } =
 * globalThis` at import), from `node:timers` or `node:timers/promises`, and
 * `setImmediate`, are not seen; nor are timers inside fake timers
 * (`vi.useFakeTimers()`), which replace the globals (install the tracker after
 * them, or not at all, rather than interleave).
 */
export interface TimerTracker {
  /** Tracked timers still live: timeouts not yet fired nor cleared (or re-armed by `refresh()`), intervals not cleared. */
  live(): number
  /** For failure messages: one entry per live timer, its kind and delay and the stack where it was created. */
  liveStacks(): string[]
  /** Puts the original globals back (and stops tracking). Idempotent; also run after the test. */
  restore(): void
}

type TimerFunctionName = 'setTimeout' | 'setInterval' | 'clearTimeout' | 'clearInterval'

interface Tracked {
  kind: 'setTimeout' | 'setInterval'
  stack: string
  cleared: boolean
}

/** A loosely typed view of the timer globals, whose DOM and Node overloads do not compose. */
type AnyFunction = (...args: unknown[]) => unknown
type Globals = Record<TimerFunctionName, AnyFunction>

/**
 * Patches the timer globals to track the timers created through them from now
 * on; the globals are restored when the test finishes. A timeout is live until
 * it fires or is cleared (a `refresh()` re-arms it, even after it fired); an
 * interval is live until cleared. Clearing a handle the tracker did not create
 * is passed through and otherwise ignored.
 */
export function trackTimers(): TimerTracker {
  const globals = globalThis as unknown as Globals
  const originals: Globals = {
    setTimeout: globals.setTimeout,
    setInterval: globals.setInterval,
    clearTimeout: globals.clearTimeout,
    clearInterval: globals.clearInterval,
  }
  // Handles are Node `Timeout` objects (or numbers elsewhere); a Map keeps them
  // alive only while they are live, as the timers themselves are anyway.
  const live = new Map<unknown, Tracked>()
  const all = new WeakMap<object, Tracked>()
  let active = true

  function find(handle: unknown): [unknown, Tracked] | undefined {
    const direct = live.get(handle)
    if (direct !== undefined) return [handle, direct]
    // clearTimeout(+timeout) clears by the numeric id Node hands out.
    if (typeof handle === 'number' || typeof handle === 'string') {
      for (const [h, tracked] of live) if (typeof h === 'object' && Number(h) === Number(handle)) return [h, tracked]
    }
    return undefined
  }

  function wrapSet(kind: Tracked['kind']): AnyFunction {
    const original = originals[kind]
    const wrapped = function (this: unknown, callback: unknown, ...rest: unknown[]): unknown {
      if (!active || typeof callback !== 'function') return original.call(this, callback, ...rest)
      const tracked: Tracked = {
        kind,
        // Drop the "Error" line and this wrapper's frame: the first frame left is the caller.
        stack: `${kind}(${String(rest[0] ?? 0)} ms) created at\n${(new Error().stack ?? '').split('\n').slice(2).join('\n')}`,
        cleared: false,
      }
      let handle: unknown
      const fire = function (this: unknown, ...args: unknown[]): unknown {
        if (kind === 'setTimeout') live.delete(handle)
        return (callback as AnyFunction).apply(this, args)
      }
      handle = original.call(this, fire, ...rest)
      live.set(handle, tracked)
      if (typeof handle === 'object' && handle !== null) {
        all.set(handle, tracked)
        const refresh = (handle as { refresh?: unknown }).refresh
        if (kind === 'setTimeout' && typeof refresh === 'function') {
          // Node re-arms a fired timeout on refresh() (a cleared one stays dead).
          Object.defineProperty(handle, 'refresh', {
            configurable: true,
            writable: true,
            value: function (this: unknown) {
              if (active && !tracked.cleared) live.set(handle, tracked)
              return (refresh as AnyFunction).call(this)
            },
          })
        }
      }
      return handle
    }
    copySymbols(original, wrapped)
    return wrapped
  }

  function wrapClear(name: 'clearTimeout' | 'clearInterval'): AnyFunction {
    const original = originals[name]
    const wrapped = function (this: unknown, handle: unknown): unknown {
      if (active) {
        // Node's clearTimeout and clearInterval are interchangeable, so either clears either kind.
        const found = find(handle)
        if (found !== undefined) {
          found[1].cleared = true
          live.delete(found[0])
        } else if (typeof handle === 'object' && handle !== null) {
          // A handle that already fired: remember it was cleared, so refresh() leaves it dead.
          const tracked = all.get(handle)
          if (tracked !== undefined) tracked.cleared = true
        }
      }
      return original.call(this, handle)
    }
    copySymbols(original, wrapped)
    return wrapped
  }

  const wrappers: Globals = {
    setTimeout: wrapSet('setTimeout'),
    setInterval: wrapSet('setInterval'),
    clearTimeout: wrapClear('clearTimeout'),
    clearInterval: wrapClear('clearInterval'),
  }
  for (const name of Object.keys(wrappers) as TimerFunctionName[]) globals[name] = wrappers[name]

  const tracker: TimerTracker = {
    live: () => live.size,
    liveStacks: () => [...live.values()].map((t) => t.stack),
    restore() {
      if (!active) return
      active = false
      // Put back only what is still ours: if something patched the globals
      // after us, clobbering it would be worse; our wrappers, now inactive,
      // just pass through.
      for (const name of Object.keys(wrappers) as TimerFunctionName[]) {
        if (globals[name] === wrappers[name]) globals[name] = originals[name]
      }
    },
  }
  onTestFinished(() => tracker.restore())
  return tracker
}

/** Copies symbol-keyed properties (such as `util.promisify.custom` on Node's setTimeout) onto a wrapper. */
function copySymbols(from: AnyFunction, to: AnyFunction): void {
  for (const key of Object.getOwnPropertySymbols(from)) {
    const descriptor = Object.getOwnPropertyDescriptor(from, key)
    if (descriptor !== undefined) Object.defineProperty(to, key, descriptor)
  }
}
