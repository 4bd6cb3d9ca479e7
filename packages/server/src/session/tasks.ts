/**
 * Counts the resolvers and generators a session started, until each has
 * settled — even after being aborted — so that `settled()` can say when
 * they have all finished. A counter rather than a set of promises: this
 * runs for every call, and a set entry plus two callbacks per call were
 * measurable. Made on a session's first task.
 */
export class Tasks {
  private running = 0
  private waiters: (() => void)[] | undefined
  private readonly done = (): void => {
    const waiters = this.waiters
    if (--this.running > 0 || waiters === undefined) return
    this.waiters = undefined
    for (const wake of waiters) wake()
  }

  /** Counts `task` until it settles. */
  track(task: Promise<void>): void {
    this.running++
    task.then(this.done, this.done)
  }

  /** Resolves once every task tracked so far, and every one tracked meanwhile, has settled. */
  settled(): Promise<void> {
    if (this.running === 0) return Promise.resolve()
    return new Promise((resolve) => (this.waiters ??= []).push(resolve))
  }
}
