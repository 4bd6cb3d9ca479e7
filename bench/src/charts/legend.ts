/**
 * The legend: a row per line, a sample of its stroke and marker, then its
 * label. It sits right of the plot, so it never covers a line.
 */
import { marker } from './markers'
import type { SeriesStyle } from './palette'
import { el, text } from './svg'
import { textWidth } from './text-width'

export const LEGEND_FONT = 12
const ROW = 20
const SAMPLE = 28
const GAP = 8

export interface LegendEntry {
  label: string
  style: SeriesStyle
}

/** The legend's size, to lay out the chart around it. */
export function legendSize(entries: readonly LegendEntry[]): { width: number; height: number } {
  const widest = Math.max(0, ...entries.map((entry) => textWidth(entry.label, LEGEND_FONT)))
  return { width: SAMPLE + GAP + widest, height: entries.length * ROW }
}

/** The legend with its top left corner at (x, y). */
export function legend(entries: readonly LegendEntry[], x: number, y: number): string {
  const rows = entries.map((entry, index) => {
    const middle = y + index * ROW + ROW / 2
    const { colour, dash } = entry.style
    return [
      el('line', { x1: x, y1: middle, x2: x + SAMPLE, y2: middle, stroke: colour, 'stroke-width': 2, 'stroke-dasharray': dash }),
      marker(entry.style.marker, x + SAMPLE / 2, middle, colour, entry.label, 'legend-marker'),
      text({ class: 'legend-label', x: x + SAMPLE + GAP, y: middle + 4, 'font-size': LEGEND_FONT, fill: '#1f1f1f' }, entry.label),
    ].join('')
  })
  return el('g', { class: 'legend' }, rows.join('\n'))
}
