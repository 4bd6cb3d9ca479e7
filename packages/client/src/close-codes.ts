import { CloseCode, RpcError, type RpcErrorCode } from '@wirecall/core'

/**
 * What a close code means to calls that were waiting, and whether the client
 * may connect again by itself. Terminal codes end the client: retrying
 * would fail the same way.
 */
export interface CloseMeaning {
  code: RpcErrorCode
  terminal: boolean
}

const MEANINGS: ReadonlyMap<number, CloseMeaning> = new Map([
  [CloseCode.Normal, { code: 'CONNECTION_LOST', terminal: true }],
  [CloseCode.GoingAway, { code: 'CONNECTION_LOST', terminal: false }],
  [CloseCode.PolicyViolation, { code: 'FORBIDDEN', terminal: true }],
  [CloseCode.MessageTooBig, { code: 'PAYLOAD_TOO_LARGE', terminal: false }],
  [CloseCode.InternalError, { code: 'CONNECTION_LOST', terminal: false }],
  [CloseCode.ServiceRestart, { code: 'CONNECTION_LOST', terminal: false }],
  [CloseCode.TryAgainLater, { code: 'OVERLOADED', terminal: false }],
  [CloseCode.ProtocolError, { code: 'BAD_REQUEST', terminal: true }],
  [CloseCode.Unauthorized, { code: 'UNAUTHORIZED', terminal: true }],
  [CloseCode.Forbidden, { code: 'FORBIDDEN', terminal: true }],
  [CloseCode.InitTimeout, { code: 'TIMEOUT', terminal: false }],
])

/** Meaning of a close code; unknown codes (1006 abnormal closure among them) are a retryable connection loss. */
export function closeMeaning(code: number): CloseMeaning {
  return MEANINGS.get(code) ?? { code: 'CONNECTION_LOST', terminal: false }
}

/** The error pending calls reject with when the socket closes with `code`. */
export function closeError(code: number, reason: string): RpcError {
  const meaning = closeMeaning(code)
  const detail = reason === '' ? `connection closed (${code})` : `connection closed (${code}): ${reason}`
  return new RpcError(meaning.code, detail, { data: { closeCode: code, closeReason: reason } })
}
