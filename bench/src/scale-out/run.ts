/**
 * The two runs of a configuration in the scale-out case, each in fresh
 * processes (session.ts): the 200-subscriber run (deliveries/s as fast as
 * the publisher goes, Redis and node CPU, then latency at 1,000 events/s),
 * and the 10-subscriber run (latency at 1,000 events/s, where the fan-out
 * itself costs little). Every event is checked in the subscriber processes.
 */
import { Mismatch } from '../cases/verify'
import type { PublishInput } from '../contract'
import { percentile } from '../stats'
import { CLIENT_PROCESSES, LATENCY_SUBSCRIBERS, SUBSCRIBERS, type Config, type Plan } from './plan'
import { openSession, type Published, type Session } from './session'

/** Publish → deliver latency of one paced, stamped publish. */
export interface LatencySample {
  p50Us: number
  p99Us: number
  /** From the publish call to the last delivery: about events / perSecond unless the path fell behind the pace (then the figure includes a queue). */
  seconds: number
}

/** What the two runs of a configuration measured. */
export interface ScaleOutSample {
  deliveriesPerSecond: number
  /** Redis CPU (user + system) per 1,000 events of the measured publish, ms; undefined in memory. */
  redisCpuMsPer1000: number | undefined
  /** The same over the paced publish at 200 subscribers (each XREAD then carries about one event). */
  redisCpuMsPer1000Paced: number | undefined
  /** CPU of every node process together per 1,000 events of the measured publish, ms. */
  nodesCpuMsPer1000: number
  /** At 1,000 events/s to the 200 subscribers. */
  latency: LatencySample
  /** At 1,000 events/s to 10 subscribers. */
  latencyFew: LatencySample
}

/** Runs `phase` and returns the Redis CPU it took per 1,000 of its `events`, in ms. */
async function redisCpuPer1000(session: Session, events: number, phase: () => Promise<void>): Promise<number | undefined> {
  const before = await session.redisCpuUs()
  await phase()
  const after = await session.redisCpuUs()
  return before === undefined || after === undefined ? undefined : (after - before) / 1000 / (events / 1000)
}

function latencyOf(published: Published, subscribers: number, input: PublishInput, label: string): LatencySample {
  const expected = subscribers * input.count
  if (published.latenciesNs.length !== expected) throw new Mismatch(`${label}: ${published.latenciesNs.length} stamped deliveries, not ${expected}`)
  const sorted = Float64Array.from(published.latenciesNs).sort()
  return { p50Us: percentile(sorted, 0.5) / 1000, p99Us: percentile(sorted, 0.99) / 1000, seconds: published.elapsedNs / 1e9 }
}

/** Runs `config` once with `plan`'s counts: both runs, one after the other. */
export async function runScaleOut(config: Config, plan: Plan, profileDir?: string): Promise<ScaleOutSample> {
  const label = `scale-out/${config.id}`
  const paced: PublishInput = { count: plan.latency.events, burst: plan.latency.burst, stamp: true, perSecond: plan.latency.perSecond }
  const unpaced = (count: number): PublishInput => ({ count, burst: plan.burst })

  let throughput: Omit<ScaleOutSample, 'latencyFew'>
  const wide = await openSession(config, SUBSCRIBERS, CLIENT_PROCESSES, label, profileDir)
  try {
    await wide.publish(unpaced(plan.warmup))
    const nodesBefore = await wide.nodesCpuUs()
    let measured: Published | undefined
    const redisMeasured = await redisCpuPer1000(wide, plan.measured, async () => {
      measured = await wide.publish(unpaced(plan.measured))
    })
    const nodesAfter = await wide.nodesCpuUs()
    let stamped: Published | undefined
    const redisPaced = await redisCpuPer1000(wide, paced.count, async () => {
      stamped = await wide.publish(paced)
    })
    throughput = {
      deliveriesPerSecond: (SUBSCRIBERS * plan.measured) / (measured!.elapsedNs / 1e9),
      redisCpuMsPer1000: redisMeasured,
      redisCpuMsPer1000Paced: redisPaced,
      nodesCpuMsPer1000: (nodesAfter - nodesBefore) / 1000 / (plan.measured / 1000),
      latency: latencyOf(stamped!, SUBSCRIBERS, paced, label),
    }
    await wide.close()
  } finally {
    await wide.close()
  }

  // One client process: 10 subscribers are no load for it.
  const few = await openSession(config, LATENCY_SUBSCRIBERS, 1, `${label} (${LATENCY_SUBSCRIBERS} subscribers)`, profileDir)
  try {
    await few.publish(unpaced(plan.warmup))
    const latencyFew = latencyOf(await few.publish(paced), LATENCY_SUBSCRIBERS, paced, `${label} (${LATENCY_SUBSCRIBERS} subscribers)`)
    await few.close()
    return { ...throughput, latencyFew }
  } finally {
    await few.close()
  }
}
