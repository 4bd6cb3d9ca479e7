/**
 * Tick labels in short forms a reader takes in at a glance: counts as 1k,
 * 10k, 1M; bytes as 100 B, 1 KiB, 1 MiB; microseconds as 500 µs, 1 ms, 1 s.
 */
import type { AxisUnit } from '../scale/figure'

const KiB = 1_024

/** Made once: `toLocaleString` builds a formatter per call, which dominated a chart's render time. */
const SEPARATED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 })

/** `value` without float noise (0.30000000000000004), with thousands separators. */
function plain(value: number): string {
  return SEPARATED.format(Number(value.toPrecision(6)))
}

function count(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e9) return `${plain(value / 1e9)}G`
  if (abs >= 1e6) return `${plain(value / 1e6)}M`
  if (abs >= 1e3) return `${plain(value / 1e3)}k`
  return plain(value)
}

function bytes(value: number): string {
  const abs = Math.abs(value)
  if (abs >= KiB ** 3) return `${plain(value / KiB ** 3)} GiB`
  if (abs >= KiB ** 2) return `${plain(value / KiB ** 2)} MiB`
  if (abs >= KiB) return `${plain(value / KiB)} KiB`
  return `${plain(value)} B`
}

function micros(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${plain(value / 1e6)} s`
  if (abs >= 1e3) return `${plain(value / 1e3)} ms`
  return `${plain(value)} µs`
}

/** The label of a tick at `value` on an axis of `unit`. */
export function tickLabel(value: number, unit: AxisUnit = 'count'): string {
  if (value === 0) return '0'
  switch (unit) {
    case 'count':
      return count(value)
    case 'bytes':
      return bytes(value)
    case 'us':
      return micros(value)
  }
}
