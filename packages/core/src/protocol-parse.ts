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
/** Any value: a trace context that is not valid is dropped where it is read (`readTraceContext`), never an error. */
const trace = payload

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

function positiveInteger(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0
}

/** `ack.limits`: an object whose known fields, when present, are positive integers; other fields are ignored (later versions may add some). */
function announcedLimits(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const limits = v as Record<string, unknown>
  const has = (key: string) => Object.prototype.hasOwnProperty.call(limits, key)
  for (const key of ['maxInFlightCalls', 'maxSubscriptions', 'burst']) if (has(key) && !positiveInteger(limits[key])) return false
  // A rate may be fractional (0.5: one message every two seconds).
  const rate = limits.messagesPerSecond
  return !has('messagesPerSecond') || (typeof rate === 'number' && Number.isFinite(rate) && rate > 0)
}

/** Each message type's rules, as [field, rule] pairs of the shape's own fields. */
type Table = ReadonlyMap<string, readonly (readonly [string, Shape[string]])[]>

/**
 * A Map, so a wire-supplied `type` such as "__proto__" or "constructor"
 * finds nothing; own fields only, listed once, so a property someone added
 * to Object.prototype never becomes a rule. Pure, so a bundle that parses
 * only one direction drops the other table.
 */
function table(shapes: Record<string, Shape>): Table {
  return new Map(Object.entries(shapes).map(([type, shape]) => [type, Object.entries(shape)]))
}

const CLIENT_SHAPES: Table = /* @__PURE__ */ table({
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
    trace,
  },
  cancel: { id },
  subscribe: { id, path, input: payload, meta: payload, lastEventId: eventId, trace },
  unsubscribe: { id },
  reinit: { id, params: payload, meta: payload, trace },
  ping: {},
  pong: {},
} satisfies Record<ClientMessage['type'], Shape>)

const SERVER_SHAPES: Table = /* @__PURE__ */ table({
  ack: {
    maxPayload: { check: positiveInteger, optional: true },
    limits: { check: announcedLimits, optional: true },
    idempotent: { check: (v: unknown) => Array.isArray(v) && v.every(path.check), optional: true },
  },
  result: { id, data: payload, meta: payload },
  error: { id, code: { check: string }, message: { check: string }, data: payload, meta: payload },
  started: { id, eventId },
  data: { id, data: payload, meta: payload, eventId, trace },
  resync: { id },
  complete: { id },
  restart: {
    delayMs: { check: (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_RESTART_DELAY_MS },
  },
  ping: {},
  pong: {},
} satisfies Record<ServerMessage['type'], Shape>)


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

function parseFrame<M>(text: string, shapes: Table, options?: ParseFrameOptions): ParseResult<M> {
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

function checkMessage(value: unknown, shapes: Table): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'message is not an object'
  const message = value as Record<string, unknown>
  const type = message.type
  if (typeof type !== 'string') return 'message has no type'
  const fields = shapes.get(type)
  if (fields === undefined) return 'unknown message type'
  for (let i = 0; i < fields.length; i++) {
    const [field, rule] = fields[i]!
    const has = Object.prototype.hasOwnProperty.call(message, field)
    if (!has) {
      if (rule.optional) continue
      return `${type}: missing ${field}`
    }
    if (!rule.check(message[field])) return `${type}: invalid ${field}`
  }
  return undefined
}
