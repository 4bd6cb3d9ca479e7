import {
  PROTOCOL,
  callFrame,
  decodeError,
  decodePayload,
  defaultSerializer,
  initFrame,
  parseServerFrame,
  type RpcError,
  type ServerMessage,
} from '@wirecall/core'
import WebSocket from 'ws'

/** Options of {@link remoteQuery}. */
export interface RemoteQueryOptions {
  /** Sent as `connectionParams` in `init`. */
  readonly params?: unknown
  readonly signal?: AbortSignal | undefined
  /** The whole exchange, from connecting to the answer. */
  readonly timeoutMs: number
}

/** How a {@link remoteQuery} ended when it got no result. */
export type RemoteFailure =
  /** The server answered the call with an error. */
  | { readonly kind: 'rpc'; readonly error: RpcError }
  /** No WebSocket connection: refused, unreachable, not a wirecall endpoint (HTTP answer, no subprotocol). */
  | { readonly kind: 'connect'; readonly reason: string }
  /** The connection opened and then closed before the answer (4401 from `createContext`, 1009, …). */
  | { readonly kind: 'closed'; readonly code: number; readonly reason: string }
  /** A frame from the server that is not `wirecall.v1`. */
  | { readonly kind: 'protocol'; readonly reason: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'aborted'; readonly reason: unknown }

/** Thrown by {@link remoteQuery}: the failure as data, for the caller to word. */
export class RemoteQueryError extends Error {
  override readonly name = 'RemoteQueryError'
  constructor(readonly failure: RemoteFailure) {
    super(`remote query failed: ${failure.kind}`)
  }
}

/** The one call of a {@link remoteQuery}; any id would do, the connection is ours alone. */
const CALL_ID = 1
/** Largest frame accepted from the server: a manifest of a large API is big, but not this big. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024

/**
 * One query over a fresh `wirecall.v1` connection: `init` → `ack` →
 * `call` → `result` or `error`, then the socket is closed. A raw exchange
 * rather than `@wirecall/client`, whose proxy cannot name a reserved `$`
 * path (and would retry and reconnect, where a generator wants one clear
 * answer). Settles exactly once; the socket and the timer are always gone
 * when it does. Rejects with a {@link RemoteQueryError}.
 */
export function remoteQuery(url: string, path: string, options: RemoteQueryOptions): Promise<unknown> {
  const { signal, timeoutMs } = options
  if (signal?.aborted === true) return Promise.reject(new RemoteQueryError({ kind: 'aborted', reason: signal.reason }))
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, PROTOCOL, { handshakeTimeout: timeoutMs, maxPayload: MAX_ANSWER_BYTES })
    let acked = false
    let settled = false
    const finish = (outcome: { ok: true; value: unknown } | { ok: false; failure: RemoteFailure }) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (socket.readyState === WebSocket.OPEN) socket.close(1000)
      else socket.terminate()
      if (outcome.ok) resolve(outcome.value)
      else reject(new RemoteQueryError(outcome.failure))
    }
    const fail = (failure: RemoteFailure) => finish({ ok: false, failure })
    const onAbort = () => fail({ kind: 'aborted', reason: signal?.reason })
    const timer = setTimeout(() => fail({ kind: 'timeout' }), timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })

    socket.on('unexpected-response', (_request, response) => {
      fail({ kind: 'connect', reason: `the server answered HTTP ${response.statusCode ?? '?'} instead of opening a WebSocket` })
    })
    socket.on('error', (error) => fail({ kind: 'connect', reason: describeSocketError(error) }))
    socket.on('open', () => {
      if (socket.protocol !== PROTOCOL) return fail({ kind: 'connect', reason: `the server does not speak ${PROTOCOL}` })
      socket.send(initFrame(defaultSerializer, options.params))
    })
    socket.on('close', (code, reason) => fail({ kind: 'closed', code, reason: reason.toString() }))
    socket.on('message', (data, isBinary) => {
      if (isBinary) return fail({ kind: 'protocol', reason: 'a binary frame' })
      const parsed = parseServerFrame(String(data))
      if (!parsed.ok) return fail({ kind: 'protocol', reason: parsed.reason })
      for (const message of parsed.messages) {
        if (settled) return
        if (message.type === 'ack' && !acked) {
          acked = true
          socket.send(callFrame(defaultSerializer, { id: CALL_ID, method: 'query', path }, undefined))
        } else {
          answer(message)
        }
      }
    })

    function answer(message: ServerMessage): void {
      if (message.type === 'ping') return void socket.send('{"type":"pong"}')
      if (!('id' in message) || message.id !== CALL_ID) return
      if (message.type === 'error') return fail({ kind: 'rpc', error: decodeError(defaultSerializer, message) })
      if (message.type !== 'result') return
      let value: unknown
      try {
        value = decodePayload(defaultSerializer, message.data, message.meta)
      } catch (error) {
        return fail({ kind: 'protocol', reason: `the answer could not be decoded: ${error instanceof Error ? error.message : String(error)}` })
      }
      finish({ ok: true, value })
    }
  })
}

/** `connect ECONNREFUSED 127.0.0.1:4000` rather than an AggregateError with an empty message (Node tries every address). */
function describeSocketError(error: Error): string {
  const code = (error as { code?: unknown }).code
  if (error.message !== '') return error.message
  if (error instanceof AggregateError) {
    const first = (error.errors as unknown[]).find((inner): inner is Error => inner instanceof Error && inner.message !== '')
    if (first !== undefined) return first.message
  }
  return typeof code === 'string' ? code : 'connection failed'
}
