import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * Waits and probes that need no socket. Every wait is bounded and names what
 * it waits for; none is an assertion on timing. Nothing here imports `ws` or
 * the wirecall packages, so the unit tests in packages/<pkg>/test/ use it as
 * well; harness.ts re-exports the waits, so integration tests import
 * everything from there.
 */

/** Resolves after `ms`, or earlier when `signal` aborts (as a well-behaved resolver would wait). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}

/**
 * Resolves when `signal` aborts (at once if it already has): what a resolver
 * that holds until it is cancelled awaits. Never rejects, so the resolver
 * decides what an abort means for its answer.
 */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

/** A promise the test opens by hand (see {@link gate}). */
export interface Gate {
  /** Resolves once `open()` has been called. */
  opened: Promise<void>
  open(): void
}

/**
 * A promise the test opens by hand: resolvers wait on `opened`, so that "in
 * flight" and "answered" are the test's decision rather than a matter of timing.
 */
export function gate(): Gate {
  let open!: () => void
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

/** Resolves once `predicate()` holds, checking every 5 ms; rejects after `timeoutMs` naming `what`. */
export async function waitUntil(predicate: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

/**
 * `promise`, or a rejection naming `what` if it has not settled within
 * `timeoutMs`: a guard against hangs, never an assertion on timing.
 */
export function within<T>(promise: Promise<T>, what = 'the operation', timeoutMs = 3_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}

/** Lets queued microtasks and a few macrotask turns run. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}

/**
 * Runs the promise callbacks queued now, and those they queue, a few rounds
 * deep, without any timer: the way to let work settle under fake timers
 * (where `settle`'s `setImmediate` is faked too).
 */
export async function flushMicrotasks(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve()
}

/** Whether a promise has settled, observed without awaiting it. */
export function observe(promise: Promise<unknown>): { settled: boolean } {
  const seen = { settled: false }
  const done = () => {
    seen.settled = true
  }
  void promise.then(done, done)
  return seen
}

export interface Tracker<T> {
  settled: boolean
  result: IteratorResult<T> | undefined
  error: unknown
  promise: Promise<IteratorResult<T>>
}

/** Observes a promise without awaiting it, so a test can check whether it is still pending. */
export function track<T>(promise: Promise<IteratorResult<T>>): Tracker<T> {
  const tracker: Tracker<T> = { settled: false, result: undefined, error: undefined, promise }
  promise.then(
    (result) => {
      tracker.settled = true
      tracker.result = result
    },
    (error: unknown) => {
      tracker.settled = true
      tracker.error = error
    },
  )
  return tracker
}

// A real garbage collector, to check that memory is released (deterministic: a full, synchronous GC).
// Fetched on first use, so that importing this module (or harness.ts) does not turn on --expose-gc.
let gc: (() => void) | undefined

/** Runs full garbage collections, so a test can check through `WeakRef`s what is still held. */
export async function collectGarbage(): Promise<void> {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc')
    gc = runInNewContext('gc') as () => void
  }
  for (let i = 0; i < 4; i++) {
    await settle(1) // WeakRef targets are kept alive until the end of the job that created them
    gc()
  }
}
