/**
 * A scale case's client processes, seen from the orchestrator: forked
 * together, each with a fresh source address, asked the same thing at
 * once, and failing the step as soon as any of them (or the server) fails.
 */
import type { Child } from '../child'
import { nextSourceAddress } from './fleet'
import { forkChild, STEP_TIMEOUT_MS } from './processes'

/** Client processes of one run. */
export class ClientFleet<In extends object, Out extends { type: string }> {
  readonly children: Child<In, Out>[]
  /** The source address of each child, in order. */
  readonly addresses: string[]

  /** Forks `count` children of `file`, each started with `args(address)` and bound (by the child) to its own source address. */
  constructor(label: string, file: string, count: number, args: (address: string) => string[]) {
    this.addresses = Array.from({ length: count }, () => nextSourceAddress())
    this.children = this.addresses.map((address, i) => forkChild<In, Out>(`${label} client ${i + 1}`, file, args(address)))
  }

  /**
   * Runs `step` on every child at once and waits for all; rejects at the
   * first failure of a step, of a child, or of `watched` (the server's
   * `failed`), so that a crash fails the run at once, not at a timeout.
   */
  all<T>(step: (child: Child<In, Out>, index: number) => Promise<T>, watched: Promise<never>): Promise<T[]> {
    return Promise.race([Promise.all(this.children.map(step)), watched, ...this.children.map((child) => child.failed)])
  }

  /** Sends each child `exit` and waits until every one is gone (an exit is no failure here). */
  async exit(exit: In): Promise<void> {
    await Promise.all(
      this.children.map((child) => {
        child.send(exit)
        return child.exit(STEP_TIMEOUT_MS)
      }),
    )
  }

  kill(): void {
    for (const child of this.children) child.kill()
  }
}
