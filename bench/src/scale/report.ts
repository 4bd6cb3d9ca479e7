/**
 * Scale figures as markdown: one table per figure, a row per size, a
 * column per line, each cell with its ratio to raw ws's at the same size.
 */
import { tickLabel } from '../charts/tick-labels'
import { formatNumber, IMPL_TITLES } from '../table'
import type { Figure, Series } from './figure'

/** The legend text of a line. */
export function seriesLabel(series: Series): string {
  return series.label ?? IMPL_TITLES[series.impl]
}

/** One figure's table, as lines. */
export function figureTable(figure: Figure, runs: string): string[] {
  const xs = [...new Set(figure.series.flatMap((series) => series.points.map((point) => point.x)))].sort((a, b) => a - b)
  // The ratio's base: raw ws's line without a label of its own (a case may draw raw twice).
  const base = figure.series.find((series) => series.impl === 'raw' && series.label === undefined)
  const cell = (series: Series, x: number) => {
    const point = series.points.find((p) => p.x === x)
    if (point === undefined) return '—'
    const baseValue = base?.points.find((p) => p.x === x)?.y
    if (base === undefined || series === base || baseValue === undefined || baseValue === 0) return formatNumber(point.y)
    return `${formatNumber(point.y)} (${(point.y / baseValue).toFixed(2)}×)`
  }
  const arrow = figure.better === 'higher' ? '↑' : '↓'
  const header = [figure.x.label, ...figure.series.map(seriesLabel)]
  return [
    `#### ${figure.title} (${figure.y.label} ${arrow}, ${runs})`,
    '',
    `![${figure.title}](benchmarks/${figure.id}.svg)`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i === 0 ? '---:' : '---:')).join('|')}|`,
    // Sizes as the chart's axis names them: 1, 10k, 1 KiB.
    ...xs.map((x) => `| ${tickLabel(x, figure.x.unit)} | ${figure.series.map((series) => cell(series, x)).join(' | ')} |`),
    ...(figure.note === undefined ? [] : ['', figure.note]),
    '',
  ]
}
