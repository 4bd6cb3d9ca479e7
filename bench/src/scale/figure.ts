/**
 * What a scale case produces: figures, each a curve per library over a
 * size (connections, subscribers, in-flight calls, payload bytes, history
 * length). The orchestrator prints each figure as a table and draws it as
 * an SVG chart into docs/benchmarks/ (charts.ts).
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

/** One chart and one table. */
export interface Figure {
  /** File name stem: docs/benchmarks/<id>.svg. Lowercase, dashes. */
  id: string
  title: string
  x: { label: string; log?: boolean }
  y: { label: string; log?: boolean }
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
