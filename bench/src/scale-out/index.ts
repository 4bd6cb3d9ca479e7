/**
 * The scale-out case (issue 16): the wirecall channel in one process
 * against the same channel on Redis Streams (`@wirecall/redis`) with 1, 2
 * and 4 server processes, side by side in one run, as ratios to the
 * in-memory channel: deliveries/s to 200 subscribers, Redis CPU per 1,000
 * publishes, and publish → deliver latency at 1,000 events/s. Run alone by
 * `pnpm --filter @wirecall/bench scale-out` (main.ts here), and by
 * `pnpm bench` as the scale case `scale-out`.
 */
import os from 'node:os'
import { ChildFailure } from '../child'
import { describeError } from '../ipc'
import { median, rotate } from '../stats'
import { formatNumber } from '../table'
import { BASE_CONFIG, CLIENT_PROCESSES, CONFIGS, HISTORY, LATENCY_SUBSCRIBERS, planFor, SUBSCRIBERS, type Config, type Plan } from './plan'
import { redisVersion } from './redis-server'
import { runScaleOut, type ScaleOutSample } from './run'

/** `--scale` name. */
export const SCALE_OUT_NAME = 'scale-out'

/** Every repetition's sample of one configuration. */
export interface ScaleOutLine {
  config: Config
  samples: ScaleOutSample[]
}

/** What a scale-out run measured, for the report and the results file. */
export interface ScaleOutResult {
  quick: boolean
  reps: number
  plan: Plan
  cores: number
  redis: string
  /** `os.loadavg()` before the first run and after the last. */
  loadBefore: number[]
  loadAfter: number[]
  lines: ScaleOutLine[]
}

/** What a run is given. */
export interface ScaleOutOptions {
  quick: boolean
  reps: number
  log(line: string): void
  /** The configurations to run, in report order. @default all of {@link CONFIGS} */
  configs?: readonly Config[]
  /** Run the server processes with `--cpu-prof` into this directory (their figures are then slowed down). */
  profileDir?: string
}

/** Runs every configuration `reps` times, in an order that rotates with the repetition. */
export async function runScaleOutCase({ quick, reps, log, configs = CONFIGS, profileDir }: ScaleOutOptions): Promise<ScaleOutResult> {
  const redis = redisVersion()
  const plan = planFor(quick)
  const lines = configs.map((config) => ({ config, samples: [] as ScaleOutSample[] }))
  const loadBefore = os.loadavg()
  const started = Date.now()
  for (let rep = 0; rep < reps; rep++) {
    for (const line of rotate(lines, rep)) {
      let sample: ScaleOutSample
      try {
        sample = await runScaleOut(line.config, plan, profileDir)
      } catch (error) {
        const detail = error instanceof ChildFailure ? error.message : describeError(error)
        throw new Error(`scale-out, ${line.config.label} (repetition ${rep + 1}) failed:\n${detail}`)
      }
      line.samples.push(sample)
      const seconds = ((Date.now() - started) / 1000).toFixed(0)
      const redisCpu = sample.redisCpuMsPer1000 === undefined ? '' : `, Redis ${formatNumber(sample.redisCpuMsPer1000)} ms CPU per 1,000 publishes`
      const { latency, latencyFew } = sample
      log(
        `[${seconds}s] scale-out rep ${rep + 1}/${reps} ${line.config.label.padEnd(22)} ${formatNumber(sample.deliveriesPerSecond)} deliveries/s${redisCpu}; ` +
          `at ${plan.latency.perSecond}/s: ${LATENCY_SUBSCRIBERS} subscribers p50 ${formatNumber(latencyFew.p50Us)} µs, p99 ${formatNumber(latencyFew.p99Us)} µs; ` +
          `${SUBSCRIBERS} subscribers p50 ${formatNumber(latency.p50Us)} µs, p99 ${formatNumber(latency.p99Us)} µs, ${latency.seconds.toFixed(2)} s for ${plan.latency.events / plan.latency.perSecond} s of events (load ${os.loadavg()[0]!.toFixed(2)})`,
      )
    }
  }
  return { quick, reps, plan, cores: os.cpus().length, redis, loadBefore, loadAfter: os.loadavg(), lines }
}

/** The median of one figure over a line's repetitions (NaN when it has none, as memory's Redis CPU). */
function figure(line: ScaleOutLine, value: (sample: ScaleOutSample) => number | undefined): number {
  const values = line.samples.map(value).filter((v): v is number => v !== undefined)
  return median(values)
}

/** The report: two tables, a row per configuration, ratios to the in-memory channel, and what bounds it. */
export function renderScaleOut(result: ScaleOutResult): string[] {
  // Without the in-memory line (--configs), the figures stand without ratios.
  const base = result.lines.find((line) => line.config.id === BASE_CONFIG.id)
  const cell = (line: ScaleOutLine, value: (sample: ScaleOutSample) => number | undefined) => {
    const mine = figure(line, value)
    if (!Number.isFinite(mine)) return '—'
    const theirs = base === undefined ? Number.NaN : figure(base, value)
    return line === base || !Number.isFinite(theirs) ? formatNumber(mine) : `${formatNumber(mine)} (${(mine / theirs).toFixed(2)}×)`
  }
  const runs = result.reps === 1 ? '1 run' : `medians of ${result.reps} runs`
  const { plan } = result
  const pace = `${plan.latency.events.toLocaleString('en-US')} events at ${plan.latency.perSecond.toLocaleString('en-US')}/s`
  const load = (values: number[]) => values.map((v) => v.toFixed(2)).join(' / ')
  const seconds = (line: ScaleOutLine, value: (sample: ScaleOutSample) => number) => line.samples.map((sample) => value(sample).toFixed(1)).join(', ')
  return [
    '',
    `## Scale-out on Redis (issue 16)${result.quick ? ' (--quick: small counts, a smoke run)' : ''}`,
    '',
    `One channel (history ${HISTORY.toLocaleString('en-US')}), subscriber i on server process i mod N, publishes entering on process 1; ${runs}, ratios to the in-memory channel.`,
    '',
    `#### ${SUBSCRIBERS} subscribers: deliveries/s and CPU`,
    '',
    "| configuration | deliveries/s ↑ | Redis CPU ms / 1,000 publishes ↓ | the same, paced ↓ | server processes' CPU ms / 1,000 publishes ↓ |",
    '|---|---:|---:|---:|---:|',
    ...result.lines.map(
      (line) =>
        `| ${line.config.label} | ${cell(line, (s) => s.deliveriesPerSecond)} | ${cell(line, (s) => s.redisCpuMsPer1000)} | ` +
        `${cell(line, (s) => s.redisCpuMsPer1000Paced)} | ${cell(line, (s) => s.nodesCpuMsPer1000)} |`,
    ),
    '',
    `${SUBSCRIBERS} subscribers in ${CLIENT_PROCESSES} client processes. Deliveries/s: ${plan.measured.toLocaleString('en-US')} events published through subscriber 0 as fast as the process accepts them ` +
      `(bursts of ${plan.burst}, each awaited until the channel stored it) × ${SUBSCRIBERS} subscribers, over the time from the publish call to the last delivery, after a warm-up of ${plan.warmup}. ` +
      `Redis CPU: INFO CPU used_cpu_user + used_cpu_sys of the redis-server (${result.redis.replace(/ sha=.*/, '')}, no persistence) around the publish, per 1,000 events, every process's XREAD of them included; "paced" is the same around the ${pace} below, where each XREAD carries about one event. ` +
      'Server CPU: user + system of every server process together around the unpaced publish. Every subscriber checks every event, in order, nothing more.',
    '',
    `#### Publish → deliver latency at ${plan.latency.perSecond.toLocaleString('en-US')} events/s`,
    '',
    `| configuration | p50 µs, ${LATENCY_SUBSCRIBERS} subscribers ↓ | p99 µs, ${LATENCY_SUBSCRIBERS} subscribers ↓ | p50 µs, ${SUBSCRIBERS} subscribers ↓ | p99 µs, ${SUBSCRIBERS} subscribers ↓ | s to deliver 1 s of events, ${SUBSCRIBERS} subscribers (each run) |`,
    '|---|---:|---:|---:|---:|---:|',
    ...result.lines.map(
      (line) =>
        `| ${line.config.label} | ${cell(line, (s) => s.latencyFew.p50Us)} | ${cell(line, (s) => s.latencyFew.p99Us)} | ` +
        `${cell(line, (s) => s.latency.p50Us)} | ${cell(line, (s) => s.latency.p99Us)} | ${seconds(line, (s) => s.latency.seconds / (plan.latency.events / plan.latency.perSecond))} |`,
    ),
    '',
    `${pace} (one event per timer tick), each stamped with process.hrtime.bigint() as the server publishes it and subtracted in the subscriber process at receipt (CLOCK_MONOTONIC, one clock for every process); percentiles over every delivery. ` +
      `${LATENCY_SUBSCRIBERS} subscribers (one client process, fresh processes, ${(LATENCY_SUBSCRIBERS * plan.latency.perSecond).toLocaleString('en-US')} deliveries/s) is one event's path; ` +
      `${SUBSCRIBERS} subscribers (the run above, ${(SUBSCRIBERS * plan.latency.perSecond).toLocaleString('en-US')} deliveries/s, a frame and a write per subscriber per event) includes the wait of the last socket behind the others, and a queue where the last column is above 1.`,
    '',
    `Machine: ${result.cores} cores (os.cpus().length); load average (1 / 5 / 15 min) ${load(result.loadBefore)} before, ${load(result.loadAfter)} after. ` +
      `A ${SUBSCRIBERS}-subscriber run holds ${CLIENT_PROCESSES} client processes, N server processes and, with Redis, redis-server: on ${result.cores} cores, from 2 server processes on, the busy processes outnumber the cores and share them.`,
    '',
  ]
}
