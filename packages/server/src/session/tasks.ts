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

  /** @param failed told of a task that rejected: every task is meant to answer its own errors, so this is a bug, which must not pass in silence. */
  constructor(private readonly failed: (error: unknown) => void) {}

  /** Counts `task` until it settles. */
  track(task: PromiseLike<unknown>): void {
    this.running++
    task.then(this.done, this.fail)
  }

  private readonly fail = (error: unknown): void => {
    this.done()
    this.failed(error)
  }

  /** Resolves once every task tracked so far, and every one tracked meanwhile, has settled. */
  settled(): Promise<void> {
    if (this.running === 0) return Promise.resolve()
    return new Promise((resolve) => (this.waiters ??= []).push(resolve))
  }
}
