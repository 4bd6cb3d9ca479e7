/**
 * Writes each scale figure as an SVG chart, `<dir>/<figure.id>.svg`.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Figure } from '../scale/figure'
import { renderChart } from './render'

export function writeCharts(figures: readonly Figure[], dir: string): void {
  mkdirSync(dir, { recursive: true })
  for (const figure of figures) writeFileSync(join(dir, `${figure.id}.svg`), renderChart(figure))
}
