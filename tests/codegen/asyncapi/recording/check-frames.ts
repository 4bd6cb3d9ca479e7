import type { ValidateFunction } from 'ajv'
import { parseClientFrame, parseServerFrame } from '@wirecall/core'
import { buildAsyncApi, standaloneSchema, type JsonSchema } from '@wirecall/codegen'
import { envelopeKey } from '../../../../packages/codegen/src/asyncapi/messages'
import { draft07Ajv } from '../ajv'
import type { RecordedFrame } from './frame-log'

/*
 * Checks recorded frames against an AsyncAPI document at the envelope level:
 * each frame the runtime parser accepts must validate, message by message,
 * against the document's envelope of its type (and a batch against the
 * batch message). Frames the parser refuses are not protocol frames (the
 * hostile tests send garbage on purpose): they are counted apart.
 */

/** The outcome of {@link checkFrames}. */
export interface FrameCheck {
  /** Frames the parser accepted, all checked. */
  readonly checked: number
  /** Messages in them (a batch holds several). */
  readonly messages: number
  /** Frames the parser refused: not checked. */
  readonly refused: number
  /** `sender: reason: frame` of every accepted frame that failed its schema. */
  readonly failures: string[]
  /**
   * `error` messages whose code is not in the table. The envelope (what a
   * receiver accepts) takes any string; the document's `error` message says
   * a server sends only the table's codes. Hand-written servers in the
   * hostile tests break that on purpose, so these are counted, not failed.
   */
  readonly offTableCodes: string[]
}

/** Envelope validators of a document, by direction and message type; and the two batch validators. */
export interface EnvelopeValidators {
  readonly envelope: (sender: 'client' | 'server', type: string) => ValidateFunction | undefined
  readonly batch: (sender: 'client' | 'server') => ValidateFunction
  /** The document's `error` message: the envelope with the error-code table. */
  readonly errorMessage: ValidateFunction
}

/** Compiles the envelope and batch schemas of `document` (a router-free document when not given). */
export function envelopeValidatorsOf(document: JsonSchema = buildAsyncApi({ procedures: [], warnings: [] })): EnvelopeValidators {
  const ajv = draft07Ajv(document)
  const schemas = (document.components as { schemas: Record<string, JsonSchema> }).schemas
  const messages = (document.components as { messages: Record<string, { payload: { schema: JsonSchema } }> }).messages
  const cache = new Map<string, ValidateFunction>()
  const compiled = (key: string, schema: JsonSchema) => {
    let validate = cache.get(key)
    if (validate === undefined) cache.set(key, (validate = ajv.compile(standaloneSchema(document, schema))))
    return validate
  }
  return {
    envelope: (sender, type) => {
      const key = envelopeKey(sender, type)
      return schemas[key] === undefined ? undefined : compiled(key, schemas[key])
    },
    batch: (sender) => compiled(`${sender}Batch`, messages[`${sender}Batch`]!.payload.schema),
    errorMessage: compiled('error', messages.error!.payload.schema),
  }
}

const describeErrors = (validate: ValidateFunction) => (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ')

/** Checks every frame; see {@link FrameCheck}. */
export function checkFrames(frames: Iterable<RecordedFrame>, validators: EnvelopeValidators = envelopeValidatorsOf()): FrameCheck {
  let checked = 0
  let messages = 0
  let refused = 0
  const failures: string[] = []
  const offTableCodes: string[] = []
  for (const { sender, text } of frames) {
    const parsed = sender === 'client' ? parseClientFrame(text) : parseServerFrame(text)
    if (!parsed.ok) {
      refused++
      continue
    }
    checked++
    const value: unknown = JSON.parse(text)
    const problems: string[] = []
    if (Array.isArray(value)) {
      const batch = validators.batch(sender)
      if (!batch(value)) problems.push(`batch: ${describeErrors(batch)}`)
    }
    for (const message of Array.isArray(value) ? value : [value]) {
      messages++
      const type = (message as { type: string }).type
      const validate = validators.envelope(sender, type)
      if (validate === undefined) problems.push(`no ${sender} message ${type} in the document`)
      else if (!validate(message)) problems.push(`${type}: ${describeErrors(validate)}`)
      else if (sender === 'server' && type === 'error' && !validators.errorMessage(message)) offTableCodes.push(JSON.stringify(message).slice(0, 200))
    }
    if (problems.length > 0) failures.push(`${sender}: ${problems.join(' | ')}: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`)
  }
  return { checked, messages, refused, failures, offTableCodes }
}
