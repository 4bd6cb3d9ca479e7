import type { TypeModel } from '../model/type-model'

/** How a type is printed: the indentation of the line it starts on, and what `resync` becomes. */
export interface PrintContext {
  readonly indent: string
  /** `ResyncSignal` when the file imports it; otherwise the signal's own shape. */
  readonly resync: string
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** A property name as a declaration may write it: bare when an identifier, quoted otherwise. */
export function propertyName(name: string): string {
  return IDENTIFIER.test(name) ? name : quote(name)
}

/** A single-quoted string literal. */
export function quote(text: string): string {
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`
}

/** A doc comment at `indent`, or nothing. */
export function docComment(doc: string | undefined, indent: string): string {
  if (doc === undefined || doc === '') return ''
  const lines = doc.replace(/\*\//g, '*\\/').split('\n')
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`
  return `${indent}/**\n${lines.map((line) => `${indent} *${line === '' ? '' : ` ${line}`}`).join('\n')}\n${indent} */\n`
}

/** Wraps a type that binds looser than `wrapper` needs (a union inside an array or intersection). */
function operand(type: TypeModel, text: string, inside: 'array' | 'intersection'): string {
  if (type.kind === 'union' && type.members.length > 1) return `(${text})`
  if (inside === 'array' && type.kind === 'intersection' && type.members.length > 1) return `(${text})`
  return text
}

function literal(value: string | number | boolean): string {
  return typeof value === 'string' ? quote(value) : String(value)
}

/**
 * The TypeScript text of a type, multi-line for objects, deterministic. A
 * typed array is written `Uint8Array<ArrayBuffer>`: what the serializer
 * revives on the other side is backed by a fresh `ArrayBuffer`, whatever
 * buffer the sender's was.
 */
export function printType(type: TypeModel, context: PrintContext): string {
  switch (type.kind) {
    case 'primitive':
      return type.name
    case 'literal':
      return literal(type.value)
    case 'bigint-literal':
      return `${type.digits}n`
    case 'ref':
      return type.name
    case 'resync':
      return context.resync
    case 'rich':
      if (type.name.endsWith('Array')) return `${type.name}<ArrayBuffer>`
      return type.args.length === 0 ? type.name : `${type.name}<${type.args.map((arg) => printType(arg, context)).join(', ')}>`
    case 'array': {
      const element = operand(type.element, printType(type.element, context), 'array')
      return `${type.readonly ? 'readonly ' : ''}${element}[]`
    }
    case 'tuple': {
      const labelled = type.elements.length > 0 && type.elements.every((e) => e.name !== undefined)
      const elements = type.elements.map((element) => {
        let text = printType(element.type, context)
        if (element.rest) text = `...${operand(element.type, text, 'array')}[]`
        if (labelled) return `${element.rest ? '...' : ''}${element.name!}${element.optional ? '?' : ''}: ${element.rest ? text.slice(3) : text}`
        return element.optional ? `${operand(element.type, text, 'array')}?` : text
      })
      return `${type.readonly ? 'readonly ' : ''}[${elements.join(', ')}]`
    }
    case 'union':
      return type.members.length === 0 ? 'never' : type.members.map((m) => printType(m, context)).join(' | ')
    case 'intersection':
      return type.members.length === 0 ? 'unknown' : type.members.map((m) => operand(m, printType(m, context), 'intersection')).join(' & ')
    case 'object':
      return printObject(type, context)
  }
}

function printObject(type: Extract<TypeModel, { kind: 'object' }>, context: PrintContext): string {
  if (type.properties.length === 0 && type.index === undefined) return '{}'
  const inner = `${context.indent}  `
  const nested: PrintContext = { ...context, indent: inner }
  let body = ''
  for (const property of type.properties) {
    body += docComment(property.doc, inner)
    body += `${inner}${property.readonly ? 'readonly ' : ''}${propertyName(property.name)}${property.optional ? '?' : ''}: ${printType(property.type, nested)}\n`
  }
  if (type.index !== undefined) body += `${inner}[key: string]: ${printType(type.index, nested)}\n`
  return `{\n${body}${context.indent}}`
}
