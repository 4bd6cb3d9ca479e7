/**
 * The wirecall.v1 wire protocol as data. `docs/protocol.md` is the prose
 * version of this file; change both together.
 *
 * A frame is UTF-8 JSON text holding one message object or a non-empty array
 * of them. Each message has a `type`; calls and subscriptions carry an `id`
 * that the client picks and the server echoes.
 */

import type { TraceContext } from './trace-context'

/** WebSocket subprotocol negotiated in the handshake. */
export const PROTOCOL = 'wirecall.v1'

/**
 * The reserved path of the schema endpoint (`createRpcServer({ schemaEndpoint: true })`),
 * a query answered with the API's manifest and AsyncAPI document. It can
 * never name a procedure: the router builder refuses keys that start with
 * `$`, at any depth. Here, in the protocol, because both the server that
 * serves it and the generator that calls it need it.
 */
export const SCHEMA_ENDPOINT_PATH = '$wirecall.describe'

/** Every message type, by direction. */
export const MessageType = {
  // client -> server
  Init: 'init',
  Call: 'call',
  Cancel: 'cancel',
  Subscribe: 'subscribe',
  Unsubscribe: 'unsubscribe',
  Reinit: 'reinit',
  Chunk: 'chunk',
  End: 'end',
  // server -> client
  Ack: 'ack',
  Result: 'result',
  Error: 'error',
  Started: 'started',
  Data: 'data',
  Resync: 'resync',
  Complete: 'complete',
  Restart: 'restart',
  Credit: 'credit',
  // both directions
  Ping: 'ping',
  Pong: 'pong',
} as const
export type MessageType = (typeof MessageType)[keyof typeof MessageType]

/** The method of a call message. */
export type CallMethod = 'query' | 'mutation'

/**
 * A value as it travels: `json` is plain JSON; `meta` (optional) is what the
 * serializer needs to revive richer types from it.
 */
export interface EncodedPayload {
  json: unknown
  meta?: unknown
}

// ---- client -> server -------------------------------------------------------

/** First message on every connection; carries `connectionParams`. */
export interface InitMessage {
  type: typeof MessageType.Init
  params?: unknown
  meta?: unknown
  /**
   * The paths of the client procedures this client implements (the server
   * may call them with a server `call`). Left out: none; the server answers
   * its own callers `NOT_IMPLEMENTED` at once.
   */
  handlers?: string[]
}
/** A query or mutation. */
export interface CallMessage {
  type: typeof MessageType.Call
  id: number
  method: CallMethod
  path: string
  input?: unknown
  meta?: unknown
  /**
   * Set on mutations the caller marked idempotent. A server that already ran
   * (or is running) this key for this path answers from that execution
   * instead of running it again.
   */
  idempotencyKey?: string
  /** W3C trace context of the caller's span (optional; an invalid one is ignored). */
  trace?: TraceContext
  /**
   * `true`: the input is a stream, sent as `chunk` messages under this id
   * as the server grants `credit`, then `end`; `input` is left out. Only
   * to a server whose `ack.features` lists `"streams"`.
   */
  stream?: true
}
/** Stops a call: the server aborts its `signal` and sends nothing more for the id. */
export interface CancelMessage {
  type: typeof MessageType.Cancel
  id: number
}
/** Starts a subscription. */
export interface SubscribeMessage {
  type: typeof MessageType.Subscribe
  id: number
  path: string
  input?: unknown
  meta?: unknown
  lastEventId?: string
  /** W3C trace context of the subscriber's span (optional; an invalid one is ignored). */
  trace?: TraceContext
  /** `true`: a duplex subscription, whose input is a stream of `chunk` messages (see {@link CallMessage.stream}). */
  stream?: true
}
/** Stops a subscription. */
export interface UnsubscribeMessage {
  type: typeof MessageType.Unsubscribe
  id: number
}
/**
 * New `connectionParams` over the open connection (a refreshed token): the
 * server runs `createContext` again and answers `result` (later calls use
 * the new context) or `error` (the previous context stays).
 */
export interface ReinitMessage {
  type: typeof MessageType.Reinit
  id: number
  params?: unknown
  meta?: unknown
  /** W3C trace context of the caller's span (optional; an invalid one is ignored). */
  trace?: TraceContext
  /** The client procedures it implements from now on, replacing those `init` named; left out: unchanged. */
  handlers?: string[]
}
/**
 * One item of a client stream (the input of the call or subscription
 * `id`), sent only within the credit the server granted for it.
 */
export interface ChunkMessage {
  type: typeof MessageType.Chunk
  id: number
  data?: unknown
  meta?: unknown
}
/** The client stream of call or subscription `id` has no more items. */
export interface EndMessage {
  type: typeof MessageType.End
  id: number
}

// ---- server -> client -------------------------------------------------------

/** `createContext` accepted the connection; calls may be sent. */
export interface AckMessage {
  type: typeof MessageType.Ack
  /**
   * Largest frame the server accepts, in bytes (its `maxPayload`). A client
   * that batches messages keeps its batches under it. Optional: a server
   * may leave it out, and the client then batches conservatively.
   */
  maxPayload?: number
  /**
   * The per-connection limits the server enforces, so that a client can keep
   * within them instead of being refused: it holds calls past
   * `maxInFlightCalls`, paces its messages under `messagesPerSecond` and
   * `burst`, and fails a subscription past `maxSubscriptions` without a
   * round trip. Each field is left out when that limit is off.
   */
  limits?: AnnouncedLimits
  /**
   * Paths of the mutations the server declared idempotent: the client sends
   * each call to them with an idempotency key, unless the caller said
   * otherwise, so a retry after a reconnect is safe.
   */
  idempotent?: string[]
  /**
   * Extensions of wirecall.v1 this server accepts. `"streams"`: client
   * streams (`call`/`subscribe` with `stream: true`, `chunk`, `end`).
   * A client sends none of their messages to a server that does not list
   * it. Unknown entries are ignored.
   */
  features?: string[]
}

/** What `ack.limits` announces; see {@link AckMessage}. */
export interface AnnouncedLimits {
  /** Most calls in flight on one connection (`TOO_MANY_REQUESTS` past it). */
  maxInFlightCalls?: number
  /** Most live subscriptions on one connection. */
  maxSubscriptions?: number
  /** Messages per second the connection may send, sustained. */
  messagesPerSecond?: number
  /** Messages the connection may send at once, above the sustained rate. */
  burst?: number
}
/** A call's successful answer. */
export interface ResultMessage {
  type: typeof MessageType.Result
  id: number
  data?: unknown
  meta?: unknown
}
/** A call's or subscription's failure. `data`/`meta` carry `RpcError.data`. */
export interface ErrorMessage {
  type: typeof MessageType.Error
  id: number
  code: string
  message: string
  data?: unknown
  meta?: unknown
}
/** The subscription is running on the server. */
export interface StartedMessage {
  type: typeof MessageType.Started
  id: number
  /**
   * The stream's position when it started: the events that follow come after
   * this id. Set when the source knows it (channels do), so a client that
   * has not received any event yet can still resume from here.
   */
  eventId?: string
}
/** One subscription event. `eventId` is set for tracked events. */
export interface DataMessage {
  type: typeof MessageType.Data
  id: number
  data?: unknown
  meta?: unknown
  eventId?: string
  /** W3C trace context of the span that published the event, when the channel recorded one. */
  trace?: TraceContext
}
/** The server cannot resume from the given `lastEventId`: reload state. */
export interface ResyncMessage {
  type: typeof MessageType.Resync
  id: number
  /** Why (a `ResyncReason`), when the server knows; a newer server may send one this version does not list. */
  reason?: string
}
/** The subscription ended normally. */
export interface CompleteMessage {
  type: typeof MessageType.Complete
  id: number
}
/**
 * The server may take `n` more chunks of the client stream of call or
 * subscription `id`: the first grant is the window, later ones return
 * what its resolver has consumed.
 */
export interface CreditMessage {
  type: typeof MessageType.Credit
  id: number
  n: number
}
/**
 * A call from the server to a client procedure the client advertised. Ids
 * are the server's own, apart from the client's; the client answers with
 * `result` or `error` under the same id, and the server may `cancel` it.
 */
export interface PeerCallMessage {
  type: typeof MessageType.Call
  id: number
  path: string
  input?: unknown
  meta?: unknown
  /** How long the server waits for the answer, in milliseconds: past it, the client's work is wasted. */
  timeoutMs: number
  /** W3C trace context of the server's span (optional; an invalid one is ignored). */
  trace?: TraceContext
}
/** The server's answer to its own `call`: the server gives up on it. */
export interface PeerCancelMessage {
  type: typeof MessageType.Cancel
  id: number
}

/**
 * The server is restarting: this connection will close (1012) once its
 * calls in flight are done. Reconnect `delayMs` after that close, so that
 * clients spread their reconnects instead of arriving all at once.
 */
export interface RestartMessage {
  type: typeof MessageType.Restart
  delayMs: number
}

// ---- both -------------------------------------------------------------------

export interface PingMessage {
  type: typeof MessageType.Ping
}
export interface PongMessage {
  type: typeof MessageType.Pong
}

/** Messages a client sends. `result` and `error` answer the server's own calls (see {@link PeerCallMessage}). */
export type ClientMessage =
  | InitMessage
  | CallMessage
  | CancelMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | ReinitMessage
  | ChunkMessage
  | EndMessage
  | ResultMessage
  | ErrorMessage
  | PingMessage
  | PongMessage

/** Messages a server sends. */
export type ServerMessage =
  | AckMessage
  | ResultMessage
  | ErrorMessage
  | StartedMessage
  | DataMessage
  | ResyncMessage
  | CompleteMessage
  | RestartMessage
  | CreditMessage
  | PeerCallMessage
  | PeerCancelMessage
  | PingMessage
  | PongMessage

/** Largest id: ids are non-negative safe integers. */
// Number.MAX_SAFE_INTEGER written out: a property read at module level would keep this module in every bundle.
export const MAX_ID = 9_007_199_254_740_991

/** True for a valid call or subscription id: an integer in `[0, 2^53 - 1]`. */
export function isValidId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}
