import { RpcError, closeMeaning, errorFields, isRpcError, type EncodedFields, type Serializer } from '@wirecall/core'
import type { ErrorHandlerOptions } from '../options'

/** An error as a caller may see it, and the `RpcError` that `onError` gets. */
interface PublicError {
  code: string
  message: string
  data: unknown
  original: RpcError
}

/**
 * Masks what is not an `RpcError` (the caller sees `INTERNAL`, "Internal
 * server error") unless the server opted in to expose it, with its stack
 * in `data.stack`. An `RpcError` goes out as it is.
 */
export function toPublicError(thrown: unknown, exposeInternalErrors: boolean): PublicError {
  // isRpcError is false for a code outside the table (thrown from plain JS):
  // such an error is masked like any unexpected exception.
  if (isRpcError(thrown)) return { code: thrown.code, message: thrown.message, data: thrown.data, original: thrown }
  const original = RpcError.from(thrown)
  if (original.code !== 'INTERNAL') return { code: original.code, message: original.message, data: undefined, original }
  if (exposeInternalErrors) {
    const stack = thrown instanceof Error ? thrown.stack : undefined
    return { code: 'INTERNAL', message: original.message, data: stack === undefined ? undefined : { stack }, original }
  }
  return { code: 'INTERNAL', message: 'Internal server error', data: undefined, original }
}

/**
 * Masks `thrown`, hands the original to `report`, and encodes what the
 * caller may see as the fields of an `error` message. Returns the fields
 * and the original, which `onError` and the instrumentation get.
 */
export function maskedErrorFields(
  serializer: Serializer,
  exposeInternalErrors: boolean,
  thrown: unknown,
  report: (error: RpcError) => void,
): { fields: EncodedFields; original: RpcError } {
  const error = toPublicError(thrown, exposeInternalErrors)
  report(error.original)
  return { fields: errorFields(serializer, error.code, error.message, error.data), original: error.original }
}

/**
 * Calls the server's `onError`. A logger that throws, or returns a promise
 * that rejects, must not take the session down nor become an unhandled
 * rejection.
 */
export function callOnError(onError: ((opts: ErrorHandlerOptions) => void) | undefined, opts: ErrorHandlerOptions): void {
  if (onError === undefined) return
  try {
    const result: unknown = onError(opts)
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') (result as Promise<unknown>).then(undefined, () => {})
  } catch {
    // A throwing logger must not take the session down.
  }
}

/**
 * What `onError` is told of a connection the server refused or closed with
 * `code`: an error with the code the client's waiting calls get for that
 * close (4403: `FORBIDDEN`, 1013: `OVERLOADED`...), a message naming the
 * cause, and the close in `data`, as the client's error has it.
 */
export function closeReport(code: number, reason: string, cause?: unknown): RpcError {
  return new RpcError(closeMeaning(code).code, `connection closed with ${code}: ${reason}`, { data: { closeCode: code, closeReason: reason }, cause })
}

/** What `onError` is told of an upgrade refused with a plain HTTP answer, before any WebSocket existed. */
export function upgradeRefusalReport(status: number, reason: string): RpcError {
  return new RpcError(status === 400 ? 'BAD_REQUEST' : 'CONNECTION_LOST', `upgrade refused with HTTP ${status}: ${reason}`, { data: { httpStatus: status } })
}
