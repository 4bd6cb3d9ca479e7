/**
 * The subscribers one client process of the fan-out scale case holds: their
 * connections (bound to the process's own source address), a SeqChecker
 * each, and per publish, when the last of them had every event and, for a
 * stamped publish, how long each delivery took from the server's publish.
 */
import { hrtime } from 'node:process'
import { closeAll, connectMany } from '../../cases/connections'
import { CONNECT_CONCURRENCY } from '../fleet'
import { Mismatch, preview, SeqChecker, within } from '../../cases/verify'
import type { BenchConnection, Impl, PushEvent } from '../../contract'

/** How long one publish may take to reach every subscriber before the run fails as lost events. */
const DELIVERY_TIMEOUT_MS = 60_000

/** One publish as this process saw it. */
export interface Delivered {
  /** When the last subscriber had its last event. */
  lastNs: bigint
  /** For a stamped publish: receipt minus `at`, per delivery, in ns. */
  latenciesNs: Float64Array
}

/** What one expected publish is waiting for. */
interface Phase {
  stamped: boolean
  latencies: Float64Array
  filled: number
  waiting: number
  resolve(lastNs: bigint): void
  reject(error: Error): void
}

export class SubscriberGroup {
  private phase: Phase | undefined
  private readonly feeds: { stop(): void }[] = []

  private constructor(
    private readonly connections: readonly BenchConnection[],
    private readonly checkers: readonly SeqChecker[],
    /** The number of the first subscriber, for messages. */
    private readonly first: number,
  ) {}

  /**
   * Opens `count` connections from `localAddress` and subscribes each to
   * `feed`; `first` numbers the subscribers across processes, for messages.
   */
  static async open(impl: Impl, port: number, count: number, first: number, localAddress: string): Promise<SubscriberGroup> {
    const connections = await connectMany(impl, port, count, CONNECT_CONCURRENCY, { localAddress })
    const checkers = connections.map((_, i) => new SeqChecker(`subscriber ${first + i}`, 0))
    const group = new SubscriberGroup(connections, checkers, first)
    try {
      const feeds = await Promise.all(connections.map((connection, i) => connection.feed(group.listener(checkers[i]!, first + i))))
      group.feeds.push(...feeds)
    } catch (error) {
      await closeAll(connections).catch(() => {})
      throw error
    }
    return group
  }

  /** The connection that publishes (in the first process): a subscriber too, as in the main fanout case. */
  get publisher(): BenchConnection {
    return this.connections[0]!
  }

  /** The handler of subscriber `number`'s events: its checker, then the latency of a stamped event. */
  private listener(checker: SeqChecker, number: number): (event: unknown) => void {
    return (event) => {
      checker.onEvent(event)
      const phase = this.phase
      if (phase === undefined) return
      // A wrong event fails the run now, not after the delivery timeout.
      if (checker.error !== undefined) return phase.reject(checker.error)
      if (!phase.stamped) return
      const at = typeof event === 'object' && event !== null ? (event as PushEvent).at : undefined
      if (typeof at !== 'number') return phase.reject(new Mismatch(`subscriber ${number}: a stamped publish delivered ${preview(event)}, without a number \`at\``))
      // The checker has counted the event, so there is room for it.
      phase.latencies[phase.filled++] = Number(hrtime.bigint()) - at
    }
  }

  /**
   * Arms every subscriber for the next publish of `count` events (checking
   * that the previous one delivered exactly what it should) and returns what
   * resolves once all of them have the events.
   */
  expect(count: number, stamped: boolean): Promise<Delivered> {
    for (const checker of this.checkers) checker.reset(count)
    let settle: Pick<Phase, 'resolve' | 'reject'> = { resolve: () => {}, reject: () => {} }
    const lastDelivery = new Promise<bigint>((resolve, reject) => {
      settle = { resolve, reject }
    })
    const phase: Phase = { stamped, latencies: new Float64Array(stamped ? count * this.checkers.length : 0), filled: 0, waiting: this.checkers.length, ...settle }
    for (const checker of this.checkers) {
      checker.onComplete = () => {
        if (--phase.waiting === 0) phase.resolve(hrtime.bigint())
      }
    }
    this.phase = phase
    const what = `publish(${count}) to subscribers ${this.first} to ${this.first + this.checkers.length - 1}`
    return within(lastDelivery, DELIVERY_TIMEOUT_MS, what).then(
      (lastNs) => {
        if (phase.filled !== phase.latencies.length) throw new Mismatch(`${what}: ${phase.filled} stamped deliveries of ${phase.latencies.length}`)
        return { lastNs, latenciesNs: phase.latencies }
      },
      (error: unknown) => {
        for (const checker of this.checkers) checker.check() // a wrong event explains a timeout better
        const short = this.checkers.find((checker) => checker.received < checker.expected)
        if (short !== undefined && error instanceof Mismatch) throw new Mismatch(`${error.message}; ${phase.waiting} subscribers short, e.g. ${short.received} of ${short.expected}`)
        throw error
      },
    )
  }

  /** Unsubscribes and closes every connection, then checks that no event arrived past the last publish. */
  async close(): Promise<void> {
    for (const feed of this.feeds) feed.stop()
    await closeAll(this.connections)
    for (const checker of this.checkers) checker.checkComplete()
  }
}
