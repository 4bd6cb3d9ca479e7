/**
 * One scale figure as a standalone SVG document: a line with markers per
 * series over the size, log or linear axes with short tick labels, the
 * title, which way is better, and a legend beside the plot. White
 * background, so that it reads the same on GitHub's light and dark themes.
 *
 * Written by hand rather than with a charting library: the figures need
 * only lines, markers and two kinds of axis, while vega + vega-lite would
 * add 25 MB in 79 packages and echarts 67 MB, for output that still needed
 * our own tick labels, colours and dashes configured into it. This writer
 * has no dependency, renders in about a millisecond, and its output is
 * small and deterministic (it diffs in docs/).
 */
import type { Figure, Point, Series } from '../scale/figure'
import { seriesLabel } from '../scale/report'
import { buildAxis, type Axis } from './axis'
import { legend, legendSize } from './legend'
import { marker } from './markers'
import { familyOf, seriesStyles, type SeriesStyle } from './palette'
import { el, escapeXml, px, text } from './svg'
import { textWidth } from './text-width'
import { formatNumber } from '../table'

const FONT_FAMILY = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif"
const PLOT_WIDTH = 500
const PLOT_HEIGHT = 300
const PAD = 16
const TITLE_FONT = 16
const TICK_FONT = 11
const LABEL_FONT = 12
/** From the top: title baseline, subtitle baseline, plot top. */
const TITLE_Y = 26
const SUBTITLE_Y = 46
const PLOT_TOP = 66
const INK = '#1f1f1f'
const MUTED = '#595959'

interface Frame {
  left: number
  top: number
  width: number
  height: number
}

export function renderChart(figure: Figure): string {
  const styles = seriesStyles(figure.series)
  const labels = figure.series.map(seriesLabel)
  const x = buildAxis(
    figure.series.flatMap((series) => series.points.map((point) => point.x)),
    { log: figure.x.log === true, unit: figure.x.unit ?? 'count', fromZero: false, steps: PLOT_WIDTH / 90, maxLabels: PLOT_WIDTH / 50 },
  )
  const y = buildAxis(
    figure.series.flatMap((series) => series.points.map((point) => point.y)),
    { log: figure.y.log === true, unit: figure.y.unit ?? 'count', fromZero: true, steps: PLOT_HEIGHT / 50, maxLabels: PLOT_HEIGHT / 25 },
  )

  const yTickWidth = Math.max(0, ...y.ticks.map((tick) => (tick.label === undefined ? 0 : textWidth(tick.label, TICK_FONT))))
  const frame: Frame = { left: PAD + LABEL_FONT + 12 + yTickWidth + 8, top: PLOT_TOP, width: PLOT_WIDTH, height: PLOT_HEIGHT }
  const entries = figure.series.map((_, index) => ({ label: labels[index]!, style: styles[index]! }))
  const legendBox = legendSize(entries)
  const legendX = frame.left + frame.width + 24
  const subtitle = `${figure.better === 'higher' ? '↑ higher' : '↓ lower'} is better`
  const width = Math.ceil(Math.max(legendX + legendBox.width + PAD, 2 * PAD + textWidth(figure.title, TITLE_FONT)))
  const height = Math.ceil(Math.max(frame.top + frame.height + 54, frame.top + legendBox.height + PAD))

  // Lines of other libraries first, so that wirecall's are drawn on top where they cross.
  const order = figure.series.map((_, index) => index)
  order.sort((a, b) => Number(familyOf(figure.series[a]!.impl) === 'wirecall') - Number(familyOf(figure.series[b]!.impl) === 'wirecall'))
  const allXs = [...new Set(figure.series.flatMap((series) => series.points.map((point) => point.x)))].sort((a, b) => a - b)

  const body = [
    el('rect', { x: 0, y: 0, width, height, rx: 6, fill: '#ffffff' }),
    text({ class: 'chart-title', x: PAD, y: TITLE_Y, 'font-size': TITLE_FONT, 'font-weight': 'bold', fill: INK }, figure.title),
    text({ class: 'better', x: PAD, y: SUBTITLE_Y, 'font-size': LABEL_FONT, fill: MUTED }, subtitle),
    grid(x, y, frame),
    axes(x, y, frame, figure),
    ...order.map((index) => seriesLine(figure, figure.series[index]!, index, labels[index]!, styles[index]!, x, y, frame, allXs)),
    legend(entries, legendX, frame.top),
  ]
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    el(
      'svg',
      { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'font-family': FONT_FAMILY },
      `\n${el('title', {}, escapeXml(figure.title))}\n${body.join('\n')}\n`,
    ),
    '',
  ].join('\n')
}

const xAt = (axis: Axis, frame: Frame, value: number) => frame.left + axis.fraction(value) * frame.width
const yAt = (axis: Axis, frame: Frame, value: number) => frame.top + frame.height - axis.fraction(value) * frame.height

function grid(x: Axis, y: Axis, frame: Frame): string {
  const bottom = frame.top + frame.height
  const right = frame.left + frame.width
  const stroke = (major: boolean) => (major ? '#e0e0e0' : '#f0f0f0')
  const lines = [
    ...x.ticks.map((tick) => el('line', { x1: xAt(x, frame, tick.value), y1: frame.top, x2: xAt(x, frame, tick.value), y2: bottom, stroke: stroke(tick.major) })),
    ...y.ticks.map((tick) => el('line', { x1: frame.left, y1: yAt(y, frame, tick.value), x2: right, y2: yAt(y, frame, tick.value), stroke: stroke(tick.major) })),
  ]
  return el('g', { class: 'grid', 'stroke-width': 1 }, lines.join(''))
}

/**
 * Which labelled ticks get their label: rungs first, then the 2× and 5×
 * between them, each only where it does not touch one already placed.
 */
function placeLabels(axis: Axis, position: (value: number) => number, extent: (label: string) => number): { value: number; label: string }[] {
  const labelled = axis.ticks.filter((tick): tick is typeof tick & { label: string } => tick.label !== undefined)
  const ranked = [...labelled.filter((tick) => tick.major), ...labelled.filter((tick) => !tick.major)]
  const placed: { from: number; to: number; value: number; label: string }[] = []
  for (const tick of ranked) {
    const middle = position(tick.value)
    const half = extent(tick.label) / 2
    const from = middle - half
    const to = middle + half
    if (placed.some((other) => from < other.to + 6 && to > other.from - 6)) continue
    placed.push({ from, to, value: tick.value, label: tick.label })
  }
  return placed.sort((a, b) => a.value - b.value)
}

function axes(x: Axis, y: Axis, frame: Frame, figure: Figure): string {
  const bottom = frame.top + frame.height
  const parts: string[] = [
    el('line', { x1: frame.left, y1: bottom, x2: frame.left + frame.width, y2: bottom, stroke: '#8c8c8c' }),
    el('line', { x1: frame.left, y1: frame.top, x2: frame.left, y2: bottom, stroke: '#8c8c8c' }),
  ]
  for (const tick of placeLabels(x, (value) => xAt(x, frame, value), (label) => textWidth(label, TICK_FONT))) {
    const at = xAt(x, frame, tick.value)
    parts.push(el('line', { x1: at, y1: bottom, x2: at, y2: bottom + 4, stroke: '#8c8c8c' }))
    parts.push(text({ class: 'tick', x: at, y: bottom + 17, 'font-size': TICK_FONT, 'text-anchor': 'middle', fill: MUTED }, tick.label))
  }
  for (const tick of placeLabels(y, (value) => yAt(y, frame, value), () => TICK_FONT)) {
    const at = yAt(y, frame, tick.value)
    parts.push(el('line', { x1: frame.left - 4, y1: at, x2: frame.left, y2: at, stroke: '#8c8c8c' }))
    parts.push(text({ class: 'tick', x: frame.left - 7, y: at + 4, 'font-size': TICK_FONT, 'text-anchor': 'end', fill: MUTED }, tick.label))
  }
  const yLabelX = PAD + LABEL_FONT / 2 + 2
  const yLabelY = frame.top + frame.height / 2
  parts.push(
    text({ class: 'axis-label', x: frame.left + frame.width / 2, y: bottom + 40, 'font-size': LABEL_FONT, 'text-anchor': 'middle', fill: INK }, figure.x.label),
    text(
      { class: 'axis-label', x: yLabelX, y: yLabelY, 'font-size': LABEL_FONT, 'text-anchor': 'middle', fill: INK, transform: `rotate(-90 ${px(yLabelX)} ${px(yLabelY)})` },
      figure.y.label,
    ),
  )
  return el('g', { class: 'axes' }, parts.join(''))
}

/**
 * The runs of a line to draw: its points in x order, broken where a point
 * is missing (another line has a point at an x between two of this one's,
 * or this one's value has no place on a log axis).
 */
function runs(points: readonly Point[], x: Axis, y: Axis, allXs: readonly number[]): Point[][] {
  const sorted = [...points].sort((a, b) => a.x - b.x)
  const result: Point[][] = []
  let current: Point[] = []
  for (const point of sorted) {
    if (!x.drawable(point.x) || !y.drawable(point.y)) {
      if (current.length > 0) result.push(current)
      current = []
      continue
    }
    const previous = current[current.length - 1]
    if (previous !== undefined && allXs.some((value) => value > previous.x && value < point.x)) {
      result.push(current)
      current = []
    }
    current.push(point)
  }
  if (current.length > 0) result.push(current)
  return result
}

function seriesLine(figure: Figure, series: Series, index: number, label: string, style: SeriesStyle, x: Axis, y: Axis, frame: Frame, allXs: readonly number[]): string {
  const segments = runs(series.points, x, y, allXs)
  const d = segments
    .filter((segment) => segment.length > 1)
    .map((segment) => segment.map((point, i) => `${i === 0 ? 'M' : 'L'}${px(xAt(x, frame, point.x))} ${px(yAt(y, frame, point.y))}`).join(''))
    .join('')
  const path = d === '' ? '' : el('path', { d, fill: 'none', stroke: style.colour, 'stroke-width': 2, 'stroke-dasharray': style.dash, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' })
  const markers = segments.flat().map((point) => {
    const tooltip = `${label}: ${formatNumber(point.y)} ${figure.y.label} at ${formatNumber(point.x)} ${figure.x.label}`
    return marker(style.marker, xAt(x, frame, point.x), yAt(y, frame, point.y), style.colour, tooltip)
  })
  return el('g', { class: 'series', 'data-series': String(index), 'data-label': label }, path + markers.join(''))
}
