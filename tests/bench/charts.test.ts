/**
 * The bench's SVG charts (bench/src/charts/): each renders as well-formed
 * XML with its title, a legend entry and a marker per point for every line,
 * tick labels in short forms, and every piece of text escaped.
 */
import { describe, expect, it } from 'vitest'
import { renderChart } from '../../bench/src/charts/render'
import type { Figure } from '../../bench/src/scale/figure'
import { byClass, descendants, parseXml, textOf, type XmlElement } from './xml-tree'

const ESCAPED_LABEL = 'wirecall <&> "quoted"'

const logFigure: Figure = {
  id: 'fanout-throughput',
  title: 'Fan-out: deliveries/s by subscribers',
  x: { label: 'subscribers', log: true },
  y: { label: 'deliveries/s', log: true },
  better: 'higher',
  series: [
    { impl: 'raw', points: [10, 100, 1_000, 10_000].map((x) => ({ x, y: 100 * x })) },
    { impl: 'wirecall', label: ESCAPED_LABEL, points: [10, 100, 1_000, 10_000].map((x) => ({ x, y: 60 * x, samples: [1, 2, 3] })) },
    { impl: 'socketio', points: [10, 100, 1_000].map((x) => ({ x, y: 30 * x })) },
  ],
}

const linearFigure: Figure = {
  id: 'idle-memory',
  title: 'Idle memory per connection',
  x: { label: 'connections' },
  y: { label: 'KB per connection' },
  better: 'lower',
  series: [
    { impl: 'raw', points: [1_000, 5_000, 10_000, 19_000].map((x) => ({ x, y: 12 })) },
    { impl: 'wirecall', points: [1_000, 5_000, 10_000, 19_000].map((x) => ({ x, y: 15 + x / 10_000 })) },
    // socket.io has no point at 5,000: the line breaks there.
    { impl: 'socketio', points: [1_000, 10_000, 19_000].map((x) => ({ x, y: 30 })) },
  ],
}

function render(figure: Figure): { svg: string; root: XmlElement } {
  const svg = renderChart(figure)
  return { svg, root: parseXml(svg) }
}

/** The series groups by index (`data-series`), as drawn. */
function seriesGroups(root: XmlElement): Map<number, XmlElement> {
  return new Map(byClass(root, 'series').map((group) => [Number(group.attrs['data-series']), group]))
}

const tickLabels = (root: XmlElement) => byClass(root, 'tick').map(textOf)

describe('renderChart', () => {
  it('draws a log/log figure with three lines as a well-formed, standalone SVG', () => {
    const { root } = render(logFigure)
    expect(root.name).toBe('svg')
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg')
    expect(Number(root.attrs.width)).toBeGreaterThan(0)
    const title = root.children.find((child): child is XmlElement => typeof child !== 'string' && child.name === 'title')
    expect(title && textOf(title)).toBe(logFigure.title)
    expect(byClass(root, 'chart-title').map(textOf)).toEqual([logFigure.title])
    expect(byClass(root, 'better').map(textOf)).toEqual(['↑ higher is better'])
    expect(byClass(root, 'legend-label').map(textOf)).toEqual(['raw ws', ESCAPED_LABEL, 'socket.io v4'])
    expect(byClass(root, 'axis-label').map(textOf)).toEqual(['subscribers', 'deliveries/s'])
  })

  it('draws one marker per point on every line', () => {
    for (const figure of [logFigure, linearFigure]) {
      const groups = seriesGroups(render(figure).root)
      expect(groups.size).toBe(figure.series.length)
      figure.series.forEach((series, index) => {
        expect(byClass(groups.get(index)!, 'marker'), `${figure.id} line ${index}`).toHaveLength(series.points.length)
      })
    }
  })

  it('labels log ticks by decade in short forms', () => {
    // x: 10 to 10,000; y: 300 to 1,000,000.
    const labels = tickLabels(render(logFigure).root)
    expect(labels).toEqual(['10', '100', '1k', '10k', '1k', '10k', '100k', '1M'])
  })

  it('steps a linear y axis from 0 and breaks a line where a point is missing', () => {
    const { root } = render(linearFigure)
    const labels = tickLabels(root)
    expect(labels).toEqual(expect.arrayContaining(['0', '10', '20', '30', '5k', '10k', '15k', '20k']))
    expect(byClass(root, 'better').map(textOf)).toEqual(['↓ lower is better'])
    const paths = descendants(seriesGroups(root).get(2)!).filter((element) => element.name === 'path')
    // One path, two runs (1,000 alone, then 10,000 to 19,000): a lone point is a marker only.
    expect(paths).toHaveLength(1)
    expect(paths[0]!.attrs.d!.match(/M/g)).toHaveLength(1)
    expect(paths[0]!.attrs.d!.match(/L/g)).toHaveLength(1)
  })

  it('labels a byte axis in B, KiB and MiB', () => {
    const KiB = 1_024
    const figure: Figure = {
      ...logFigure,
      x: { label: 'payload bytes', log: true, unit: 'bytes' },
      series: [{ impl: 'raw', points: [100, KiB, 10 * KiB, 100 * KiB, KiB * KiB].map((x) => ({ x, y: x })) }],
    }
    expect(tickLabels(render(figure).root)).toEqual(expect.arrayContaining(['100 B', '1 KiB', '10 KiB', '100 KiB', '1 MiB']))
  })

  it('escapes every piece of text', () => {
    const figure: Figure = { ...logFigure, title: 'a <b> & "c"', x: { label: 'x <&>', log: true }, y: { label: "y '&'", log: true } }
    const { svg, root } = render(figure)
    expect(svg).toContain('wirecall &lt;&amp;&gt; &quot;quoted&quot;')
    expect(svg).toContain('a &lt;b&gt; &amp; &quot;c&quot;')
    expect(svg).not.toContain('<&>')
    expect(svg).not.toContain('<b>')
    expect(byClass(root, 'chart-title').map(textOf)).toEqual([figure.title])
    expect(byClass(root, 'axis-label').map(textOf)).toEqual(['x <&>', "y '&'"])
    expect(byClass(root, 'legend-label').map(textOf)).toContain(ESCAPED_LABEL)
  })

  it('rejects what is not well-formed (the reader the tests rely on)', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow()
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow()
    expect(() => parseXml('<svg x="1" x="2"/>')).toThrow()
    expect(() => parseXml('<svg><text>a < b</text></svg>')).toThrow()
  })
})
