import {
  PROTOCOL,
  RpcError,
  defaultSerializer,
  isRpcErrorCode,
  type CallMethod,
  type Serializer,
  type ServerMessage,
} from '@wirecall/core'
import { closeError, closeMeaning } from './close-codes'
import { Connection } from './connection'
import { Emitter } from './emitter'
import { clientDefaults, type CallOptions, type ConnectionState, type RpcClientOptions } from './options'
import { RequestTable, type PendingCall } from './request-table'
import type { WebSocketConstructor } from './websocket'

/** Events of `api.$connection.on(...)`. */
export interface ConnectionEvents {
  /** The connection state changed. */
  state: (state: ConnectionState) => void
  /** The connection closed; `code` is the WebSocket close code (1006 when the network dropped). */
  close: (info: { code: number; reason: string }) => void
}

/**
 * Orchestrates one client: owns the connection state, the table of calls in
 * flight and the queue of calls waiting for a connection.
 *
 * States: `idle` (no socket) -> `connecting` (socket opening, init sent,
 * waiting for ack) -> `open`. When the socket drops, calls waiting on it
 * reject with the close code's error and the client goes back to `idle`
 * (the next call connects again), or to `closed` when the close code is
 * terminal (auth rejected, protocol error) or `close()` was called.
 */
export class ClientRuntime {
  state: ConnectionState = 'idle'
  readonly events = new Emitter<ConnectionEvents>()
  private readonly table = new RequestTable()
  private readonly serializer: Serializer
  private readonly timeoutMs: number
  private connection: Connection | undefined
  /** Bumped per connect attempt, so a stale async step cannot act on a newer one. */
  private attempt = 0
  private nextId = 1
  private terminalError: RpcError | undefined

  constructor(private readonly options: RpcClientOptions) {
    this.serializer = options.serializer ?? defaultSerializer
    this.timeoutMs = options.timeoutMs ?? clientDefaults.timeoutMs
    if (!(options.lazy ?? clientDefaults.lazy)) this.connect()
  }

  get bufferedAmount(): number {
    return this.connection?.bufferedAmount ?? 0
  }

  /** Sends a query or mutation; settles exactly once with the answer, or an `RpcError`. */
  call(method: CallMethod, path: string, input: unknown, options: CallOptions | undefined): Promise<unknown> {
    if (this.state === 'closed') {
      return Promise.reject(this.terminalError ?? new RpcError('CANCELLED', 'The client is closed'))
    }
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(abortError(signal))
    const id = this.nextId++
    let frame: string
    try {
      frame = this.encodeCall(id, method, path, input)
    } catch (cause) {
      return Promise.reject(new RpcError('BAD_REQUEST', 'The input could not be serialized', { cause }))
    }
    return new Promise<unknown>((resolve, reject) => {
      const timeoutMs = options?.timeoutMs ?? this.timeoutMs
      const timer = setTimeout(() => this.abandon(id, new RpcError('TIMEOUT', `"${path}" timed out after ${timeoutMs} ms`)), timeoutMs)
      ;(timer as { unref?: () => void }).unref?.()
      const onAbort = signal === undefined ? undefined : () => this.abandon(id, abortError(signal))
      if (onAbort !== undefined) signal!.addEventListener('abort', onAbort, { once: true })
      const call: PendingCall = {
        id,
        frame,
        sent: false,
        resolve,
        reject,
        dispose() {
          clearTimeout(timer)
          if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort)
        },
      }
      this.table.add(call)
      if (this.connection?.isOpen) this.transmit(call)
      else this.connect()
    })
  }

  /** Opens the connection if there is none. */
  connect(): void {
    if (this.state !== 'idle') return
    void this.open()
  }

  /** Closes for good: rejects every pending call with `CANCELLED`, closes the socket with 1000. */
  async close(): Promise<void> {
    if (this.state === 'closed' && this.connection === undefined) return
    this.attempt++
    const connection = this.connection
    this.connection = undefined
    this.terminalError ??= new RpcError('CANCELLED', 'The client is closed')
    this.setState('closed')
    this.table.rejectAll(new RpcError('CANCELLED', 'The client was closed'))
    await connection?.close(1000, 'client closed')
    this.events.clear()
  }

  private async open(): Promise<void> {
    const attempt = ++this.attempt
    this.setState('connecting')
    let connection: Connection
    try {
      const [url, params] = await Promise.all([resolveUrl(this.options.url), resolveParams(this.options.connectionParams)])
      if (attempt !== this.attempt) return
      connection = new Connection(this.webSocketConstructor(), url, this.encodeInit(params), {
        ready: () => {
          if (attempt !== this.attempt) return
          this.setState('open')
          for (const call of this.table.unsent()) this.transmit(call)
        },
        message: (message) => {
          if (attempt === this.attempt) this.receive(message)
        },
        closed: (code, reason) => {
          if (attempt === this.attempt) this.dropped(code, reason)
        },
      })
    } catch (cause) {
      if (attempt !== this.attempt) return
      // Bad URL, missing WebSocket, or connectionParams threw: nothing to retry with.
      const error = RpcError.from(cause, 'CONNECTION_LOST')
      this.terminalError = error
      this.setState('closed')
      this.table.rejectAll(error)
      return
    }
    this.connection = connection
  }

  private dropped(code: number, reason: string): void {
    this.connection = undefined
    this.events.emit('close', { code, reason })
    const error = closeError(code, reason)
    if (closeMeaning(code).terminal) {
      this.terminalError = error
      this.setState('closed')
    } else {
      this.setState('idle')
    }
    this.table.rejectAll(error)
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'result': {
        const call = this.table.take(message.id)
        if (call === undefined) return // cancelled or timed out: a late answer is dropped
        let value: unknown
        try {
          value = decode(this.serializer, message.data, message.meta)
        } catch (cause) {
          return call.reject(new RpcError('INTERNAL', 'The result could not be deserialized', { cause }))
        }
        return call.resolve(value)
      }
      case 'error': {
        const call = this.table.take(message.id)
        if (call === undefined) return
        let data: unknown
        try {
          data = decode(this.serializer, message.data, message.meta)
        } catch {
          data = undefined
        }
        const code = isRpcErrorCode(message.code) ? message.code : 'INTERNAL'
        return call.reject(new RpcError(code, message.message, { data }))
      }
      default:
        // Subscription messages and pongs are handled by later layers; unknown ones are ignored.
        return
    }
  }

  /** Settles a call locally (timeout, abort) and tells the server to stop it. */
  private abandon(id: number, error: RpcError): void {
    const call = this.table.take(id)
    if (call === undefined) return
    if (call.sent) this.connection?.send(`{"type":"cancel","id":${id}}`)
    call.reject(error)
  }

  private transmit(call: PendingCall): void {
    call.sent = true
    this.connection!.send(call.frame)
  }

  private encodeCall(id: number, method: CallMethod, path: string, input: unknown): string {
    if (input === undefined) return JSON.stringify({ type: 'call', id, method, path })
    const { json, meta } = this.serializer.serialize(input)
    return JSON.stringify(meta === undefined ? { type: 'call', id, method, path, input: json } : { type: 'call', id, method, path, input: json, meta })
  }

  private encodeInit(params: Record<string, unknown> | undefined): string {
    if (params === undefined) return '{"type":"init"}'
    const { json, meta } = this.serializer.serialize(params)
    return JSON.stringify(meta === undefined ? { type: 'init', params: json } : { type: 'init', params: json, meta })
  }

  private webSocketConstructor(): WebSocketConstructor {
    const ctor = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
    if (ctor === undefined) {
      throw new RpcError('INTERNAL', `No WebSocket implementation: pass { WebSocket } from 'ws' on Node 20 (subprotocol ${PROTOCOL})`)
    }
    return ctor
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    this.events.emit('state', state)
  }
}

function decode(serializer: Serializer, json: unknown, meta: unknown): unknown {
  if (json === undefined && meta === undefined) return undefined
  return serializer.deserialize(meta === undefined ? { json } : { json, meta })
}

function abortError(signal: AbortSignal): RpcError {
  return new RpcError('CANCELLED', 'The call was aborted', { cause: signal.reason })
}

async function resolveUrl(url: RpcClientOptions['url']): Promise<string> {
  return typeof url === 'function' ? url() : url
}

async function resolveParams(params: RpcClientOptions['connectionParams']): Promise<Record<string, unknown> | undefined> {
  return typeof params === 'function' ? params() : params
}
