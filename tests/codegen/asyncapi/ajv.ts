import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import { standaloneSchema, type JsonSchema } from '@wirecall/codegen'

/** ajv says `unicode` is deprecated, and honours it: its one warning about it is noise here. */
const QUIET_ON_UNICODE = {
  log: (...args: unknown[]) => console.log(...args),
  warn: (...args: unknown[]) => {
    if (!String(args[0]).startsWith('DEPRECATED: option unicode')) console.warn(...args)
  },
  error: (...args: unknown[]) => console.error(...args),
}

/**
 * ajv's default class (draft-07), strict, with every `x-wirecall-*` keyword
 * of `document` registered as an annotation, and lengths counted in UTF-16
 * code units as the runtime parser counts them (`unicode: false`).
 */
export function draft07Ajv(document: JsonSchema): Ajv {
  const ajv = new Ajv({ strict: true, allErrors: true, unicode: false, logger: QUIET_ON_UNICODE })
  addFormats(ajv)
  for (const keyword of wirecallKeywords(document)) ajv.addKeyword({ keyword })
  return ajv
}

/** Every `x-wirecall-*` key anywhere in `value`. */
export function wirecallKeywords(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) wirecallKeywords(item, found)
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key.startsWith('x-wirecall-')) found.add(key)
      wirecallKeywords(child, found)
    }
  }
  return found
}

/** The payload validator of each message of the document, by message key (compiled standalone). */
export function messageValidators(document: JsonSchema, ajv = draft07Ajv(document)): Map<string, ValidateFunction> {
  const messages = (document.components as { messages: Record<string, { payload: { schema: JsonSchema } }> }).messages
  return new Map(Object.entries(messages).map(([key, message]) => [key, ajv.compile(standaloneSchema(document, message.payload.schema))]))
}

/** The validator of each envelope in `components.schemas`, by its key. */
export function envelopeValidators(document: JsonSchema, ajv = draft07Ajv(document)): Map<string, ValidateFunction> {
  const schemas = (document.components as { schemas: Record<string, JsonSchema> }).schemas
  return new Map(
    Object.entries(schemas)
      .filter(([key]) => key.startsWith('wirecall.envelope.'))
      .map(([key, schema]) => [key, ajv.compile(standaloneSchema(document, schema))]),
  )
}
