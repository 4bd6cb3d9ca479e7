/**
 * Sample charts from made-up figures, one per kind of axis the scale cases
 * use, written to bench/results/charts/samples/: to look at the renderer's
 * output without a bench run.
 *
 *   pnpm --filter @wirecall/bench exec tsx src/charts/samples.ts
 */
import { fileURLToPath } from 'node:url'
import type { Figure, Series } from '../scale/figure'
import { writeCharts } from './index'

const OUT = fileURLToPath(new URL('../../results/charts/samples/', import.meta.url))

/** A made-up line: `f(x)` at each x (undefined leaves the point out). */
function line(impl: Series['impl'], xs: readonly number[], f: (x: number) => number | undefined, label?: string): Series {
  const points = xs.flatMap((x) => {
    const y = f(x)
    return y === undefined ? [] : [{ x, y }]
  })
  return label === undefined ? { impl, points } : { impl, label, points }
}

const SUBSCRIBERS = [10, 100, 1_000, 10_000]
const KiB = 1_024
const PAYLOADS = [100, KiB, 10 * KiB, 100 * KiB, 1_024 * KiB]
const CONNECTIONS = [1_000, 5_000, 10_000, 19_000]

export const SAMPLE_FIGURES: Figure[] = [
  {
    id: 'sample-fanout-throughput',
    title: 'Fan-out: deliveries per second by subscribers',
    x: { label: 'subscribers', log: true },
    y: { label: 'deliveries/s', log: true },
    better: 'higher',
    series: [
      line('raw', SUBSCRIBERS, (n) => 420_000 * n ** 0.12),
      line('wirecall', SUBSCRIBERS, (n) => 300_000 * n ** 0.1),
      line('socketio', SUBSCRIBERS, (n) => 180_000 * n ** 0.08),
      line('trpc', SUBSCRIBERS, (n) => 90_000 * n ** 0.05),
    ],
  },
  {
    id: 'sample-payload-throughput',
    title: 'Payload: MB/s by payload size',
    x: { label: 'payload bytes', log: true, unit: 'bytes' },
    y: { label: 'MB/s', log: true },
    better: 'higher',
    series: [
      line('raw', PAYLOADS, (b) => b / 400),
      line('wirecall', PAYLOADS, (b) => Math.min(b / 600, 8.4)),
      line('wirecall', PAYLOADS, (b) => b / 620, 'wirecall, rateLimit: false'),
      line('socketio', PAYLOADS, (b) => b / 900),
      line('trpc', PAYLOADS, (b) => b / 1_100),
    ],
  },
  {
    id: 'sample-idle-memory',
    title: 'Idle connections: server memory per connection',
    x: { label: 'connections' },
    y: { label: 'KB per connection' },
    better: 'lower',
    series: [
      line('raw', CONNECTIONS, () => 11.8),
      line('wirecall', CONNECTIONS, (n) => 15.2 + n / 10_000),
      line('socketio', CONNECTIONS, (n) => (n === 10_000 ? undefined : 31 - n / 5_000)),
      line('trpc', CONNECTIONS, () => 22.4),
    ],
  },
  {
    id: 'sample-latency-linear',
    title: 'Reconnect storm <all clients> & resume: p99 time to resume',
    x: { label: 'clients' },
    y: { label: 'p99 µs', unit: 'us' },
    better: 'lower',
    series: [
      line('raw', [500, 1_000, 2_000, 4_000], (n) => 300 * n),
      line('wirecall', [500, 1_000, 2_000, 4_000], (n) => 380 * n, 'wirecall (5 s window)'),
      line('wirecall', [500, 1_000, 2_000, 4_000], (n) => 420 * n, 'wirecall (no window)'),
      line('wirecall-otel', [500, 1_000, 2_000, 4_000], (n) => 470 * n),
      line('socketio', [500, 1_000, 2_000, 4_000], (n) => 520 * n),
    ],
  },
]

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = performance.now()
  writeCharts(SAMPLE_FIGURES, OUT)
  console.log(`${SAMPLE_FIGURES.length} charts in ${OUT} (${(performance.now() - started).toFixed(1)} ms)`)
}
