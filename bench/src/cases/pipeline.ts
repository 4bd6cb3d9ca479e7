/**
 * Calls kept in flight on one connection: each answer starts the next call,
 * for any call: the main `calls` case (calls.ts) and the `inflight` and
 * `payload` scale cases. The first failure (a wrong answer, a rejected call) rejects.
 */

/** Makes calls `first` .. `first + count - 1` with `call`, `inFlight` at a time. */
export function pipeline(first: number, count: number, inFlight: number, call: (id: number) => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (count === 0) return resolve()
    const end = first + count
    let next = first
    let answered = 0
    let failed = false
    const fail = (error: unknown) => {
      if (failed) return
      failed = true
      reject(error)
    }
    const launch = (): void => {
      call(next++).then(() => {
        if (failed) return
        answered++
        if (next < end) launch()
        else if (answered === count) resolve()
      }, fail)
    }
    for (let i = 0; i < Math.min(inFlight, count); i++) launch()
  })
}
