/**
 * Scale case `storm`: a reconnect storm after a graceful restart. Every
 * client is subscribed to `feed` through its library's normal client; the
 * server restarts (A closes gracefully, B starts on the same port once A
 * has exited); measured: the time from A's close until every client is
 * subscribed again on B, and B's peak CPU and RSS meanwhile. wirecall runs
 * twice: with its restart window (clients told to come back spread over
 * 5 s) and without one.
 */
import { median, rotate } from '../stats'
import { formatNumber, IMPL_TITLES } from '../table'
import type { Figure, ScaleCase, ScaleContext, Series } from './figure'
import { processesFor } from './fleet'
import type { StormTally } from './storm/messages'
import { measureStorm, type StormSample, type StormVariant } from './storm/measure'
import { STORM_IMPLS } from './storm/subscriber'

const SIZES = { full: [1_000, 10_000], quick: [500] }

/** The lines of the figures. raw's has no label: the ratios divide by it. */
const VARIANTS: readonly StormVariant[] = [
  { impl: 'raw', restart: {} },
  { impl: 'wirecall', label: 'wirecall (5 s window)', restart: {} },
  { impl: 'wirecall', label: 'wirecall (no window)', restart: { reconnectWindowMs: 0 } },
  { impl: 'socketio', restart: {} },
]

const count = (n: number) => n.toLocaleString('en-US')
const titleOf = (variant: StormVariant) => variant.label ?? IMPL_TITLES[variant.impl]

/** One line of what the clients went through: why sockets closed, how many retries, the longest wait. */
function describeTally(tally: StormTally): string {
  const drops = Object.entries(tally.drops)
    .sort(([, a], [, b]) => b - a)
    .map(([reason, n]) => `${reason} ×${count(n)}`)
    .join(', ')
  const parts = [`drops: ${drops === '' ? 'none' : drops}`, `${count(tally.retries)} retries`]
  if (tally.maxRetryDelayMs > 0) parts.push(`longest wait ${formatNumber(tally.maxRetryDelayMs / 1000)} s`)
  if (tally.resyncs > 0) parts.push(`${count(tally.resyncs)} resyncs`)
  if (tally.extraStarts > 0) parts.push(`${count(tally.extraStarts)} extra resubscriptions`)
  return parts.join('; ')
}

function describe(quick: boolean): string {
  const sizes = quick ? SIZES.quick : SIZES.full
  return (
    `${sizes.map(count).join(' and ')} clients subscribed to feed (${processesFor(sizes)} client processes, source addresses 127.0.0.2 and up); ` +
    `the server restarts gracefully (B on A's port once A has exited); seconds until every client is resubscribed on B, B's peak CPU and RSS`
  )
}

async function run(context: ScaleContext): Promise<Figure[]> {
  const sizes = context.quick ? SIZES.quick : SIZES.full
  const variants = VARIANTS.filter((variant) => context.impls.includes(variant.impl))
  const processes = processesFor(sizes)
  const samples = new Map<StormVariant, Map<number, StormSample[]>>(variants.map((variant) => [variant, new Map(sizes.map((size) => [size, []]))]))
  for (let rep = 0; rep < context.reps; rep++) {
    for (const size of sizes) {
      for (const variant of rotate(variants, rep)) {
        const sample = await measureStorm(variant, size, processes)
        samples.get(variant)!.get(size)!.push(sample)
        context.log(
          `  storm rep ${rep + 1}/${context.reps} ${titleOf(variant).padEnd(22)} ${count(size).padStart(6)} clients: all back after ${formatNumber(sample.seconds)} s ` +
            `(A closed in ${formatNumber(sample.closeSeconds)} s, B listening after ${formatNumber(sample.listeningSeconds)} s), B peak CPU ${formatNumber(sample.peakCpuPercent)} %, peak RSS ${formatNumber(sample.peakRssBytes / 1048576)} MB` +
            `; ${describeTally(sample.tally)}`,
        )
      }
    }
  }

  const series = (value: (sample: StormSample) => number): Series[] =>
    variants.map((variant) => ({
      impl: variant.impl,
      ...(variant.label === undefined ? {} : { label: variant.label }),
      points: sizes.map((size) => {
        const values = samples.get(variant)!.get(size)!.map(value)
        return { x: size, y: median(values), samples: values }
      }),
    }))
  const listening = median([...samples.values()].flatMap((bySize) => [...bySize.values()].flat().map((sample) => sample.listeningSeconds)))
  const clients = `${processes === 1 ? 'One client process shares' : `${processes} client processes share`} the 2 cores with the server`
  const figure = (id: string, title: string, y: string, value: (sample: StormSample) => number, note: string): Figure => ({
    id,
    title,
    x: { label: 'clients' },
    y: { label: y },
    better: 'lower',
    series: series(value),
    note,
  })
  return [
    figure(
      'storm-resubscribe-seconds',
      'Reconnect storm: time until every client is resubscribed',
      'seconds',
      (sample) => sample.seconds,
      `From server A's graceful close (wirecall: close({ reconnectWindowMs }); raw ws: every socket closed with 1012; socket.io: close()) to the last client's subscription acknowledged by B ` +
        `(wirecall: onStarted; raw ws: the feed's answer; socket.io: the join's ack), B started on A's port once A had exited; it listened ${formatNumber(listening)} s after the close (median), ` +
        `a floor under every line. Then events are published and every client must get each one. Clients: wirecall and socket.io with their reconnect defaults ` +
        `(socket.io re-joins the room on connect); raw ws with a hand-written reconnect: a random 0–1 s wait after the close, then 1 s, 2 s, 4 s... (at most 30 s) plus the same jitter after each failed attempt. ` +
        `wirecall's window spreads the reconnects over 5 s: it bounds the load on B (next figures) and puts a floor of about the window under the total. ` +
        `Without a window every wirecall client retries at once, mostly before B listens, then backs off with full jitter (0–1 s, 0–2 s, 0–4 s...): ` +
        `the reconnects come in a burst, and a client that failed a few times may wait several seconds after B is up. ${clients}.`,
    ),
    figure(
      'storm-peak-cpu',
      'Reconnect storm: peak CPU of the restarted server',
      '% of one core',
      (sample) => sample.peakCpuPercent,
      `The highest CPU use (user + system, all threads) of server B over any 100 ms interval from the moment it listened until every client was back; 100 % is one core. ${clients}.`,
    ),
    figure(
      'storm-peak-rss',
      'Reconnect storm: peak RSS of the restarted server',
      'MB',
      (sample) => sample.peakRssBytes / 1048576,
      `Server B's VmHWM (the most RSS it had since it started, /proc) once every client was back: its start-up, the storm and every connection held.`,
    ),
  ]
}

export const storm: ScaleCase = { name: 'storm', impls: STORM_IMPLS, describe, run }
