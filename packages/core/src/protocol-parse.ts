import { isValidId, type ClientMessage, type ServerMessage } from './protocol'

/**
 * One table-driven validator for every message, in both directions. A frame
 * that fails here is not a valid envelope: the receiver closes with 4400.
 * Content problems (unknown path, bad input) are not checked here; they get a
 * per-call error instead.
 */

type FieldCheck = (value: unknown) => boolean
/** How one envelope field is checked: `check` runs when the field is present; a field without `optional` must be present. */
export type EnvelopeRule = Readonly<{ check: FieldCheck; optional?: true }>
type Shape = Readonly<Record<string, EnvelopeRule>>

// The rules are named and exported (@internal) so that the AsyncAPI generator
// maps each one, by identity, to a JSON Schema: the document is derived from
// these tables and cannot drift from the parser.

/** `id`: an integer from 0 to 2^53 − 1 (`isValidId`). */
export const idRule: EnvelopeRule = { check: isValidId }
/**
 * `params`, `input`, `data`, `meta`: any JSON value, `null` included. Also
 * `trace`: a trace context that is not valid is dropped where it is read
 * (`readTraceContext`), never an error.
 */
export const payloadRule: EnvelopeRule = { check: () => true, optional: true } as const

/** Longest `path` accepted in an envelope; longer ones are protocol errors. */
export const MAX_PATH_LENGTH = 1024
/** Longest `lastEventId` / `eventId` accepted in an envelope. */
export const MAX_EVENT_ID_LENGTH = 1024

/** Longest `idempotencyKey` accepted in an envelope. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 128
/** Longest restart delay a server may announce: one hour. */
export const MAX_RESTART_DELAY_MS = 3_600_000

/** `path`: a string of 1 to {@link MAX_PATH_LENGTH} UTF-16 code units. */
export const pathRule: EnvelopeRule = { check: (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= MAX_PATH_LENGTH }
/** `eventId`, `lastEventId` (optional): a string of at most {@link MAX_EVENT_ID_LENGTH} UTF-16 code units, empty allowed. */
export const eventIdRule: EnvelopeRule = {
  check: (v: unknown) => typeof v === 'string' && v.length <= MAX_EVENT_ID_LENGTH,
  optional: true,
} as const
/** `call.method`: `"query"` or `"mutation"`. */
export const methodRule: EnvelopeRule = { check: (v: unknown) => v === 'query' || v === 'mutation' }
/** `resync.reason` (optional): a string of at most 64 UTF-16 code units, passed on as it is (a newer server may send a reason this version does not list). */
export const reasonRule: EnvelopeRule = { check: (v: unknown) => typeof v === 'string' && v.length <= 64, optional: true }
/** `call.idempotencyKey` (optional): a string of 1 to {@link MAX_IDEMPOTENCY_KEY_LENGTH} UTF-16 code units. */
export const idempotencyKeyRule: EnvelopeRule = {
  check: (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= MAX_IDEMPOTENCY_KEY_LENGTH,
  optional: true,
}
/** `error.code`, `error.message`: any string (an unknown code is read as `INTERNAL`, never a protocol error). */
export const textRule: EnvelopeRule = { check: (v: unknown) => typeof v === 'string' }

function positiveInteger(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0
}

/** `ack.maxPayload` (optional): an integer, at least 1. */
export const maxPayloadRule: EnvelopeRule = { check: positiveInteger, optional: true }
/** `ack.limits` (optional): an object whose known fields, when present, are valid (later versions may add others, ignored); `maxInFlightCalls`, `maxSubscriptions`, `burst` positive integers and `messagesPerSecond` a finite number above 0 when present. */
export const limitsRule: EnvelopeRule = {
  check(v: unknown): boolean {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
    const limits = v as Record<string, unknown>
    const has = (key: string) => Object.prototype.hasOwnProperty.call(limits, key)
    for (const key of ['maxInFlightCalls', 'maxSubscriptions', 'burst']) if (has(key) && !positiveInteger(limits[key])) return false
    // A rate may be fractional (0.5: one message every two seconds).
    const rate = limits.messagesPerSecond
    return !has('messagesPerSecond') || (typeof rate === 'number' && Number.isFinite(rate) && rate > 0)
  },
  optional: true,
}
/** `ack.idempotent` (optional): an array of strings each valid as {@link pathRule}. */
export const idempotentRule: EnvelopeRule = { check: (v: unknown) => Array.isArray(v) && v.every(pathRule.check), optional: true }
/** Most client procedures one `init` or `reinit` may advertise. */
export const MAX_HANDLERS = 1000
/** `init.handlers`, `reinit.handlers` (optional): an array of at most {@link MAX_HANDLERS} strings, each valid as {@link pathRule}. */
export const handlersRule: EnvelopeRule = {
  check: (v: unknown) => Array.isArray(v) && v.length <= MAX_HANDLERS && v.every(pathRule.check),
  optional: true,
}
/** `ack.features` (optional): an array of strings of 1 to 64 UTF-16 code units (unknown ones are ignored). */
export const featuresRule: EnvelopeRule = {
  check: (v: unknown) => Array.isArray(v) && v.every((f) => typeof f === 'string' && f.length > 0 && f.length <= 64),
  optional: true,
}
/** `call.stream`, `subscribe.stream` (optional): `true`. */
export const streamRule: EnvelopeRule = { check: (v: unknown) => v === true, optional: true }
/** Largest credit one `credit` message may grant, and longest `timeoutMs` a server `call` may announce (the largest delay a timer takes). */
export const MAX_GRANT = 2_147_483_647
/** `credit.n`, server `call.timeoutMs`: an integer from 1 to {@link MAX_GRANT}. */
export const grantRule: EnvelopeRule = { check: (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= MAX_GRANT }

/** `restart.delayMs`: an integer from 0 to {@link MAX_RESTART_DELAY_MS}. */
export const delayMsRule: EnvelopeRule = {
  check: (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_RESTART_DELAY_MS,
}

/** Each message type's rules, as [field, rule] pairs of the shape's own fields, in the order they are checked. */
export type EnvelopeTable = ReadonlyMap<string, readonly (readonly [string, EnvelopeRule])[]>

/**
 * A Map, so a wire-supplied `type` such as "__proto__" or "constructor"
 * finds nothing; own fields only, listed once, so a property someone added
 * to Object.prototype never becomes a rule. Pure, so a bundle that parses
 * only one direction drops the other table.
 */
function table(shapes: Record<string, Shape>): EnvelopeTable {
  return new Map(Object.entries(shapes).map(([type, shape]) => [type, Object.entries(shape)]))
}

/** The envelope of every message a client sends, by `type`: what {@link parseClientFrame} checks. */
export const CLIENT_SHAPES: EnvelopeTable = /* @__PURE__ */ table({
  init: { params: payloadRule, meta: payloadRule, handlers: handlersRule },
  call: {
    id: idRule,
    method: methodRule,
    path: pathRule,
    input: payloadRule,
    meta: payloadRule,
    idempotencyKey: idempotencyKeyRule,
    trace: payloadRule,
    stream: streamRule,
  },
  cancel: { id: idRule },
  subscribe: { id: idRule, path: pathRule, input: payloadRule, meta: payloadRule, lastEventId: eventIdRule, trace: payloadRule, stream: streamRule },
  unsubscribe: { id: idRule },
  reinit: { id: idRule, params: payloadRule, meta: payloadRule, trace: payloadRule, handlers: handlersRule },
  chunk: { id: idRule, data: payloadRule, meta: payloadRule },
  end: { id: idRule },
  result: { id: idRule, data: payloadRule, meta: payloadRule },
  error: { id: idRule, code: textRule, message: textRule, data: payloadRule, meta: payloadRule },
  ping: {},
  pong: {},
} satisfies Record<ClientMessage['type'], Shape>)

/** The envelope of every message a server sends, by `type`: what {@link parseServerFrame} checks. */
export const SERVER_SHAPES: EnvelopeTable = /* @__PURE__ */ table({
  ack: { maxPayload: maxPayloadRule, limits: limitsRule, idempotent: idempotentRule, features: featuresRule },
  result: { id: idRule, data: payloadRule, meta: payloadRule },
  error: { id: idRule, code: textRule, message: textRule, data: payloadRule, meta: payloadRule },
  started: { id: idRule, eventId: eventIdRule },
  data: { id: idRule, data: payloadRule, meta: payloadRule, eventId: eventIdRule, trace: payloadRule },
  resync: { id: idRule, reason: reasonRule },
  complete: { id: idRule },
  restart: { delayMs: delayMsRule },
  credit: { id: idRule, n: grantRule },
  call: { id: idRule, path: pathRule, input: payloadRule, meta: payloadRule, timeoutMs: grantRule, trace: payloadRule },
  cancel: { id: idRule },
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

function parseFrame<M>(text: string, shapes: EnvelopeTable, options?: ParseFrameOptions): ParseResult<M> {
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

function checkMessage(value: unknown, shapes: EnvelopeTable): string | undefined {
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
