import { isValidId, type ClientMessage, type ServerMessage } from './protocol'

/**
 * One table-driven validator for every message, in both directions. A frame
 * that fails here is not a valid envelope: the receiver closes with 4400.
 * Content problems (unknown path, bad input) are not checked here; they get a
 * per-call error instead.
 */

type FieldCheck = (value: unknown) => boolean
type Shape = Readonly<Record<string, { check: FieldCheck; optional?: true }>>

const any: FieldCheck = () => true
const id = { check: isValidId }
const payload = { check: any, optional: true } as const
const string: FieldCheck = (v) => typeof v === 'string'

/** Longest `path` accepted in an envelope; longer ones are protocol errors. */
export const MAX_PATH_LENGTH = 1024
/** Longest `lastEventId` / `eventId` accepted in an envelope. */
export const MAX_EVENT_ID_LENGTH = 1024

/** Longest `idempotencyKey` accepted in an envelope. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128
/** Longest restart delay a server may announce: one hour. */
export const MAX_RESTART_DELAY_MS = 3_600_000

const path = { check: (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= MAX_PATH_LENGTH }
const eventId = {
  check: (v: unknown) => typeof v === 'string' && v.length <= MAX_EVENT_ID_LENGTH,
  optional: true,
} as const

// Null-prototype tables: a wire-supplied `type` such as "__proto__" or
// "constructor" must find nothing.
const CLIENT_SHAPES: Readonly<Record<string, Shape>> = Object.assign(Object.create(null) as Record<string, Shape>, {
  init: { params: payload, meta: payload },
  call: {
    id,
    method: { check: (v: unknown) => v === 'query' || v === 'mutation' },
    path,
    input: payload,
    meta: payload,
    idempotencyKey: {
      check: (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= MAX_IDEMPOTENCY_KEY_LENGTH,
      optional: true,
    },
  },
  cancel: { id },
  subscribe: { id, path, input: payload, meta: payload, lastEventId: eventId },
  unsubscribe: { id },
  reinit: { id, params: payload, meta: payload },
  ping: {},
  pong: {},
} satisfies Record<ClientMessage['type'], Shape>)

const SERVER_SHAPES: Readonly<Record<string, Shape>> = Object.assign(Object.create(null) as Record<string, Shape>, {
  ack: { maxPayload: { check: (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0, optional: true } },
  result: { id, data: payload, meta: payload },
  error: { id, code: { check: string }, message: { check: string }, data: payload, meta: payload },
  started: { id, eventId },
  data: { id, data: payload, meta: payload, eventId },
  resync: { id },
  complete: { id },
  restart: {
    delayMs: { check: (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_RESTART_DELAY_MS },
  },
  ping: {},
  pong: {},
} satisfies Record<ServerMessage['type'], Shape>)

/** Each shape's own field names, computed once. */
const FIELDS = new Map<Shape, readonly string[]>(
  [...Object.values(CLIENT_SHAPES), ...Object.values(SERVER_SHAPES)].map((shape) => [shape, Object.keys(shape)]),
)

/** What {@link parseFrame} returns. */
export type ParseResult<M> = { ok: true; messages: M[] } | { ok: false; reason: string }

/** Options for {@link parseClientFrame} and {@link parseServerFrame}. Unknown fields in a message are ignored, so later minor versions can add some. */
export interface ParseFrameOptions {
  /** Most messages one array frame may hold. @default 1000 */
  maxBatchSize?: number
}

/** Parses a frame a client sent. Never throws. */
export function parseClientFrame(text: string, options?: ParseFrameOptions): ParseResult<ClientMessage> {
  return parseFrame<ClientMessage>(text, CLIENT_SHAPES, options)
}

/** Parses a frame a server sent. Never throws. */
export function parseServerFrame(text: string, options?: ParseFrameOptions): ParseResult<ServerMessage> {
  return parseFrame<ServerMessage>(text, SERVER_SHAPES, options)
}

function parseFrame<M>(text: string, shapes: Readonly<Record<string, Shape>>, options?: ParseFrameOptions): ParseResult<M> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'frame is not JSON' }
  }
  if (Array.isArray(value)) {
    const max = options?.maxBatchSize ?? 1000
    if (value.length === 0) return { ok: false, reason: 'empty batch' }
    if (value.length > max) return { ok: false, reason: `batch larger than ${max} messages` }
    for (let i = 0; i < value.length; i++) {
      const reason = checkMessage(value[i], shapes)
      if (reason !== undefined) return { ok: false, reason: `message ${i}: ${reason}` }
    }
    return { ok: true, messages: value as M[] }
  }
  const reason = checkMessage(value, shapes)
  if (reason !== undefined) return { ok: false, reason }
  return { ok: true, messages: [value as M] }
}

function checkMessage(value: unknown, shapes: Readonly<Record<string, Shape>>): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'message is not an object'
  const message = value as Record<string, unknown>
  const type = message.type
  if (typeof type !== 'string') return 'message has no type'
  const shape = shapes[type]
  if (shape === undefined) return 'unknown message type'
  // Own fields only, listed once per shape: a property someone added to Object.prototype must not become a rule.
  const fields = FIELDS.get(shape)!
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!
    const rule = shape[field]!
    const has = Object.prototype.hasOwnProperty.call(message, field)
    if (!has) {
      if (rule.optional) continue
      return `${type}: missing ${field}`
    }
    if (!rule.check(message[field])) return `${type}: invalid ${field}`
  }
  return undefined
}
