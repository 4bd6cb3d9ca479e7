/**
 * Fan-out: many connections subscribe to `feed`, one of them calls
 * `publish`, and every subscriber must receive exactly seq 0..count-1 in
 * order. Result: deliveries per second, from the publish call to the last
 * delivery on any subscriber.
 */
import { hrtime } from 'node:process'
import type { BenchConnection } from '../contract'
import { perSecond, type BenchCase } from './case'
import { closeAll, connectMany } from './connections'
import { Mismatch, SeqChecker, within } from './verify'

/**
 * 200 × 1,000 = 200,000 deliveries: over a second at raw ws speed, and the
 * slowest implementation stays within seconds, so that the default run fits
 * in about 6 minutes.
 */
const COUNTS = {
  full: { subscribers: 200, warmup: 200, measured: 1_000, burst: 100 },
  quick: { subscribers: 50, warmup: 100, measured: 500, burst: 100 },
}

/** How long one publish may take to reach everyone before the run fails as lost events. */
const DELIVERY_TIMEOUT_MS = 45_000

/**
 * Publishes `count` events through `publisher` and resolves, once every
 * checker has its `count` events, with ns from the call to the last delivery.
 */
async function publishToAll(publisher: BenchConnection, checkers: SeqChecker[], count: number, burst: number): Promise<number> {
  let waiting = checkers.length
  let lastAt = 0n
  const allDelivered = new Promise<void>((resolve) => {
    for (const checker of checkers) {
      checker.onComplete = () => {
        if (--waiting > 0) return
        lastAt = hrtime.bigint()
        resolve()
      }
    }
  })
  const start = hrtime.bigint()
  const published = publisher.publish({ count, burst })
  await within(Promise.all([published, allDelivered]), DELIVERY_TIMEOUT_MS, `publish(${count}) to ${checkers.length} subscribers`).catch((error: unknown) => {
    for (const checker of checkers) checker.check() // a wrong event explains a timeout better
    const short = checkers.find((checker) => checker.received < checker.expected)
    if (short !== undefined && error instanceof Mismatch) throw new Mismatch(`${error.message}; ${waiting} subscribers short, e.g. ${short.received} of ${short.expected}`)
    throw error
  })
  for (const checker of checkers) checker.checkComplete()
  return Number(lastAt - start)
}

export const fanout: BenchCase = {
  name: 'fanout',
  label: 'fan-out deliveries/s',
  better: 'higher',
  describe: (quick) => {
    const { subscribers, warmup, measured, burst } = quick ? COUNTS.quick : COUNTS.full
    return `${subscribers} connections subscribed to feed; publish(${measured.toLocaleString('en-US')}, burst ${burst}) after a publish(${warmup}) warm-up`
  },
  async prepare({ impl, port, quick }) {
    const { subscribers, warmup, measured, burst } = quick ? COUNTS.quick : COUNTS.full
    const connections = await connectMany(impl, port, subscribers)
    const checkers = connections.map((_, i) => new SeqChecker(`subscriber ${i}`, warmup))
    const feeds: { stop(): void }[] = []
    try {
      feeds.push(...(await Promise.all(connections.map((connection, i) => connection.feed(checkers[i]!.onEvent)))))
      // The publisher is one of the subscribers, as in an app where a user posts to a room they are in.
      const publisher = connections[0]!
      await publishToAll(publisher, checkers, warmup, burst)
      return {
        async run() {
          for (const checker of checkers) checker.reset(measured) // seq restarts per publish
          const elapsedNs = await publishToAll(publisher, checkers, measured, burst)
          return { ops: subscribers * measured, elapsedNs }
        },
        async close() {
          for (const feed of feeds) feed.stop()
          await closeAll(connections)
          // Late extra events would have been recorded by now.
          for (const checker of checkers) checker.checkComplete()
        },
      }
    } catch (error) {
      await closeAll(connections).catch(() => {})
      throw error
    }
  },
  value: perSecond,
}
