/**
 * One run of the fan-out scale case at one size: a fresh server process of
 * one implementation and fresh subscriber processes (each from its own
 * source address), then three publishes through subscriber 0: a warm-up,
 * the measured one (deliveries/s), and a paced, stamped one (publish →
 * deliver latency). Every event is checked in the subscriber processes.
 */
import { fileURLToPath } from 'node:url'
import type { Child } from '../../child'
import type { ImplName, PublishInput } from '../../contract'
import { Mismatch } from '../../cases/verify'
import { percentile } from '../../stats'
import { forkChild, startServer, STEP_TIMEOUT_MS } from '../processes'
import type { FromSubscribers, ToSubscribers } from './messages'
import { nextSourceAddress, shares } from '../fleet'
import type { SizePlan } from './plan'

const SUBSCRIBER_PROCESS = fileURLToPath(new URL('./subscriber-process.ts', import.meta.url))

/** Opening and subscribing 2,500 connections may take a while with a slow handshake. */
const CONNECT_TIMEOUT_MS = 180_000
/** Longer than a subscriber process's own delivery timeout, so that its message (which subscribers are short) comes first. */
const DELIVERY_WAIT_MS = 90_000

/** What one run measured. */
export interface FanoutSample {
  deliveriesPerSecond: number
  p50Us: number
  p99Us: number
  /** How long the paced publish took from its call to its last delivery: about `plan.latency.seconds` unless the library fell behind the pace. */
  latencySeconds: number
}

type SubscriberProcess = Child<ToSubscribers, FromSubscribers>

/** What one publish made, seen from every subscriber process. */
interface Publish {
  /** From the publish call to the last delivery on any subscriber. */
  elapsedNs: number
  latenciesNs: number[]
}

export async function runFanout(impl: ImplName, plan: SizePlan): Promise<FanoutSample> {
  const label = `fanout-scale/${impl}`
  const counts = shares(plan.subscribers, plan.processes)
  const processes: SubscriberProcess[] = []
  // Forked while the server starts: loading a library takes most of a second.
  const serverStarting = startServer(impl, {}, `${label} server`)
  try {
    let first = 0
    for (const [i, count] of counts.entries()) {
      const args = [impl, String(count), String(first), nextSourceAddress()]
      processes.push(forkChild<ToSubscribers, FromSubscribers>(`${label} subscribers ${i + 1}/${counts.length}`, SUBSCRIBER_PROCESS, args))
      first += count
    }
    const anyProcessFails = Promise.race(processes.map((child) => child.failed))
    const server = await Promise.race([serverStarting, anyProcessFails])
    const anyFails = Promise.race([server.child.failed, anyProcessFails])
    /** `wait`, or the first failure of any process of the run: a dead server fails the run at once. */
    const guard = <T>(wait: Promise<T>) => Promise.race([wait, anyFails])
    const all = <T>(each: (child: SubscriberProcess) => Promise<T>) => guard(Promise.all(processes.map(each)))

    await all((child) => child.next('listening', STEP_TIMEOUT_MS))
    await all((child) => child.request({ type: 'connect', port: server.port }, 'connected', CONNECT_TIMEOUT_MS))

    const publish = async (input: PublishInput): Promise<Publish> => {
      await all((child) => child.request({ type: 'expect', count: input.count, stamped: input.stamp === true }, 'expecting', STEP_TIMEOUT_MS))
      const delivered = Promise.all(processes.map((child) => child.next('delivered', DELIVERY_WAIT_MS)))
      const published = processes[0]!.request({ type: 'publish', input }, 'published', DELIVERY_WAIT_MS)
      const [deliveries, { startNs }] = await guard(Promise.all([delivered, published]))
      const lastNs = deliveries.map((delivery) => BigInt(delivery.lastNs)).reduce((a, b) => (a > b ? a : b))
      return { elapsedNs: Number(lastNs - BigInt(startNs)), latenciesNs: deliveries.flatMap((delivery) => delivery.latenciesNs) }
    }
    await publish({ count: plan.warmup, burst: plan.burst })
    const measured = await publish({ count: plan.measured, burst: plan.burst })
    const { events, perSecond, burst } = plan.latency
    const paced = await publish({ count: events, burst, stamp: true, perSecond })

    // Subscribers close before the server goes, so that no library sees a server-side close.
    // Each process exits once closed, which its siblings' wait must not take for a failure.
    await Promise.race([Promise.all(processes.map((child) => child.request({ type: 'close' }, 'closed', STEP_TIMEOUT_MS))), server.child.failed])
    // Not guarded: an exit is what `failed` reports.
    await Promise.all(processes.map((child) => child.exit(STEP_TIMEOUT_MS)))
    await server.close()

    const expected = plan.subscribers * events
    if (paced.latenciesNs.length !== expected) throw new Mismatch(`${label}: ${paced.latenciesNs.length} stamped deliveries, not ${expected}`)
    const sorted = Float64Array.from(paced.latenciesNs).sort()
    return {
      deliveriesPerSecond: (plan.subscribers * plan.measured) / (measured.elapsedNs / 1e9),
      p50Us: percentile(sorted, 0.5) / 1000,
      p99Us: percentile(sorted, 0.99) / 1000,
      latencySeconds: paced.elapsedNs / 1e9,
    }
  } finally {
    for (const child of processes) child.kill()
    // Started even when a subscriber process failed first.
    void serverStarting.then(
      (server) => server.kill(),
      () => {},
    )
  }
}
