/**
 * A strict little XML reader for the chart tests: enough to reject a
 * document that is not well-formed (unbalanced tags, unquoted or repeated
 * attributes, a bare `&` or `<` in text) and to query the tree, with
 * nothing but the standard library.
 */

export interface XmlElement {
  name: string
  attrs: Record<string, string>
  children: XmlNode[]
}
export type XmlNode = XmlElement | string

const NAME = /[A-Za-z_][-\w.:]*/y
const ATTR = /\s+([A-Za-z_][-\w.:]*)\s*=\s*"([^"<]*)"/y
const ENTITY = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g
const BARE_AMPERSAND = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/

function decode(raw: string, at: number): string {
  if (BARE_AMPERSAND.test(raw)) throw new Error(`bare & at ${at}: ${raw.slice(0, 40)}`)
  return raw.replace(ENTITY, (_, entity: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16))
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10))
    return named[entity]!
  })
}

/** The root element of `source`; throws where the document is not well-formed. */
export function parseXml(source: string): XmlElement {
  let at = 0
  const prolog = /^<\?xml[^?]*\?>\s*/.exec(source)
  if (prolog !== null) at = prolog[0].length
  const root: XmlElement = { name: '#document', attrs: {}, children: [] }
  const stack: XmlElement[] = [root]
  while (at < source.length) {
    const open = source.indexOf('<', at)
    const textEnd = open === -1 ? source.length : open
    if (textEnd > at) {
      const raw = source.slice(at, textEnd)
      if (stack.length === 1 && raw.trim() !== '') throw new Error(`text outside the root element at ${at}`)
      if (stack.length > 1) stack[stack.length - 1]!.children.push(decode(raw, at))
      at = textEnd
      continue
    }
    if (source.startsWith('<!--', at)) {
      const end = source.indexOf('-->', at)
      if (end === -1) throw new Error(`unclosed comment at ${at}`)
      at = end + 3
      continue
    }
    if (source.startsWith('</', at)) {
      NAME.lastIndex = at + 2
      const name = NAME.exec(source)?.[0]
      const top = stack.pop()
      if (name === undefined || top === undefined || top.name !== name) throw new Error(`</${name}> closes <${top?.name}> at ${at}`)
      at = NAME.lastIndex
      if (source[at] !== '>') throw new Error(`malformed end tag at ${at}`)
      at += 1
      continue
    }
    NAME.lastIndex = at + 1
    const name = NAME.exec(source)?.[0]
    if (name === undefined) throw new Error(`bare < at ${at}`)
    at = NAME.lastIndex
    const element: XmlElement = { name, attrs: {}, children: [] }
    for (;;) {
      ATTR.lastIndex = at
      const attr = ATTR.exec(source)
      if (attr === null) break
      if (attr[1]! in element.attrs) throw new Error(`repeated attribute ${attr[1]} at ${at}`)
      element.attrs[attr[1]!] = decode(attr[2]!, at)
      at = ATTR.lastIndex
    }
    while (source[at] === ' ' || source[at] === '\n') at += 1
    const parent = stack[stack.length - 1]!
    if (parent === root && root.children.length > 0) throw new Error(`a second root element at ${at}`)
    parent.children.push(element)
    if (source.startsWith('/>', at)) at += 2
    else if (source[at] === '>') {
      stack.push(element)
      at += 1
    } else throw new Error(`malformed tag <${name}> at ${at}: ${source.slice(at, at + 20)}`)
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`)
  const [element] = root.children
  if (element === undefined || typeof element === 'string') throw new Error('no root element')
  return element
}

/** Every element under `node` (itself included), depth first. */
export function descendants(node: XmlElement): XmlElement[] {
  return [node, ...node.children.flatMap((child) => (typeof child === 'string' ? [] : descendants(child)))]
}

/** The elements under `node` with `className` among their classes. */
export function byClass(node: XmlElement, className: string): XmlElement[] {
  return descendants(node).filter((element) => (element.attrs.class ?? '').split(' ').includes(className))
}

/** The text directly inside `element`. */
export function textOf(element: XmlElement): string {
  return element.children.filter((child): child is string => typeof child === 'string').join('')
}
