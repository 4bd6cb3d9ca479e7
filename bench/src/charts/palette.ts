/**
 * How each line looks. Colours are fixed per library, so that wirecall is
 * the same colour in every chart (raw ws a neutral grey, the others from the
 * Okabe–Ito palette, which colour-blind readers can tell apart); a second
 * line of the same library (a variant, a labelled configuration) keeps its
 * colour and gets a dash pattern and a marker shape of its own.
 */
import type { ImplName } from '../contract'
import type { Series } from '../scale/figure'

export type MarkerShape = 'circle' | 'square' | 'diamond' | 'triangle'

export interface SeriesStyle {
  colour: string
  /** `stroke-dasharray`; undefined for a solid line. */
  dash?: string
  marker: MarkerShape
}

const COLOURS: Record<string, string> = {
  raw: '#737373',
  wirecall: '#d55e00',
  trpc: '#0072b2',
  socketio: '#009e73',
}
/** For an implementation added later and not given a colour here. */
const SPARE_COLOURS = ['#cc79a7', '#56b4e9', '#e69f00', '#000000']

const DASHES = [undefined, '7 4', '2 3', '9 3 2 3', '4 2 1 2']
const MARKERS: readonly MarkerShape[] = ['circle', 'square', 'diamond', 'triangle']

/** The library a line belongs to: wirecall's variants (`wirecall-otel`, ...) are wirecall. */
export function familyOf(impl: ImplName): string {
  return impl.startsWith('wirecall') ? 'wirecall' : impl
}

/** One style per series, in order: the first plain line of each library solid, every other line of it dashed. */
export function seriesStyles(series: readonly Series[]): SeriesStyle[] {
  const families = [...new Set(series.map((line) => familyOf(line.impl)))]
  const spare = families.filter((family) => COLOURS[family] === undefined)
  const colourOf = (family: string) => COLOURS[family] ?? SPARE_COLOURS[spare.indexOf(family) % SPARE_COLOURS.length]!
  // Which line of each family is drawn solid: its first plain one (a variant never is).
  const solid = new Map<string, Series>()
  for (const line of series) {
    const family = familyOf(line.impl)
    if (line.impl === family && !solid.has(family)) solid.set(family, line)
  }
  const nextVariant = new Map<string, number>()
  return series.map((line) => {
    const family = familyOf(line.impl)
    let index = 0
    if (solid.get(family) !== line) {
      index = nextVariant.get(family) ?? 1
      nextVariant.set(family, index + 1)
    }
    const dash = DASHES[index % DASHES.length]
    const marker = MARKERS[index % MARKERS.length]!
    return dash === undefined ? { colour: colourOf(family), marker } : { colour: colourOf(family), dash, marker }
  })
}
