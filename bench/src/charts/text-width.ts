/**
 * A rough width of a label in a sans-serif font, to lay out margins and the
 * legend without a browser or a font file. It errs wide: a little spare room
 * looks fine, a clipped label does not.
 */

const NARROW = new Set([...'iljtfrI.,:;!|\'" ()[]'])
const WIDE = new Set([...'mwMW@%'])

/** Estimated width in px of `content` at `fontSize` px. */
export function textWidth(content: string, fontSize: number): number {
  let ems = 0
  for (const char of content) {
    if (NARROW.has(char)) ems += 0.32
    else if (WIDE.has(char)) ems += 0.9
    else if (char >= 'A' && char <= 'Z') ems += 0.7
    else ems += 0.6
  }
  return ems * fontSize
}
