/**
 * Point markers, one shape per line of a library (see palette.ts), each
 * with a tooltip naming the line and the point. Every marker carries
 * `class="marker"`, which the tests count.
 */
import type { MarkerShape } from './palette'
import { el, escapeXml, px } from './svg'

const SIZE = 3.6

/** A marker at (x, y) with `tooltip` as its `<title>` (the legend's samples pass another class). */
export function marker(shape: MarkerShape, x: number, y: number, colour: string, tooltip: string, className = 'marker'): string {
  const paint = { class: className, fill: colour, stroke: '#ffffff', 'stroke-width': 1 }
  const title = `<title>${escapeXml(tooltip)}</title>`
  switch (shape) {
    case 'circle':
      return el('circle', { ...paint, cx: x, cy: y, r: SIZE }, title)
    case 'square':
      return el('rect', { ...paint, x: x - SIZE, y: y - SIZE, width: 2 * SIZE, height: 2 * SIZE }, title)
    case 'diamond': {
      const r = SIZE * 1.35
      return el('path', { ...paint, d: `M${px(x)} ${px(y - r)}L${px(x + r)} ${px(y)}L${px(x)} ${px(y + r)}L${px(x - r)} ${px(y)}Z` }, title)
    }
    case 'triangle': {
      const r = SIZE * 1.3
      return el('path', { ...paint, d: `M${px(x)} ${px(y - r)}L${px(x + r)} ${px(y + r * 0.8)}L${px(x - r)} ${px(y + r * 0.8)}Z` }, title)
    }
  }
}
