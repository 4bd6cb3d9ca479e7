/**
 * The fan-out scale case (`--scale fanout-scale`): one channel (`feed`)
 * with 10, 100, 1,000 and 10,000 subscribers, held by up to 4 client
 * processes, and how each library's fan-out holds up as they grow: the
 * deliveries/s of bursts as fast as the library goes, and the publish →
 * deliver latency (p50, p99) of events published at a steady pace well
 * below that. How one run goes: fanout/run.ts; the counts: fanout/plan.ts.
 */
import type { ImplName } from '../contract'
import { describeError } from '../ipc'
import { median, rotate } from '../stats'
import { formatNumber, IMPL_TITLES } from '../table'
import { ChildFailure } from '../child'
import type { Figure, ScaleCase, Series } from './figure'
import { LATENCY_DELIVERIES_PER_SECOND, MIN_EVENTS_PER_SECOND, planFor, SIZES } from './fanout/plan'
import { runFanout, type FanoutSample } from './fanout/run'

const IMPLS = ['raw', 'wirecall', 'trpc', 'socketio'] as const satisfies readonly ImplName[]

/**
 * The most subscribers an implementation runs with. tRPC stops at 1,000:
 * at 10,000 one run takes one and a half minutes (a few thousand
 * deliveries/s: its feed is an EventEmitter read through one async
 * iterator per subscriber, every event serialized once per subscriber), and
 * its paced publish would measure a queue, not a latency.
 */
const LARGEST: Partial<Record<ImplName, number>> = { trpc: 1_000 }
const runsAt = (impl: ImplName, size: number) => size <= (LARGEST[impl] ?? Infinity)

/** A paced publish that takes this much longer than its schedule was not keeping pace. */
const SATURATED = 1.2

/** One line of a figure: `value` of each size's samples, median over repetitions. */
function series(impl: ImplName, samples: ReadonlyMap<number, FanoutSample[]>, value: (sample: FanoutSample) => number): Series {
  return {
    impl,
    points: [...samples].map(([x, runs]) => {
      const values = runs.map(value)
      return { x, y: median(values), samples: values }
    }),
  }
}

/** The note's sentence on the implementations {@link LARGEST} stopped early in this run, if any. */
function skipped(impls: readonly ImplName[], sizes: readonly number[]): string {
  const stopped = impls.filter((impl) => sizes.some((size) => !runsAt(impl, size)))
  return stopped.map((impl) => ` ${IMPL_TITLES[impl]} runs up to ${LARGEST[impl]!.toLocaleString('en-US')} subscribers (beyond, a run takes over a minute and its paced publish falls behind).`).join('')
}

function describeSizes(quick: boolean): string {
  return (quick ? SIZES.quick : SIZES.full).map((size) => size.toLocaleString('en-US')).join(', ')
}

export const fanoutScale: ScaleCase = {
  name: 'fanout-scale',
  impls: IMPLS,
  describe: (quick) => {
    const { subscribers, measured } = planFor(SIZES.quick[0], quick)
    return (
      `${describeSizes(quick)} connections subscribed to feed (up to 2,500 per client process); ` +
      `deliveries/s of ${(subscribers * measured).toLocaleString('en-US')} deliveries in bursts, then publish → deliver latency at ${LATENCY_DELIVERIES_PER_SECOND.toLocaleString('en-US')} deliveries/s`
    )
  },

  async run({ quick, reps, impls, log }) {
    const sizes = quick ? SIZES.quick : SIZES.full
    const samples = new Map<ImplName, Map<number, FanoutSample[]>>(impls.map((impl) => [impl, new Map()]))
    const started = Date.now()
    for (const size of sizes) {
      const plan = planFor(size, quick)
      for (let rep = 0; rep < reps; rep++) {
        for (const impl of rotate(impls, rep).filter((candidate) => runsAt(candidate, size))) {
          let sample: FanoutSample
          try {
            sample = await runFanout(impl, plan)
          } catch (error) {
            const detail = error instanceof ChildFailure ? error.message : describeError(error)
            throw new Error(`fanout-scale, implementation "${impl}", ${size.toLocaleString('en-US')} subscribers (repetition ${rep + 1}) failed:\n${detail}`)
          }
          // Slower than its pace: the library could not keep up, and its latency includes a queue.
          if (sample.latencySeconds > plan.latency.seconds * SATURATED) {
            log(`  fanout-scale: ${IMPL_TITLES[impl]} at ${size.toLocaleString('en-US')} subscribers took ${sample.latencySeconds.toFixed(1)} s to deliver ${plan.latency.seconds} s of paced events: its latency includes a queue`)
          }
          const bySize = samples.get(impl)!
          bySize.set(size, [...(bySize.get(size) ?? []), sample])
          const seconds = ((Date.now() - started) / 1000).toFixed(0)
          log(
            `[${seconds}s] fanout-scale ${size.toLocaleString('en-US').padStart(6)} subscribers rep ${rep + 1}/${reps} ${IMPL_TITLES[impl].padEnd(12)} ` +
              `${formatNumber(sample.deliveriesPerSecond)} deliveries/s, p50 ${formatNumber(sample.p50Us)} µs, p99 ${formatNumber(sample.p99Us)} µs ` +
              `(paced publish: ${sample.latencySeconds.toFixed(2)} s for ${plan.latency.seconds} s of events)`,
          )
        }
      }
    }

    const lines = (value: (sample: FanoutSample) => number) => impls.map((impl) => series(impl, samples.get(impl)!, value))
    const plans = sizes.map((size) => planFor(size, quick))
    const bursts = plans.map((plan) => `${plan.measured.toLocaleString('en-US')} events in bursts of ${plan.burst}`).join(', ')
    const paces = plans.map(({ latency }) => `${latency.events.toLocaleString('en-US')} events at ${latency.perSecond.toLocaleString('en-US')}/s`).join(', ')
    const x = { label: 'subscribers', log: true }
    const latencyNote =
      `Each event is stamped by the server with process.hrtime.bigint() as it is published; each subscriber subtracts it from its own clock at receipt (CLOCK_MONOTONIC, shared by every process). ` +
      `Published at a steady ${LATENCY_DELIVERIES_PER_SECOND.toLocaleString('en-US')} deliveries/s, but at least ${MIN_EVENTS_PER_SECOND} events/s (${paces} at ${describeSizes(quick)} subscribers; several events per 2 ms tick above 500/s), ` +
      `well below every library's deliveries/s, so the figure is one event's path, not a queue. Percentiles over every delivery of the paced publish, which follows the deliveries/s measurement.`
    return [
      {
        id: 'fanout-scale-deliveries',
        title: 'Fan-out to N subscribers of one channel: deliveries/s',
        x,
        y: { label: 'deliveries/s', log: true },
        better: 'higher',
        series: lines((sample) => sample.deliveriesPerSecond),
        note:
          `N connections, up to 2,500 per client process (each from its own 127.0.0.x), subscribed to feed; subscriber 0 calls publish: ${bursts} (at ${describeSizes(quick)} subscribers), after a warm-up publish. ` +
          `From the publish call to the last delivery on any subscriber; every subscriber checks that it got every event, in order.${skipped(impls, sizes)}`,
      },
      {
        id: 'fanout-scale-latency-p50',
        title: 'Fan-out to N subscribers of one channel: publish → deliver latency, p50',
        x,
        y: { label: 'p50 µs', unit: 'us' },
        better: 'lower',
        series: lines((sample) => sample.p50Us),
        note: latencyNote + skipped(impls, sizes),
      },
      {
        id: 'fanout-scale-latency-p99',
        title: 'Fan-out to N subscribers of one channel: publish → deliver latency, p99',
        x,
        y: { label: 'p99 µs', log: true, unit: 'us' },
        better: 'lower',
        series: lines((sample) => sample.p99Us),
        note: latencyNote + skipped(impls, sizes),
      },
    ] satisfies Figure[]
  },
}
