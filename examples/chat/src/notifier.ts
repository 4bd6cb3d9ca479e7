/**
 * Wakes every waiter on `notify()`. Subscriptions wait here for "something
 * changed", then read the current state themselves, so a slow subscriber
 * skips intermediate states instead of queueing them.
 */
export class Notifier {
  readonly #waiters = new Set<() => void>()

  /** Resolves every pending `wait()`. */
  notify(): void {
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const wake of waiters) wake()
  }

  /**
   * Resolves on the next `notify()`, or as soon as `signal` aborts (the
   * caller checks `signal.aborted`). Either way the waiter is removed, so
   * an ended subscription leaves nothing behind.
   */
  wait(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve()
      const wake = () => {
        this.#waiters.delete(wake)
        signal.removeEventListener('abort', wake)
        resolve()
      }
      this.#waiters.add(wake)
      signal.addEventListener('abort', wake, { once: true })
    })
  }

  /** Waiters right now, for tests. */
  get size(): number {
    return this.#waiters.size
  }
}

/**
 * The value of `read()` now and after every change, skipping a value equal
 * (as JSON) to the one sent before. A subscriber that falls behind gets the
 * latest value, never a backlog: "resync" is just the next snapshot.
 */
export async function* snapshots<T>(changes: Notifier, read: () => T, signal: AbortSignal): AsyncGenerator<T> {
  let sent: string | undefined
  while (!signal.aborted) {
    // Wait from before the read, so that a change between the read and the wait is not missed.
    const changed = changes.wait(signal)
    const value = read()
    const key = JSON.stringify(value)
    if (key !== sent) {
      sent = key
      yield value
    }
    await changed
  }
}
