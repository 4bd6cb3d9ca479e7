/**
 * The few SVG-writing helpers the chart needs: escaped text, attributes,
 * coordinates rounded so that the files stay small and diff well.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }

/** Text safe inside an element or a quoted attribute: labels come from cases and may hold `<`, `&` or quotes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char] ?? char)
}

/** A coordinate to a tenth of a pixel, without a trailing `.0` (and never `-0`). */
export function px(value: number): string {
  const rounded = Math.round(value * 10) / 10
  return String(rounded === 0 ? 0 : rounded)
}

type AttrValue = string | number | undefined

/** One element; undefined attributes are left out, numbers go through {@link px}. */
export function el(name: string, attributes: Record<string, AttrValue>, content?: string): string {
  const attrs = Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${typeof value === 'number' ? px(value) : escapeXml(value)}"`)
    .join('')
  return content === undefined ? `<${name}${attrs}/>` : `<${name}${attrs}>${content}</${name}>`
}

/** A `<text>` element whose content is escaped here. */
export function text(attributes: Record<string, AttrValue>, content: string): string {
  return el('text', attributes, escapeXml(content))
}
