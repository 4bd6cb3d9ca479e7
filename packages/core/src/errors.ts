/**
 * The one error type of wirecall. Every failure a caller sees — from the
 * server, the network or the client itself — is an `RpcError` whose `code`
 * comes from {@link ERROR_CODES}, so `switch (err.code)` can be exhaustive.
 *
 * @example
 * ```ts
 * throw new RpcError('NOT_FOUND', `no post ${id}`)
 * ```
 */

/**
 * Every error code, with whether a client may retry the same call on its own
 * and the HTTP status that means the same thing (useful for logs and for
 * bridging to HTTP). The table is the source of truth for `docs/errors.md`.
 */
export const ERROR_CODES = {
  BAD_REQUEST: { retryable: false, httpStatus: 400 },
  UNAUTHORIZED: { retryable: false, httpStatus: 401 },
  FORBIDDEN: { retryable: false, httpStatus: 403 },
  NOT_FOUND: { retryable: false, httpStatus: 404 },
  METHOD_NOT_SUPPORTED: { retryable: false, httpStatus: 405 },
  TIMEOUT: { retryable: true, httpStatus: 408 },
  CONFLICT: { retryable: false, httpStatus: 409 },
  PRECONDITION_FAILED: { retryable: false, httpStatus: 412 },
  PAYLOAD_TOO_LARGE: { retryable: false, httpStatus: 413 },
  UNPROCESSABLE_CONTENT: { retryable: false, httpStatus: 422 },
  TOO_MANY_REQUESTS: { retryable: true, httpStatus: 429 },
  CANCELLED: { retryable: false, httpStatus: 499 },
  INTERNAL: { retryable: false, httpStatus: 500 },
  NOT_IMPLEMENTED: { retryable: false, httpStatus: 501 },
  OVERLOADED: { retryable: true, httpStatus: 503 },
  CONNECTION_LOST: { retryable: true, httpStatus: 503 },
} as const satisfies Record<string, { retryable: boolean; httpStatus: number }>

/** A code from {@link ERROR_CODES}. */
export type RpcErrorCode = keyof typeof ERROR_CODES

/** True when `value` is one of the documented error codes (own keys only). */
export function isRpcErrorCode(value: unknown): value is RpcErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value)
}

/** Options for {@link RpcError}. */
export interface RpcErrorOptions {
  /** Extra data for the caller; sent over the wire (through the serializer). */
  data?: unknown
  /** The underlying error. Kept on the server side only: never sent. */
  cause?: unknown
}

/**
 * The brand every `RpcError` carries. `Symbol.for` makes it one symbol per
 * process, shared by every copy of this module: an app can load the ESM
 * build and the CommonJS build of `@wirecall/core` side by side (an ESM app
 * with one CJS dependency is enough), and each copy has its own class.
 */
const RPC_ERROR_BRAND = Symbol.for('wirecall.RpcError')

/**
 * An error with a string `code`. Throw it from resolvers and middleware to
 * send that code, message and `data` to the caller; anything else thrown
 * reaches the caller as `INTERNAL` with its message withheld.
 *
 * `error instanceof RpcError` holds for an `RpcError` made by any copy of
 * `@wirecall/core` in the process (its ESM and CJS builds, two installed
 * versions); `instanceof` a subclass checks the prototype chain as usual.
 */
export class RpcError extends Error {
  override readonly name = 'RpcError'
  readonly code: RpcErrorCode
  readonly data: unknown

  constructor(code: RpcErrorCode, message?: string, options: RpcErrorOptions = {}) {
    super(message ?? code, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.data = options.data
    // Not enumerable: spreads, JSON and logs show the same fields as before.
    Object.defineProperty(this, RPC_ERROR_BRAND, { value: true })
  }

  /**
   * `instanceof RpcError` reads the brand, not the prototype, so that it
   * holds across copies of this module. A subclass keeps the prototype
   * check: another copy's `RpcError` is not an instance of your subclass.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== RpcError) return Function.prototype[Symbol.hasInstance].call(this, value)
    // A primitive has no such property, and `?.` covers null and undefined.
    return (value as Record<symbol, unknown> | null | undefined)?.[RPC_ERROR_BRAND] === true
  }

  /**
   * Turns anything caught into an `RpcError`. An `RpcError` is returned as
   * is; anything else becomes `INTERNAL` (or `fallbackCode`) with the
   * original kept as `cause` and, if it was an `Error`, its message.
   */
  static from(error: unknown, fallbackCode: RpcErrorCode = 'INTERNAL'): RpcError {
    // An RpcError with a code outside the table (possible from plain JS) is normalised like anything else.
    if (isRpcError(error)) return error
    if (isAbortError(error)) return new RpcError('CANCELLED', 'The operation was aborted', { cause: error })
    const message = error instanceof Error ? error.message : typeof error === 'string' ? error : fallbackCode
    return new RpcError(fallbackCode, message, { cause: error })
  }

  /** True when a client may safely try the same operation again. */
  get retryable(): boolean {
    return ERROR_CODES[this.code].retryable
  }

  /** The HTTP status with the same meaning, for logs and HTTP bridges. */
  get httpStatus(): number {
    return ERROR_CODES[this.code].httpStatus
  }
}

/**
 * True for an `RpcError` from any copy of `@wirecall/core` (ESM or CJS)
 * whose `code` is in the table; one built from plain JS with another code
 * is not, and is treated like any unexpected exception.
 */
export function isRpcError(value: unknown): value is RpcError {
  return (
    (value instanceof RpcError || (value instanceof Error && value.name === 'RpcError')) &&
    isRpcErrorCode((value as { code?: unknown }).code)
  )
}

function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError'
}

/**
 * Compile-time exhaustiveness helper: call it in the `default` branch of a
 * `switch (err.code)`; it fails to compile if a code is not handled.
 *
 * @example
 * ```ts
 * switch (err.code) {
 *   case 'UNAUTHORIZED': return login()
 *   // ...every other code...
 *   default: return assertNever(err.code)
 * }
 * ```
 */
export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`)
}
