import {
  MAX_GRANT,
  RpcError,
  cancelFrame,
  isRpcErrorCode,
  peerCallFrame,
  validate,
  type ErrorMessage,
  type ResultMessage,
} from '@wirecall/core'
import { decodeFromPeer } from './payload'
import type { Session } from './session'
import { unrefTimer } from './unref'

/** One call to the client waiting for its answer. */
interface PendingPeerCall {
  readonly path: string
  resolve(value: unknown): void
  reject(error: RpcError): void
  timer: ReturnType<typeof setTimeout>
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/**
 * The server's calls to the client procedures of one session (server
 * `call` → client `result`/`error`), by the server's own ids, apart from
 * the client's.
 *
 * Each call settles exactly once: with the client's answer, `TIMEOUT`
 * (its `timeoutMs`, always set), `CANCELLED` (its signal), or
 * `CONNECTION_LOST` when the session closes; on the first two the client
 * is told to `cancel`. It is never sent again on another connection
 * (at most once). What settled leaves the table at once, so an idle
 * session holds nothing; a late or unknown answer is ignored (never a
 * close), so a client that answers wrongly only fails its own calls.
 */
export class PeerCallTable {
  private readonly pending = new Map<number, PendingPeerCall>()
  private lastId = 0

  constructor(private readonly session: Session) {}

  /** Calls waiting for the client's answer. */
  get size(): number {
    return this.pending.size
  }

  /** Calls client procedure `path`; see `PeerProcedure.call`. Never throws: every failure is a rejection. */
  call(path: string, input: unknown, options: unknown): Promise<unknown> {
    const { session } = this
    const { peerCalls, serializer } = session.config
    if (!session.isReady) return refuse('CONNECTION_LOST', 'The connection is closed')
    if (session.handlers?.has(path) !== true || (peerCalls.router !== undefined && !peerCalls.router._def.procedures.has(path))) {
      return refuse('NOT_IMPLEMENTED', `The client does not implement "${path}"`)
    }
    const { timeoutMs = peerCalls.timeoutMs, signal } = (options ?? {}) as { timeoutMs?: unknown; signal?: AbortSignal | undefined }
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_GRANT) {
      return refuse('BAD_REQUEST', `timeoutMs must be an integer from 1 to ${MAX_GRANT}`)
    }
    if (signal?.aborted === true) return refuse('CANCELLED', `The call to "${path}" was cancelled`)
    if (this.pending.size >= peerCalls.maxInFlight) {
      return refuse('TOO_MANY_REQUESTS', `Too many calls to this client in flight (at most ${peerCalls.maxInFlight})`)
    }
    const id = ++this.lastId
    let frame: string
    try {
      frame = peerCallFrame(serializer, { id, path, timeoutMs }, input)
    } catch (cause) {
      return Promise.reject(new RpcError('BAD_REQUEST', `The input of "${path}" could not be serialized`, { cause }))
    }
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => this.giveUp(id, new RpcError('TIMEOUT', `The client did not answer "${path}" within ${timeoutMs} ms`)), timeoutMs)
      unrefTimer(timer)
      const call: PendingPeerCall = { path, resolve, reject, timer, signal, onAbort: undefined }
      if (signal !== undefined) {
        call.onAbort = () => this.giveUp(id, new RpcError('CANCELLED', `The call to "${path}" was cancelled`))
        signal.addEventListener('abort', call.onAbort, { once: true })
      }
      this.pending.set(id, call)
      peerCalls.inFlight++
      session.write(frame)
    })
  }

  /** The client answered one of the server's calls. Unknown ids are ignored (late answers after a timeout). */
  answer(message: ResultMessage | ErrorMessage): void {
    const call = this.take(message.id)
    if (call === undefined) return
    const { config } = this.session
    if (message.type === 'error') return call.reject(this.errorOf(message))
    let value: unknown
    try {
      value = decodeFromPeer(config, message.data, message.meta)
    } catch (cause) {
      return call.reject(new RpcError('INTERNAL', `The answer of the client to "${call.path}" could not be decoded`, { cause }))
    }
    const output = config.peerCalls.router?._def.procedures.get(call.path)?._def.output
    if (output === undefined) return call.resolve(value)
    // The client is not trusted to have validated what it sends: its answer is checked as an input would be.
    validate(output, value, 'output').then(call.resolve, (error: unknown) => call.reject(RpcError.from(error)))
  }

  /** The session is gone: every call rejects with `reason` (`CONNECTION_LOST`); nothing is sent. */
  abortAll(reason: RpcError): void {
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(reason)
  }

  /** The server stopped waiting (timeout, signal): reject, and tell the client to stop. */
  private giveUp(id: number, error: RpcError): void {
    const call = this.take(id)
    if (call === undefined) return
    this.session.write(cancelFrame(id))
    call.reject(error)
  }

  /** Removes call `id` from the table with its timer and listener; the one way out, so each call settles once. */
  private take(id: number): PendingPeerCall | undefined {
    const call = this.pending.get(id)
    if (call === undefined) return undefined
    this.pending.delete(id)
    this.session.config.peerCalls.inFlight--
    clearTimeout(call.timer)
    if (call.onAbort !== undefined) call.signal!.removeEventListener('abort', call.onAbort)
    return call
  }

  /** The client's `error`, decoded within the payload bounds; a code outside the table reads as `INTERNAL`. */
  private errorOf(message: ErrorMessage): RpcError {
    let data: unknown
    try {
      data = decodeFromPeer(this.session.config, message.data, message.meta)
    } catch {
      data = undefined
    }
    return new RpcError(isRpcErrorCode(message.code) ? message.code : 'INTERNAL', message.message, data === undefined ? {} : { data })
  }
}

function refuse(code: 'CONNECTION_LOST' | 'NOT_IMPLEMENTED' | 'BAD_REQUEST' | 'CANCELLED' | 'TOO_MANY_REQUESTS', message: string): Promise<never> {
  return Promise.reject(new RpcError(code, message))
}
