/**
 * Collects a scale case's values, one per repetition, by line and size, and
 * turns them into a figure's series: each point the median of its
 * repetitions, every repetition kept in `samples`.
 */
import type { ImplName } from '../contract'
import { median } from '../stats'
import type { Series } from './figure'

/** One line of a figure while its values come in: an implementation, or a labelled variant of one. */
export interface LineKey {
  impl: ImplName
  label?: string
}

export class RepSamples {
  private readonly lines = new Map<string, { key: LineKey; values: Map<number, number[]> }>()

  /** Declares the lines in the legend's order (a line never added to keeps its place, empty). */
  constructor(keys: readonly LineKey[]) {
    for (const key of keys) this.lines.set(this.name(key), { key, values: new Map() })
  }

  /** Records one repetition's `value` of line `key` at size `x`. */
  add(key: LineKey, x: number, value: number): void {
    const line = this.lines.get(this.name(key))
    if (line === undefined) throw new Error(`no line ${this.name(key)} was declared`)
    const values = line.values.get(x) ?? []
    values.push(value)
    line.values.set(x, values)
  }

  /** The series, lines in declared order, points by ascending size; lines with no value are left out. */
  series(): Series[] {
    const out: Series[] = []
    for (const { key, values } of this.lines.values()) {
      if (values.size === 0) continue
      const points = [...values.entries()].sort(([a], [b]) => a - b).map(([x, samples]) => ({ x, y: median(samples), samples }))
      out.push(key.label === undefined ? { impl: key.impl, points } : { impl: key.impl, label: key.label, points })
    }
    return out
  }

  private name(key: LineKey): string {
    return `${key.impl}\u0000${key.label ?? ''}`
  }
}
