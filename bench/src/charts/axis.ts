/**
 * An axis's domain and ticks. A log axis has its ticks on rungs (decades;
 * for bytes 1, 10, 100 × 1024ⁿ, so that 1 KiB and 1 MiB are rungs), labels
 * each rung (and 2× and 5× when there are few), and draws a faint line at
 * 2..9×; it ends on a rung when the data ends near one.
 * A linear axis steps by 1, 2 or 5 × a power of ten (of 1024ⁿ bytes for
 * byte axes), from 0 when asked.
 */
import type { AxisUnit } from '../scale/figure'
import { tickLabel } from './tick-labels'

export interface Tick {
  value: number
  /** A rung of a log axis or a step of a linear one (a darker grid line, and its label goes first). */
  major: boolean
  /** The label; undefined for a grid line without one. */
  label?: string
}

export interface Axis {
  log: boolean
  min: number
  max: number
  ticks: Tick[]
  /** Where `value` falls: 0 at `min`, 1 at `max`. */
  fraction(value: number): number
  /** Whether `value` has a place on the axis (a log axis has none for 0 and below). */
  drawable(value: number): boolean
}

export interface AxisOptions {
  log: boolean
  unit: AxisUnit
  /** Linear axes: the domain reaches 0 (a y axis, so that bar heights compare). */
  fromZero: boolean
  /** Linear axes: about how many steps to divide the domain into. */
  steps: number
  /** Log axes: at most how many rungs to label (more are thinned to every n-th). */
  maxLabels: number
}

const KiB = 1_024
/** Tolerance for float error when comparing a value with a rung. */
const EPS = 1e-9

/** `value` without float noise, so that 0.1 + 0.2 steps give 0.3. */
const clean = (value: number) => Number(value.toPrecision(12))

export function buildAxis(values: readonly number[], options: AxisOptions): Axis {
  return options.log ? logAxis(values, options) : linearAxis(values, options)
}

/** Every rung of a log axis from one under `lo` to one over `hi`. */
function ladder(lo: number, hi: number, unit: AxisUnit): number[] {
  const all: number[] = []
  if (unit === 'bytes') {
    const first = Math.floor(Math.log(lo) / Math.log(KiB)) - 1
    const last = Math.ceil(Math.log(hi) / Math.log(KiB)) + 1
    for (let power = first; power <= last; power++) for (const mantissa of [1, 10, 100]) all.push(clean(mantissa * KiB ** power))
  } else {
    for (let power = Math.floor(Math.log10(lo)) - 1; power <= Math.ceil(Math.log10(hi)) + 1; power++) all.push(clean(10 ** power))
  }
  return all
}

/** How close (in decades) a data end must be to a rung for the axis to end on that rung rather than just past the data. */
const SNAP_DECADES = 0.15

/**
 * A log axis's ends: on a rung where the data ends on or near one (the
 * sizes usually do), else just past the data, so that a value a hair over
 * a rung (10 KiB on a decimal axis) does not cost a whole empty decade.
 */
function logDomain(lo: number, hi: number, rungs: readonly number[]): [number, number] {
  const decades = Math.log10(hi / lo)
  const pad = lo === hi ? 0.5 : Math.max(0.03, 0.04 * decades)
  const below = [...rungs].reverse().find((rung) => rung <= lo * (1 + EPS))
  const above = rungs.find((rung) => rung >= hi * (1 - EPS))
  const min = below !== undefined && Math.log10(lo / below) <= SNAP_DECADES ? below : lo / 10 ** pad
  const max = above !== undefined && Math.log10(above / hi) <= SNAP_DECADES ? above : hi * 10 ** pad
  return max > min ? [min, max] : [lo / 10 ** 0.5, hi * 10 ** 0.5]
}

function logAxis(values: readonly number[], options: AxisOptions): Axis {
  const positive = values.filter((value) => Number.isFinite(value) && value > 0)
  const lo = positive.length === 0 ? 1 : Math.min(...positive)
  const hi = positive.length === 0 ? 10 : Math.max(...positive)
  const rungs = ladder(lo, hi, options.unit)
  const [min, max] = logDomain(lo, hi, rungs)
  const inside = (value: number) => value >= min * (1 - EPS) && value <= max * (1 + EPS)
  // A short axis labels multiples between rungs too (all of them up to about a decade, else 2× and 5×); a long one thins its rungs.
  const decades = Math.log10(max / min)
  const labelledMultiple = (multiple: number) => decades < 1.2 || (decades <= 2.5 && (multiple === 2 || multiple === 5))
  const stride = Math.max(1, Math.ceil(rungs.filter(inside).length / Math.max(1, options.maxLabels)))
  const ticks: Tick[] = []
  let rungIndex = 0
  rungs.forEach((rung, index) => {
    if (inside(rung)) {
      ticks.push(rungIndex % stride === 0 ? { value: rung, major: true, label: tickLabel(rung, options.unit) } : { value: rung, major: true })
      rungIndex += 1
    }
    const next = rungs[index + 1]
    if (next === undefined) return
    for (let multiple = 2; multiple <= 9 && multiple * rung < next * (1 - EPS); multiple++) {
      const value = clean(multiple * rung)
      if (!inside(value)) continue
      ticks.push(labelledMultiple(multiple) ? { value, major: false, label: tickLabel(value, options.unit) } : { value, major: false })
    }
  })
  // An axis so short that no tick landed on it: label the data's ends.
  if (ticks.filter((tick) => tick.label !== undefined).length < 2) {
    for (const value of new Set([lo, hi])) ticks.push({ value, major: false, label: tickLabel(value, options.unit) })
  }
  const span = Math.log(max) - Math.log(min)
  return {
    log: true,
    min,
    max,
    ticks,
    fraction: (value) => (Math.log(value) - Math.log(min)) / span,
    drawable: (value) => Number.isFinite(value) && value > 0,
  }
}

/** A step of 1, 2 or 5 × 10ⁿ (× 1024ᵏ on a byte axis past 1 KiB) giving about `steps` intervals over `span`. */
function niceStep(span: number, magnitude: number, options: AxisOptions): number {
  const base = options.unit === 'bytes' && magnitude >= KiB ? KiB ** Math.floor(Math.log(magnitude) / Math.log(KiB)) : 1
  const raw = span / base / Math.max(1, options.steps)
  const power = 10 ** Math.floor(Math.log10(raw))
  const mantissa = raw / power
  const nice = mantissa <= 1 + EPS ? 1 : mantissa <= 2 + EPS ? 2 : mantissa <= 5 + EPS ? 5 : 10
  return nice * power * base
}

function linearAxis(values: readonly number[], options: AxisOptions): Axis {
  const finite = values.filter((value) => Number.isFinite(value))
  let lo = finite.length === 0 ? 0 : Math.min(...finite)
  let hi = finite.length === 0 ? 1 : Math.max(...finite)
  if (options.fromZero) [lo, hi] = [Math.min(0, lo), Math.max(0, hi)]
  if (hi === lo) [lo, hi] = lo === 0 ? [0, 1] : [lo - Math.abs(lo) / 2, hi + Math.abs(hi) / 2]
  const step = niceStep(hi - lo, Math.max(Math.abs(lo), Math.abs(hi)), options)
  const min = clean(Math.floor(lo / step + EPS) * step)
  const max = clean(Math.ceil(hi / step - EPS) * step)
  const ticks: Tick[] = []
  for (let index = 0; index <= Math.round((max - min) / step); index++) {
    const value = clean(min + index * step)
    ticks.push({ value, major: true, label: tickLabel(value, options.unit) })
  }
  return {
    log: false,
    min,
    max,
    ticks,
    fraction: (value) => (value - min) / (max - min),
    drawable: (value) => Number.isFinite(value),
  }
}
