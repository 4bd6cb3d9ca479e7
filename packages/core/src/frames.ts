import {
  type AckMessage,
  type CallMessage,
  type ChunkMessage,
  type ClientMessage,
  type CreditMessage,
  type PeerCallMessage,
  type DataMessage,
  type EncodedPayload,
  type ErrorMessage,
  type InitMessage,
  type MessageType,
  type ReinitMessage,
  type ResultMessage,
  type ServerMessage,
  type RestartMessage,
  type StartedMessage,
  type SubscribeMessage,
} from './protocol'
import { RpcError, isRpcErrorCode } from './errors'
import type { Serializer } from './serializer'
import type { TraceContext } from './trace-context'

/**
 * Every frame either side writes is built here, one builder per message
 * type, so a misspelt type or a missing field cannot compile, and
 * `frames.test.ts` round-trips each builder through the parsers.
 *
 * Builders that take a serializer throw what it throws (a circular value, a
 * bigint under `jsonSerializer`); their callers turn that into a per-call
 * error. The id-only messages are written as templates: they are on every
 * hot path and need no `JSON.stringify`.
 *
 * Encode once, stamp the id: an outcome replayed to several callers, or an
 * event fanned out to many subscribers, is encoded once as
 * {@link EncodedFields} and stamped with each receiver's id by
 * {@link stampFrame}.
 */

/**
 * JSON text of a message's fields after its `type` and `id`: empty, or
 * starting with a comma (`,"data":1`). What {@link stampFrame} completes.
 */
export type EncodedFields = string

/** A message's fields as a builder takes them: an optional field may also be passed as `undefined`, and is then left out. */
type Optional<T> = { [K in keyof T]: undefined extends T[K] ? T[K] | undefined : T[K] }

// ---- payloads ---------------------------------------------------------------

/** A value as it travels (`json` + optional `meta`), or `undefined` for no value. */
export function encodePayload(serializer: Serializer, value: unknown): EncodedPayload | undefined {
  return value === undefined ? undefined : serializer.serialize(value)
}

/** The value a message's `json` and `meta` fields carry; `undefined` when both are absent. Throws what the serializer throws. */
export function decodePayload(serializer: Serializer, json: unknown, meta: unknown): unknown {
  if (json === undefined && meta === undefined) return undefined
  return serializer.deserialize(meta === undefined ? { json } : { json, meta })
}

/**
 * The `RpcError` an `error` message carries. A code outside the table (a
 * newer server) reads as `INTERNAL`; `data` that cannot be decoded is left out.
 */
export function decodeError(serializer: Serializer, message: ErrorMessage): RpcError {
  let data: unknown
  try {
    data = decodePayload(serializer, message.data, message.meta)
  } catch {
    data = undefined
  }
  return new RpcError(isRpcErrorCode(message.code) ? message.code : 'INTERNAL', message.message, { data })
}

/** Stringifies `message` with `value` encoded under `key` (and its `meta`); leaves both out for `undefined`. */
function withPayload(message: ClientMessage | ServerMessage, key: 'params' | 'input' | 'data', serializer: Serializer, value: unknown): string {
  if (value === undefined) return JSON.stringify(message)
  const { json, meta } = serializer.serialize(value)
  const out = message as unknown as Record<string, unknown>
  out[key] = json
  if (meta !== undefined) out.meta = meta
  return JSON.stringify(out)
}

/** `{"type":…,"id":…}`: the messages that carry nothing else. */
function idFrame(type: MessageType, id: number): string {
  return `{"type":"${type}","id":${id}}`
}

// ---- client -> server -------------------------------------------------------

/** `init`, carrying `connectionParams`, and the client procedures the client implements (when it implements any). */
export function initFrame(serializer: Serializer, params: unknown, handlers?: readonly string[]): string {
  const message: InitMessage = { type: 'init' }
  if (handlers !== undefined && handlers.length > 0) message.handlers = [...handlers]
  return withPayload(message, 'params', serializer, params)
}

/** `call`: a query or mutation. */
export function callFrame(
  serializer: Serializer,
  head: Optional<Pick<CallMessage, 'id' | 'method' | 'path' | 'idempotencyKey' | 'trace' | 'stream'>>,
  input: unknown,
): string {
  const message: CallMessage = { type: 'call', id: head.id, method: head.method, path: head.path }
  if (head.idempotencyKey !== undefined) message.idempotencyKey = head.idempotencyKey
  if (head.trace !== undefined) message.trace = head.trace
  // A stream's items follow as chunks; the call itself carries no input.
  if (head.stream === true) {
    message.stream = true
    return JSON.stringify(message)
  }
  return withPayload(message, 'input', serializer, input)
}

/** `cancel`: stop a call. */
export function cancelFrame(id: number): string {
  return idFrame('cancel', id)
}

/** `subscribe`, with an input encoded once and sent again on every resubscribe. */
export function subscribeFrame(
  head: Optional<Pick<SubscribeMessage, 'id' | 'path' | 'lastEventId' | 'trace' | 'stream'>>,
  input: EncodedPayload | undefined,
): string {
  const message: SubscribeMessage = { type: 'subscribe', id: head.id, path: head.path }
  if (head.stream === true) message.stream = true
  if (input !== undefined) {
    message.input = input.json
    if (input.meta !== undefined) message.meta = input.meta
  }
  if (head.lastEventId !== undefined) message.lastEventId = head.lastEventId
  if (head.trace !== undefined) message.trace = head.trace
  return JSON.stringify(message)
}

/** `unsubscribe`: stop a subscription. */
export function unsubscribeFrame(id: number): string {
  return idFrame('unsubscribe', id)
}

/** `reinit`: new `connectionParams` on the open connection. */
export function reinitFrame(serializer: Serializer, id: number, params: unknown, trace?: TraceContext, handlers?: readonly string[]): string {
  const message: ReinitMessage = { type: 'reinit', id }
  if (trace !== undefined) message.trace = trace
  if (handlers !== undefined) message.handlers = [...handlers]
  return withPayload(message, 'params', serializer, params)
}

/** `chunk`: one item of the client stream of call or subscription `id`. Throws what the serializer throws. */
export function chunkFrame(serializer: Serializer, id: number, data: unknown): string {
  const message: ChunkMessage = { type: 'chunk', id }
  return withPayload(message, 'data', serializer, data)
}

/** `end`: the client stream of `id` has no more items. */
export function endFrame(id: number): string {
  return idFrame('end', id)
}

// ---- server -> client -------------------------------------------------------

/** `ack`: the connection is set up. */
export function ackFrame(fields: Omit<AckMessage, 'type'>): string {
  const message: AckMessage = { type: 'ack' }
  if (fields.maxPayload !== undefined) message.maxPayload = fields.maxPayload
  if (fields.limits !== undefined) message.limits = fields.limits
  if (fields.idempotent !== undefined && fields.idempotent.length > 0) message.idempotent = fields.idempotent
  if (fields.features !== undefined && fields.features.length > 0) message.features = fields.features
  return JSON.stringify(message)
}

/** `credit`: the server takes `n` more chunks of the client stream of `id`. */
export function creditFrame(id: number, n: number): string {
  const message: CreditMessage = { type: 'credit', id, n }
  return JSON.stringify(message)
}

/** A server `call` to a client procedure. Throws what the serializer throws. */
export function peerCallFrame(serializer: Serializer, head: Optional<Pick<PeerCallMessage, 'id' | 'path' | 'timeoutMs' | 'trace'>>, input: unknown): string {
  const message: PeerCallMessage = { type: 'call', id: head.id, path: head.path, timeoutMs: head.timeoutMs }
  if (head.trace !== undefined) message.trace = head.trace
  return withPayload(message, 'input', serializer, input)
}

/** `result`: a call's answer, encoded in one pass. */
export function resultFrame(serializer: Serializer, id: number, data: unknown): string {
  const message: ResultMessage = { type: 'result', id }
  return withPayload(message, 'data', serializer, data)
}

/**
 * The fields of an `error` message. Data that cannot be serialized is
 * dropped: the code and message still go, so the caller always hears.
 */
export function errorFields(serializer: Serializer, code: string, message: string, data: unknown): EncodedFields {
  try {
    return encodeFields(serializer, { code, message }, data)
  } catch {
    return encodeFields(serializer, { code, message }, undefined)
  }
}

/** `started`: the subscription runs; `eventId` is the stream's position, when known. */
export function startedFrame(id: number, eventId: string | undefined): string {
  if (eventId === undefined) return idFrame('started', id)
  const message: StartedMessage = { type: 'started', id, eventId }
  return JSON.stringify(message)
}

/** `data`: one untracked event, encoded in one pass (a generator may change and yield the same object again). */
export function dataFrame(serializer: Serializer, id: number, data: unknown): string {
  const message: DataMessage = { type: 'data', id }
  return withPayload(message, 'data', serializer, data)
}

/** The fields of a tracked event's `data` message: encoded once, stamped for every subscriber. */
export function eventFields(serializer: Serializer, eventId: string, data: unknown, trace?: TraceContext): EncodedFields {
  return encodeFields(serializer, trace === undefined ? { eventId } : { eventId, trace }, data)
}

/**
 * The same without an `eventId`: a volatile event's (the client neither
 * remembers nor resumes from it), or a backed channel's before its backend
 * numbers it.
 */
export function eventFieldsWithoutId(serializer: Serializer, data: unknown, trace?: TraceContext): EncodedFields {
  return encodeFields(serializer, trace === undefined ? {} : { trace }, data)
}

/** `resync`: the subscription cannot resume; the client reloads. `reason` (a `ResyncReason`) is sent when known. */
export function resyncFrame(id: number, reason?: string): string {
  return reason === undefined ? idFrame('resync', id) : `{"type":"resync","id":${id},"reason":${JSON.stringify(reason)}}`
}

/** `complete`: the subscription ended normally. */
export function completeFrame(id: number): string {
  return idFrame('complete', id)
}

/** `restart`: reconnect `delayMs` after this connection closes. */
export function restartFrame(delayMs: number): string {
  const message: RestartMessage = { type: 'restart', delayMs }
  return JSON.stringify(message)
}

// ---- both directions --------------------------------------------------------

/** A message that is its type alone. */
function typeFrame(type: MessageType): string {
  return `{"type":"${type}"}`
}

export const PING_FRAME = /* @__PURE__ */ typeFrame('ping')
export const PONG_FRAME = /* @__PURE__ */ typeFrame('pong')

// ---- encode once, stamp the id ----------------------------------------------

/**
 * `head`'s fields and `value` (as `data` + `meta`) as {@link EncodedFields}.
 * Throws what the serializer or `JSON.stringify` throws.
 */
export function encodeFields(serializer: Serializer, head: Record<string, unknown>, value: unknown): EncodedFields {
  if (value !== undefined) {
    const { json, meta } = serializer.serialize(value)
    head.data = json
    if (meta !== undefined) head.meta = meta
  }
  const text = JSON.stringify(head)
  return text === '{}' ? '' : `,${text.slice(1, -1)}`
}

/** A `result`, `error` or `data` message for `id`, from fields encoded once. */
export function stampFrame(type: (ResultMessage | ErrorMessage | DataMessage)['type'], id: number, fields: EncodedFields): string {
  return `{"type":"${type}","id":${id}${fields}}`
}
