import { CloseCode, RpcError, type RpcErrorCode } from '@wirecall/core'

/**
 * What a close code means to calls that were waiting, and whether the client
 * may connect again by itself. Terminal codes end the client: retrying
 * would fail the same way, and a loop of refused reconnects is a storm the
 * server pays for.
 */
export interface CloseMeaning {
  code: RpcErrorCode
  terminal: boolean
}

const MEANINGS: ReadonlyMap<number, CloseMeaning> = new Map([
  [CloseCode.Normal, { code: 'CONNECTION_LOST', terminal: true }],
  [CloseCode.GoingAway, { code: 'CONNECTION_LOST', terminal: false }],
  [1002, { code: 'BAD_REQUEST', terminal: true }], // protocol error (RFC 6455)
  [1003, { code: 'BAD_REQUEST', terminal: true }], // unsupported data
  [1007, { code: 'BAD_REQUEST', terminal: true }], // invalid payload data
  [CloseCode.PolicyViolation, { code: 'FORBIDDEN', terminal: true }],
  [CloseCode.MessageTooBig, { code: 'PAYLOAD_TOO_LARGE', terminal: false }],
  [1010, { code: 'BAD_REQUEST', terminal: true }], // a required extension was refused
  [CloseCode.InternalError, { code: 'CONNECTION_LOST', terminal: false }],
  [CloseCode.ServiceRestart, { code: 'CONNECTION_LOST', terminal: false }],
  [CloseCode.TryAgainLater, { code: 'OVERLOADED', terminal: false }],
  [CloseCode.ProtocolError, { code: 'BAD_REQUEST', terminal: true }],
  [CloseCode.Unauthorized, { code: 'UNAUTHORIZED', terminal: true }],
  [CloseCode.Forbidden, { code: 'FORBIDDEN', terminal: true }],
  [CloseCode.InitTimeout, { code: 'TIMEOUT', terminal: false }],
  [CloseCode.ParamsTooLarge, { code: 'PAYLOAD_TOO_LARGE', terminal: true }],
  [4429, { code: 'TOO_MANY_REQUESTS', terminal: false }],
])

/**
 * Meaning of a close code. Besides the table: the 4400-4499 band mirrors
 * HTTP's 4xx ("your request is wrong") and is terminal; every other code —
 * 1006 (network drop) among them, and codes an app or proxy made up — is a
 * retryable connection loss.
 */
export function closeMeaning(code: number): CloseMeaning {
  const known = MEANINGS.get(code)
  if (known !== undefined) return known
  if (code >= 4400 && code <= 4499) return { code: 'BAD_REQUEST', terminal: true }
  return { code: 'CONNECTION_LOST', terminal: false }
}

/** The error pending calls reject with when the socket closes with `code`. */
export function closeError(code: number, reason: string): RpcError {
  const meaning = closeMeaning(code)
  const detail = reason === '' ? `connection closed (${code})` : `connection closed (${code}): ${reason}`
  return new RpcError(meaning.code, detail, { data: { closeCode: code, closeReason: reason } })
}
