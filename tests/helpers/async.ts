import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Helpers for unit tests of async iterators: every wait is bounded, nothing depends on wall-clock timing. */

/** Rejects if `promise` has not settled within `ms` (a guard against hangs, never an assertion on timing). */
export function within<T>(promise: Promise<T>, ms = 2_000, what = 'operation'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer))
}

/** Lets queued microtasks and a few macrotask turns run. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve))
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
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Runs full garbage collections, so a test can check through `WeakRef`s what is still held. */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await settle(1) // WeakRef targets are kept alive until the end of the job that created them
    gc()
  }
}
