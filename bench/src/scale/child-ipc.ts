/**
 * The child side of a scale case's own client processes (idle/, storm/):
 * typed messages to the orchestrator, commands handled one at a time, and
 * any error (an uncaught exception included: a library failing where no
 * caller waits) reported as `failed`, which fails the run with the child's
 * stack (child.ts).
 */
import { describeError, exitWithParent } from '../ipc'

/** Sends `message` to the orchestrator; resolves once it is handed over. */
export function tell<T extends { type: string }>(message: T): Promise<void> {
  const send = process.send?.bind(process)
  if (send === undefined) throw new Error('this process must be forked with an IPC channel (by the orchestrator)')
  return new Promise((resolve, reject) => {
    send(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()))
  })
}

/** Reports `error` as `failed` and exits 1. */
export function fail(error: unknown): void {
  void tell({ type: 'failed', error: describeError(error) })
    .catch(() => {})
    .finally(() => process.exit(1))
}

/**
 * Runs a child: `start` sets it up (its answer is the first message), then
 * `handle` gets every command, the next only once the one before is done.
 * Exits with the parent, and on failure.
 */
export function runChild<In extends { type: string }>(start: () => Promise<void>, handle: (message: In) => Promise<void>): void {
  exitWithParent()
  process.on('uncaughtException', fail)
  process.on('unhandledRejection', fail)
  let queue = Promise.resolve()
  // Listening before `start` runs: the orchestrator may send its first command as soon as it has the answer.
  process.on('message', (message: In) => {
    queue = queue.then(() => handle(message)).catch(fail)
  })
  queue = queue.then(start).catch(fail)
}
