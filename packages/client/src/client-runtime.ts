import {
  PROTOCOL,
  RpcError,
  defaultSerializer,
  isRpcErrorCode,
  type CallMethod,
  type EncodedPayload,
  type Serializer,
  type ServerMessage,
} from '@wirecall/core'
import { closeError, closeMeaning } from './close-codes'
import { Connection } from './connection'
import { Emitter } from './emitter'
import { clientDefaults, type CallOptions, type ConnectionState, type RpcClientOptions } from './options'
import { RequestTable, type PendingCall } from './request-table'
import { type SubscribeOptions, type Subscription, type SubscriptionSink, type SubscriptionState } from './subscription'
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
  /** Live subscriptions by id; ids are shared with calls. */
  private readonly subscriptions = new Map<number, ActiveSubscription>()
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
      const timeoutMs = clampTimeout(options?.timeoutMs ?? this.timeoutMs)
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

  /**
   * Starts a subscription. `makeSink` receives the function that
   * unsubscribes, so an iterator can stop its own subscription on `break`.
   */
  subscribe(
    path: string,
    input: unknown,
    makeSink: (unsubscribe: () => void) => SubscriptionSink,
    options: SubscribeOptions | undefined,
  ): Subscription {
    const id = this.nextId++
    const signal = options?.signal
    const onAbort = () => unsubscribe()
    const sub: ActiveSubscription = {
      id,
      path,
      input: undefined,
      lastEventId: options?.lastEventId,
      sent: false,
      state: 'pending',
      sink: undefined as unknown as SubscriptionSink,
      dispose: () => signal?.removeEventListener('abort', onAbort),
    }
    const unsubscribe = () => {
      if (sub.state === 'ended') return
      this.endSubscription(sub)
      if (sub.sent) this.connection?.send(`{"type":"unsubscribe","id":${id}}`)
      sub.sink.stopped()
    }
    sub.sink = makeSink(unsubscribe)
    const handle: Subscription = {
      unsubscribe,
      get state() {
        return sub.state
      },
      get lastEventId() {
        return sub.lastEventId
      },
    }
    const fail = (error: RpcError) => {
      sub.state = 'ended'
      queueMicrotask(() => sub.sink.error(error))
      return handle
    }
    if (this.state === 'closed') return fail(this.terminalError ?? new RpcError('CANCELLED', 'The client is closed'))
    if (signal?.aborted) {
      sub.state = 'ended'
      sub.sink.stopped()
      return handle
    }
    try {
      sub.input = input === undefined ? undefined : this.serializer.serialize(input)
    } catch (cause) {
      return fail(new RpcError('BAD_REQUEST', 'The input could not be serialized', { cause }))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    this.subscriptions.set(id, sub)
    if (this.connection?.isOpen) this.transmitSubscription(sub)
    else this.connect()
    return handle
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
    const closedError = new RpcError('CANCELLED', 'The client was closed')
    this.table.rejectAll(closedError)
    this.endAllSubscriptions(closedError)
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
          for (const sub of this.subscriptions.values()) if (!sub.sent) this.transmitSubscription(sub)
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
      this.endAllSubscriptions(error)
      return
    }
    this.connection = connection
  }

  private dropped(code: number, reason: string): void {
    this.connection = undefined
    const error = closeError(code, reason)
    if (closeMeaning(code).terminal) {
      this.terminalError = error
      this.setState('closed')
    } else {
      this.setState('idle')
    }
    this.table.rejectAll(error)
    this.endAllSubscriptions(error)
    // Last, so a listener sees the settled state and may call connect() or make new calls.
    this.events.emit('close', { code, reason })
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
        let data: unknown
        try {
          data = decode(this.serializer, message.data, message.meta)
        } catch {
          data = undefined
        }
        const code = isRpcErrorCode(message.code) ? message.code : 'INTERNAL'
        const error = new RpcError(code, message.message, { data })
        const call = this.table.take(message.id)
        if (call !== undefined) return call.reject(error)
        const sub = this.subscriptions.get(message.id)
        if (sub === undefined) return
        this.endSubscription(sub)
        return sub.sink.error(error)
      }
      case 'started': {
        const sub = this.subscriptions.get(message.id)
        if (sub === undefined || sub.state !== 'pending') return
        sub.state = 'started'
        // The position the server's stream started from: resuming from it misses nothing even before the first event.
        if (message.eventId !== undefined) sub.lastEventId = message.eventId
        return sub.sink.started()
      }
      case 'data': {
        const sub = this.subscriptions.get(message.id)
        if (sub === undefined) return // unsubscribed: a late event is dropped
        let value: unknown
        try {
          value = decode(this.serializer, message.data, message.meta)
        } catch (cause) {
          this.endSubscription(sub)
          this.connection?.send(`{"type":"unsubscribe","id":${sub.id}}`)
          return sub.sink.error(new RpcError('INTERNAL', 'An event could not be deserialized', { cause }))
        }
        if (message.eventId !== undefined) sub.lastEventId = message.eventId
        return sub.sink.data(value)
      }
      case 'resync': {
        return this.subscriptions.get(message.id)?.sink.resync()
      }
      case 'complete': {
        const sub = this.subscriptions.get(message.id)
        if (sub === undefined) return
        this.endSubscription(sub)
        return sub.sink.complete()
      }
      default:
        // Pongs need no answer. (Unknown message types never get here: the frame parser refuses them with 4400.)
        return
    }
  }

  private transmitSubscription(sub: ActiveSubscription): void {
    const message: Record<string, unknown> = { type: 'subscribe', id: sub.id, path: sub.path }
    if (sub.input !== undefined) {
      message.input = sub.input.json
      if (sub.input.meta !== undefined) message.meta = sub.input.meta
    }
    if (sub.lastEventId !== undefined) message.lastEventId = sub.lastEventId
    sub.sent = true
    this.connection!.send(JSON.stringify(message))
  }

  /** Removes a subscription; its sink gets no more callbacks from the wire. */
  private endSubscription(sub: ActiveSubscription): void {
    sub.state = 'ended'
    sub.dispose()
    if (this.subscriptions.get(sub.id) === sub) this.subscriptions.delete(sub.id)
  }

  private endAllSubscriptions(error: RpcError): void {
    const subs = [...this.subscriptions.values()]
    for (const sub of subs) {
      this.endSubscription(sub)
      sub.sink.error(error)
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

/** A subscription as the runtime tracks it. */
interface ActiveSubscription {
  readonly id: number
  readonly path: string
  /** The input, serialized once, re-sent on every (re)subscribe. */
  input: EncodedPayload | undefined
  lastEventId: string | undefined
  /** Whether the subscribe message went out on the current socket. */
  sent: boolean
  state: SubscriptionState
  sink: SubscriptionSink
  dispose(): void
}

function decode(serializer: Serializer, json: unknown, meta: unknown): unknown {
  if (json === undefined && meta === undefined) return undefined
  return serializer.deserialize(meta === undefined ? { json } : { json, meta })
}

/** Longest delay `setTimeout` honours; longer ones (and Infinity) would fire at once. About 24.8 days. */
const MAX_TIMER_MS = 2_147_483_647

/** `Infinity` means "as long as a timer can wait"; negative and NaN mean "at once". */
function clampTimeout(ms: number): number {
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms >= 0 ? ms : 0
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
