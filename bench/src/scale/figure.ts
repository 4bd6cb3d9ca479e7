/**
 * What a scale case produces: figures, each a curve per library over a
 * size (connections, subscribers, in-flight calls, payload bytes, history
 * length). The orchestrator prints each figure as a table and draws it as
 * an SVG chart into docs/benchmarks/ (charts/).
 */
import type { ImplName } from '../contract'

/** One measured point: the median over repetitions at size `x`. */
export interface Point {
  x: number
  y: number
  /** Every repetition's value, kept in the results file. */
  samples?: number[]
}

/** One line of a figure: one library (or one variant of it, say "wirecall, no window"). */
export interface Series {
  /** The implementation the line measures; the ratio column divides by `raw`'s line. */
  impl: ImplName
  /** The legend's text; the implementation's title when absent. */
  label?: string
  points: Point[]
}

/**
 * What an axis counts, for its chart's tick labels: `count` (the default)
 * as 1k, 10k, 1M; `bytes` as 100 B, 1 KiB, 1 MiB (and a log axis then
 * ticks at 1, 10, 100 × 1024ⁿ); `us` as 500 µs, 1 ms, 1 s.
 */
export type AxisUnit = 'count' | 'bytes' | 'us'

/** One chart and one table. */
export interface Figure {
  /** File name stem: docs/benchmarks/<id>.svg. Lowercase, dashes. */
  id: string
  title: string
  x: { label: string; log?: boolean; unit?: AxisUnit }
  y: { label: string; log?: boolean; unit?: AxisUnit }
  better: 'higher' | 'lower'
  series: Series[]
  /** A sentence under the table: what one point is, what bounds it. */
  note?: string
}

/** What a scale case gets from the orchestrator. */
export interface ScaleContext {
  /** `--quick`: the smallest sizes, one repetition: a smoke run. */
  quick: boolean
  /** Repetitions per size and implementation (each a fresh set of processes); points are medians. */
  reps: number
  /** The implementations asked for (`--impls`); a case runs those it supports. */
  impls: readonly ImplName[]
  /** Progress on stderr. */
  log(line: string): void
}

/** A benchmark that measures how a figure grows with a size. */
export interface ScaleCase {
  /** `--scale` name. */
  name: string
  /** The implementations the case can run. */
  impls: readonly ImplName[]
  /** One line for the report's legend. */
  describe(quick: boolean): string
  run(context: ScaleContext): Promise<Figure[]>
}
