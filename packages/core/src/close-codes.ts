import { RpcError, type RpcErrorCode } from './errors'

// Each code is a constant first: a bundle inlines the few it reads (the
// client reads four, and the table below) and can then drop the object of
// names, {@link CloseCode}, which only servers and apps need.
export const NORMAL_CLOSURE = 1000
const GOING_AWAY = 1001
const WEBSOCKET_PROTOCOL_ERROR = 1002
const UNSUPPORTED_DATA = 1003
export const ABNORMAL_CLOSURE = 1006
const INVALID_PAYLOAD = 1007
const POLICY_VIOLATION = 1008
export const MESSAGE_TOO_BIG = 1009
const MANDATORY_EXTENSION = 1010
const INTERNAL_ERROR = 1011
const SERVICE_RESTART = 1012
const TRY_AGAIN_LATER = 1013
export const PROTOCOL_ERROR = 4400
const UNAUTHORIZED = 4401
const FORBIDDEN = 4403
const INIT_TIMEOUT = 4408
const PARAMS_TOO_LARGE = 4413
const TOO_MANY_REQUESTS = 4429

/**
 * Close codes wirecall uses. The 1xxx codes are RFC 6455's; 44xx mirror HTTP
 * statuses so they read at a glance. {@link CLOSE_CODES} says what each
 * means to a client; `docs/protocol.md` is its prose version.
 */
export const CloseCode = {
  /** Normal closure: the client stays closed. */
  Normal: NORMAL_CLOSURE,
  /** The server is going away for good. */
  GoingAway: GOING_AWAY,
  /** RFC 6455 protocol error, sent by a WebSocket layer for a malformed frame. */
  WebSocketProtocolError: WEBSOCKET_PROTOCOL_ERROR,
  /** RFC 6455: the endpoint cannot accept this kind of data. */
  UnsupportedData: UNSUPPORTED_DATA,
  /** Reported by a WebSocket API when a connection ended without a closing handshake; never sent on the wire. */
  Abnormal: ABNORMAL_CLOSURE,
  /** RFC 6455: a text frame that is not valid UTF-8. */
  InvalidPayload: INVALID_PAYLOAD,
  /** Policy violation: a message flood, or (sent by `ws`) a message in too many fragments. */
  PolicyViolation: POLICY_VIOLATION,
  /** A frame was larger than the receiver accepts. */
  MessageTooBig: MESSAGE_TOO_BIG,
  /** RFC 6455: the client needed an extension the server did not offer. */
  MandatoryExtension: MANDATORY_EXTENSION,
  /** The server hit an unexpected condition. */
  InternalError: INTERNAL_ERROR,
  /** The server is restarting (deploy); reconnect soon. */
  ServiceRestart: SERVICE_RESTART,
  /** Try again later: overloaded, slow consumer, too many connections. */
  TryAgainLater: TRY_AGAIN_LATER,
  /** Protocol error: not JSON, wrong envelope, invalid id, wrong subprotocol. */
  ProtocolError: PROTOCOL_ERROR,
  /** `createContext` rejected the connection. */
  Unauthorized: UNAUTHORIZED,
  /** Forbidden: an origin `allowedOrigins` refuses, or `createContext` threw `FORBIDDEN`. Terminal. */
  Forbidden: FORBIDDEN,
  /** No `init` message arrived within the init timeout. */
  InitTimeout: INIT_TIMEOUT,
  /** The `init` message (its `connectionParams`) was larger than the server accepts. */
  ParamsTooLarge: PARAMS_TOO_LARGE,
  /** Reserved: too many requests. The reference server does not send it. */
  TooManyRequests: TOO_MANY_REQUESTS,
} as const
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode]

/** One row of {@link CLOSE_CODES}. */
export interface CloseCodeRow {
  /** The WebSocket close code. */
  readonly code: number
  /** The code of the `RpcError` that calls waiting on the connection reject with. */
  readonly errorCode: RpcErrorCode
  /** Whether the client stops for good: retrying would fail the same way. */
  readonly terminal: boolean
}

/**
 * What every close code means to a client: the one table both sides read.
 * Codes not listed: the 4400–4499 band mirrors HTTP's 4xx ("your request
 * is wrong") and is terminal; everything else — 1006 (a network drop)
 * among them, and codes an app or proxy made up — is a retryable
 * connection loss. See {@link closeMeaning}.
 */
export const CLOSE_CODES: readonly CloseCodeRow[] = [
  { code: NORMAL_CLOSURE, errorCode: 'CONNECTION_LOST', terminal: true },
  { code: GOING_AWAY, errorCode: 'CONNECTION_LOST', terminal: false },
  { code: WEBSOCKET_PROTOCOL_ERROR, errorCode: 'BAD_REQUEST', terminal: true },
  { code: UNSUPPORTED_DATA, errorCode: 'BAD_REQUEST', terminal: true },
  { code: INVALID_PAYLOAD, errorCode: 'BAD_REQUEST', terminal: true },
  { code: POLICY_VIOLATION, errorCode: 'FORBIDDEN', terminal: true },
  { code: MESSAGE_TOO_BIG, errorCode: 'PAYLOAD_TOO_LARGE', terminal: false },
  { code: MANDATORY_EXTENSION, errorCode: 'BAD_REQUEST', terminal: true },
  { code: INTERNAL_ERROR, errorCode: 'CONNECTION_LOST', terminal: false },
  { code: SERVICE_RESTART, errorCode: 'CONNECTION_LOST', terminal: false },
  { code: TRY_AGAIN_LATER, errorCode: 'OVERLOADED', terminal: false },
  { code: PROTOCOL_ERROR, errorCode: 'BAD_REQUEST', terminal: true },
  { code: UNAUTHORIZED, errorCode: 'UNAUTHORIZED', terminal: true },
  { code: FORBIDDEN, errorCode: 'FORBIDDEN', terminal: true },
  { code: INIT_TIMEOUT, errorCode: 'TIMEOUT', terminal: false },
  { code: PARAMS_TOO_LARGE, errorCode: 'PAYLOAD_TOO_LARGE', terminal: true },
  { code: TOO_MANY_REQUESTS, errorCode: 'TOO_MANY_REQUESTS', terminal: false },
]

/**
 * What a close code means to calls that were waiting, and whether the client
 * may connect again by itself. Terminal codes end the client: retrying
 * would fail the same way, and a loop of refused reconnects is a storm the
 * server pays for.
 */
export interface CloseMeaning {
  /** The `RpcError` code that calls waiting on the connection reject with. */
  code: RpcErrorCode
  terminal: boolean
}

/**
 * Meaning of a close code, from {@link CLOSE_CODES}.
 *
 * @example
 * ```ts
 * closeMeaning(4401) // { code: 'UNAUTHORIZED', terminal: true }
 * closeMeaning(1006) // { code: 'CONNECTION_LOST', terminal: false }
 * ```
 */
export function closeMeaning(code: number): CloseMeaning {
  for (const row of CLOSE_CODES) if (row.code === code) return { code: row.errorCode, terminal: row.terminal }
  if (code >= 4400 && code <= 4499) return { code: 'BAD_REQUEST', terminal: true }
  return { code: 'CONNECTION_LOST', terminal: false }
}

/** The error pending calls reject with when the socket closes with `code`. */
export function closeError(code: number, reason: string): RpcError {
  const detail = reason === '' ? `connection closed (${code})` : `connection closed (${code}): ${reason}`
  return new RpcError(closeMeaning(code).code, detail, { data: { closeCode: code, closeReason: reason } })
}

/**
 * The close code for a connection whose set-up `createContext` refused with
 * `errorCode`, read back by the client through {@link CLOSE_CODES}. Refusals
 * are terminal (4401), except what says "not now", retried with backoff.
 */
export function refusalCloseCode(errorCode: RpcErrorCode): CloseCode {
  return REFUSALS[errorCode] ?? CloseCode.Unauthorized
}

const REFUSALS: Partial<Record<RpcErrorCode, CloseCode>> = {
  FORBIDDEN: FORBIDDEN,
  OVERLOADED: TRY_AGAIN_LATER,
  TOO_MANY_REQUESTS: TRY_AGAIN_LATER,
  TIMEOUT: TRY_AGAIN_LATER,
  INTERNAL: INTERNAL_ERROR,
}
