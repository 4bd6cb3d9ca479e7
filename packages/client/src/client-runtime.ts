import {
  CloseCode,
  MAX_IDEMPOTENCY_KEY_LENGTH,
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
import { Connection, type ConnectionHandlers, type ConnectionTimeouts } from './connection'
import { Emitter } from './emitter'
import { watchEnvironment } from './environment'
import { newIdempotencyKey } from './idempotency-key'
import {
  clientDefaults,
  type ConnectionState,
  type MutationOptions,
  type OfflineQueueOptions,
  type RpcClientOptions,
} from './options'
import { Reconnector, definedOnly, reconnectOptions, type ReconnectAttempt } from './reconnector'
import { PendingCall, RequestTable, utf8Length } from './request-table'
import { clampDelay, unref } from './timers'
import { type SubscribeOptions, type Subscription, type SubscriptionSink, type SubscriptionState } from './subscription'
import type { WebSocketConstructor } from './websocket'

/** Events of `api.$connection.on(...)`. */
export interface ConnectionEvents {
  /** The connection state changed. */
  state: (state: ConnectionState) => void
  /** A socket closed; `code` is the WebSocket close code (1006 when the network dropped). */
  close: (info: { code: number; reason: string }) => void
  /** A reconnect attempt is scheduled, `delayMs` from now. */
  reconnect: (info: ReconnectAttempt) => void
  /** A live subscription was sent again on a new connection, resuming after `lastEventId`. */
  resubscribe: (info: { path: string; lastEventId: string | undefined }) => void
  /** The server could not resume a subscription: its handler's `onResync` (or the iterator's resync signal) follows. */
  resync: (info: { path: string }) => void
  /** The server answered a keep-alive ping. */
  pong: (info: { rttMs: number }) => void
  /** The server announced a restart: the client reconnects `delayMs` after the socket closes. */
  restart: (info: { delayMs: number }) => void
}

/**
 * Orchestrates one client: owns the connection state, the table of calls in
 * flight (and waiting), the live subscriptions, and when to reconnect.
 *
 * States: `idle` (no socket) -> `connecting` -> `open`. When an open socket
 * drops, or an attempt fails, the client is `reconnecting` until the next
 * `ack`, and restores everything on it: subscriptions are sent again with
 * their `lastEventId`, queries and idempotent mutations are re-sent, calls
 * made meanwhile go out. It ends `closed` on `close()`, on a terminal close
 * code (auth refused, protocol error), or when it gives up retrying.
 */
export class ClientRuntime {
  state: ConnectionState = 'idle'
  readonly events = new Emitter<ConnectionEvents>()
  /** Round-trip time of the last keep-alive ping. */
  rttMs: number | undefined
  /** Why the client is `closed`. */
  error: RpcError | undefined
  private readonly table = new RequestTable()
  /** Live subscriptions by id; ids are shared with calls. */
  private readonly subscriptions = new Map<number, ActiveSubscription>()
  private readonly serializer: Serializer
  private readonly timeoutMs: number
  private readonly reconnector: Reconnector
  private readonly timeouts: ConnectionTimeouts
  private readonly queueBounds: Required<OfflineQueueOptions>
  /** Above this many bytes in the socket's buffer, calls wait in the queue instead of being written. */
  private readonly highWaterMark: number
  private drainTimer: ReturnType<typeof setTimeout> | undefined
  /** The one timer for every call on the default timeout; armed for the earliest deadline. */
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined
  /** Lazy clients only: how long an unused connection stays open. */
  private readonly idleTimeoutMs: number | undefined
  private connection: Connection | undefined
  /** Bumped per connect attempt, so a stale async step cannot act on a newer one. */
  private attempt = 0
  private nextId = 1
  /** The call or subscription written last: the one a 1009 (message too big) close is blamed on. */
  private lastSentId: number | undefined
  /** Params given to `updateParams`, used for later connects when `connectionParams` is not a function. */
  private paramsOverride: Record<string, unknown> | undefined
  /** Params given to `updateParams` while not connected: the next connect sends them, whatever the option is. */
  private pendingParams: Record<string, unknown> | undefined
  private idleTimer: ReturnType<typeof setTimeout> | undefined
  private lastActivity = 0
  private stopWatching: (() => void) | undefined

  constructor(private readonly options: RpcClientOptions) {
    this.serializer = options.serializer ?? defaultSerializer
    this.timeoutMs = options.timeoutMs ?? clientDefaults.timeoutMs
    this.reconnector = new Reconnector(reconnectOptions(options.reconnect, clientDefaults.reconnect))
    this.timeouts = {
      connectTimeoutMs: options.connectTimeoutMs ?? clientDefaults.connectTimeoutMs,
      keepAlive: options.keepAlive === false ? undefined : { ...clientDefaults.keepAlive, ...definedOnly(options.keepAlive) },
    }
    this.queueBounds = { ...clientDefaults.offlineQueue, ...definedOnly(options.offlineQueue) }
    this.highWaterMark = options.backpressure?.highWaterMark ?? clientDefaults.backpressure.highWaterMark
    const lazy = options.lazy ?? clientDefaults.lazy
    if (lazy !== false) this.idleTimeoutMs = (lazy === true ? undefined : lazy.idleTimeoutMs) ?? clientDefaults.idleTimeoutMs
    this.stopWatching = watchEnvironment({
      online: () => {
        if (this.state === 'reconnecting') this.reconnector.now()
      },
      offline: () => this.connection?.probe(),
      visible: () => {
        if (this.state === 'reconnecting') this.reconnector.now()
        else this.connection?.probe()
      },
    })
    if (lazy === false) this.connect()
  }

  /** Bytes written to the socket but not yet sent, plus those of calls waiting in the queue. */
  get bufferedAmount(): number {
    return (this.connection?.bufferedAmount ?? 0) + this.table.queuedBytes
  }

  /** Sends a query or mutation; settles exactly once with the answer, or an `RpcError`. */
  call(method: CallMethod, path: string, input: unknown, options: MutationOptions | undefined): Promise<unknown> {
    if (this.state === 'closed') return Promise.reject(this.closedError())
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(abortError(signal))
    const id = this.nextId++
    const idempotencyKey =
      method === 'mutation' ? (options?.idempotencyKey ?? (options?.idempotent === true ? newIdempotencyKey() : undefined)) : undefined
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      // The server would refuse the whole frame (4400) and end the connection; only this call is wrong.
      return Promise.reject(new RpcError('BAD_REQUEST', `An idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long`))
    }
    let frame: string
    try {
      const head: Record<string, unknown> = { type: 'call', id, method, path }
      if (idempotencyKey !== undefined) head.idempotencyKey = idempotencyKey
      frame = this.encodeWithPayload(head, 'input', input)
    } catch (cause) {
      return Promise.reject(new RpcError('BAD_REQUEST', 'The input could not be serialized', { cause }))
    }
    const retry = method === 'query' || idempotencyKey !== undefined
    return this.request(id, frame, retry, path, options)
  }

  /** Sends new connection params over the open socket; see `ConnectionHandle.updateParams`. */
  async updateParams(params: Record<string, unknown> | undefined): Promise<void> {
    if (this.state === 'closed') throw this.closedError()
    if (this.connection?.isOpen !== true) {
      // Not connected: the next `init` carries them (without an argument, it evaluates the option anyway).
      if (params !== undefined) this.paramsOverride = params
      this.pendingParams = params
      return
    }
    const next = params ?? (await resolveParams(this.options.connectionParams))
    const id = this.nextId++
    let frame: string
    try {
      frame = this.encodeWithPayload({ type: 'reinit', id }, 'params', next)
    } catch (cause) {
      throw new RpcError('BAD_REQUEST', 'The connection params could not be serialized', { cause })
    }
    await this.request(id, frame, false, undefined, undefined)
    // Kept for later connects only once the server took them: refused params must not end the next connect.
    if (params !== undefined) this.paramsOverride = params
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
      resubscribing: false,
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
    if (this.state === 'closed') return fail(this.closedError())
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
    this.lastActivity = Date.now()
    if (this.connection?.isOpen) this.transmitSubscription(sub)
    else this.connect()
    return handle
  }

  /** Opens the connection if there is none (and none is being restored). */
  connect(): void {
    if (this.state === 'idle') void this.open()
  }

  /** Closes for good: rejects every pending call with `CANCELLED`, closes the socket with 1000. */
  async close(): Promise<void> {
    const connection = this.connection
    if (this.state !== 'closed') this.terminate(new RpcError('CANCELLED', 'The client was closed'))
    this.connection = undefined
    await connection?.close(1000, 'client closed')
    this.events.clear()
  }

  /**
   * Registers a call and sends it now, or queues it for the next connection.
   * Its timeout runs from now, whatever happens to connections meanwhile.
   */
  private request(id: number, frame: string, retry: boolean, path: string | undefined, options: MutationOptions | undefined): Promise<unknown> {
    // Written at once only when nothing is queued ahead of it and the socket is keeping up.
    const direct = this.connection?.isOpen === true && this.table.queuedCalls === 0 && this.connection.bufferedAmount <= this.highWaterMark
    const bytes = direct ? undefined : utf8Length(frame)
    if (bytes !== undefined) {
      const { queuedCalls, queuedBytes } = this.table
      const { maxCalls, maxBytes } = this.queueBounds
      if (queuedCalls >= maxCalls || queuedBytes + bytes > maxBytes) {
        return Promise.reject(
          new RpcError('OVERLOADED', `${queuedCalls} calls (${queuedBytes} bytes) are already waiting to be sent`, {
            data: { maxCalls, maxBytes },
          }),
        )
      }
    }
    const timeoutMs = clampDelay(options?.timeoutMs ?? this.timeoutMs)
    let call!: PendingCall
    const promise = new Promise<unknown>((resolve, reject) => {
      call = new PendingCall(id, frame, retry, path, timeoutMs, resolve, reject)
    })
    call.bytes = bytes
    if (timeoutMs === this.timeoutMs) {
      call.deadline = performance.now() + timeoutMs
      if (this.deadlineTimer === undefined) this.armDeadlines(timeoutMs)
    } else {
      call.timer = setTimeout(() => this.abandon(id, timeoutError(call)), timeoutMs)
      unref(call.timer)
    }
    const signal = options?.signal
    if (signal !== undefined) {
      call.signal = signal
      call.onAbort = () => this.abandon(id, abortError(signal))
      signal.addEventListener('abort', call.onAbort, { once: true })
    }
    this.table.add(call)
    this.lastActivity = Date.now()
    if (direct) this.transmit(call)
    else if (this.connection?.isOpen === true) this.drainSoon()
    else this.connect()
    return promise
  }

  /** Arms the shared call timer to fire in `delayMs`. */
  private armDeadlines(delayMs: number): void {
    this.deadlineTimer = setTimeout(() => this.expireCalls(), Math.max(0, delayMs))
    unref(this.deadlineTimer)
  }

  /** The shared timer fired: times out every call past its deadline, then waits for the next one. */
  private expireCalls(): void {
    this.deadlineTimer = undefined
    const now = performance.now()
    const { calls, next } = this.table.expired(now)
    for (const call of calls) this.abandon(call.id, timeoutError(call))
    if (next !== undefined && this.deadlineTimer === undefined) this.armDeadlines(next - now)
  }

  private async open(): Promise<void> {
    const attempt = ++this.attempt
    // A first connect is `connecting`; a retry stays `reconnecting` until it succeeds.
    if (this.state === 'idle') this.setState('connecting')
    let url: string
    let params: Record<string, unknown> | undefined
    try {
      ;[url, params] = await Promise.all([resolveUrl(this.options.url), this.currentParams()])
    } catch (cause) {
      if (attempt !== this.attempt) return
      const error = RpcError.from(cause, 'CONNECTION_LOST')
      // The app saying "not allowed" means it; anything else (a token endpoint that is down) is worth retrying.
      if (error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN') return this.terminate(error)
      return this.retryLater(error)
    }
    if (attempt !== this.attempt) return
    const handlers: ConnectionHandlers = {
      ready: () => {
        if (attempt === this.attempt) this.opened()
      },
      message: (message) => {
        if (attempt === this.attempt) this.receive(message)
      },
      closed: (code, reason) => {
        if (attempt === this.attempt) this.dropped(code, reason)
      },
      pong: (rttMs) => {
        if (attempt !== this.attempt) return
        this.rttMs = rttMs
        this.events.emit('pong', { rttMs })
      },
    }
    try {
      const init = this.encodeWithPayload({ type: 'init' }, 'params', params)
      this.connection = new Connection(this.webSocketConstructor(), url, init, handlers, this.timeouts)
    } catch (cause) {
      // No WebSocket, a malformed URL, params that cannot be serialized: retrying would fail the same way.
      this.terminate(RpcError.from(cause, 'CONNECTION_LOST'))
    }
  }

  /** The server acknowledged: restore subscriptions, flush the queue, then tell listeners. */
  private opened(): void {
    this.reconnector.connected()
    const resubscribed: ActiveSubscription[] = []
    for (const sub of this.subscriptions.values()) {
      if (sub.sent) continue
      if (sub.resubscribing) resubscribed.push(sub)
      sub.resubscribing = false
      this.transmitSubscription(sub)
    }
    this.flushQueue()
    this.setState('open')
    for (const sub of resubscribed) this.events.emit('resubscribe', { path: sub.path, lastEventId: sub.lastEventId })
    this.armIdle()
  }

  /**
   * The socket is gone. A terminal code ends the client; otherwise calls
   * that may have run reject, the rest wait, and a reconnect is scheduled.
   */
  private dropped(code: number, reason: string): void {
    this.connection = undefined
    this.clearIdle()
    this.reconnector.disconnected()
    const error = closeError(code, reason)
    if (closeMeaning(code).terminal) {
      this.terminate(error)
    } else {
      if (code === CloseCode.MessageTooBig) this.failOversized(error)
      const lost = this.table.connectionLost()
      if (lost.length > 0) {
        const unknown = new RpcError('CONNECTION_LOST', `${error.message}; the mutation may or may not have run`, { data: error.data })
        for (const call of lost) call.reject(unknown)
      }
      for (const sub of this.subscriptions.values()) {
        if (sub.sent) sub.resubscribing = true
        sub.sent = false
        if (sub.state === 'started') sub.state = 'pending'
      }
      // A lazy client with nothing to restore waits for its next use instead of dialling.
      if (this.idleTimeoutMs !== undefined && this.table.size === 0 && this.subscriptions.size === 0) this.setState('idle')
      else this.retryLater(error)
    }
    // Last, so a listener sees the settled state.
    this.events.emit('close', { code, reason })
  }

  /** Schedules the next attempt, or gives up (reconnect off, retries exhausted) and ends the client. */
  private retryLater(error: RpcError): void {
    const scheduled = this.reconnector.schedule(() => void this.open(), this.table.size > 0 || this.subscriptions.size > 0)
    if (scheduled === undefined) {
      const giveUp = this.options.reconnect === false ? error : new RpcError('CONNECTION_LOST', `gave up reconnecting: ${error.message}`, { data: error.data })
      return this.terminate(giveUp)
    }
    this.setState('reconnecting')
    this.events.emit('reconnect', scheduled)
  }

  /** Ends the client for good with `error`: everything waiting rejects with it. */
  private terminate(error: RpcError): void {
    this.error = error
    this.attempt++
    this.connection = undefined
    clearTimeout(this.drainTimer)
    clearTimeout(this.deadlineTimer)
    this.drainTimer = this.deadlineTimer = undefined
    this.reconnector.cancel()
    this.clearIdle()
    this.stopWatching?.()
    this.stopWatching = undefined
    this.setState('closed')
    this.table.rejectAll(error)
    this.endAllSubscriptions(error)
  }

  /** A 1009 close: the frame written last was too big for the server. Only its caller hears about it. */
  private failOversized(error: RpcError): void {
    const id = this.lastSentId
    if (id === undefined) return
    const call = this.table.take(id)
    if (call !== undefined) return call.reject(error)
    const sub = this.subscriptions.get(id)
    if (sub === undefined) return
    this.endSubscription(sub)
    sub.sink.error(error)
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'result': {
        const call = this.table.take(message.id)
        if (call === undefined) return // cancelled or timed out: a late answer is dropped
        this.lastActivity = Date.now()
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
        if (call !== undefined) {
          this.lastActivity = Date.now()
          return call.reject(error)
        }
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
        const sub = this.subscriptions.get(message.id)
        if (sub === undefined) return
        this.events.emit('resync', { path: sub.path })
        return sub.sink.resync()
      }
      case 'complete': {
        const sub = this.subscriptions.get(message.id)
        if (sub === undefined) return
        this.endSubscription(sub)
        return sub.sink.complete()
      }
      case 'restart': {
        this.reconnector.announced(message.delayMs)
        return this.events.emit('restart', { delayMs: message.delayMs })
      }
      default:
        // Pings and pongs are answered by the connection. (Unknown message types never get here: the frame parser refuses them with 4400.)
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
    this.lastSentId = sub.id
    this.connection!.send(JSON.stringify(message))
  }

  /** Removes a subscription; its sink gets no more callbacks from the wire. */
  private endSubscription(sub: ActiveSubscription): void {
    sub.state = 'ended'
    sub.dispose()
    if (this.subscriptions.get(sub.id) === sub) this.subscriptions.delete(sub.id)
    this.lastActivity = Date.now()
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
    // A call the server announced it would refuse is refused here: sent, it would close the connection with 1009
    // and cost every other call on it a reconnect.
    const maxPayload = this.connection!.maxPayload
    if (maxPayload !== undefined && call.frame.length * 3 > maxPayload && utf8Length(call.frame) > maxPayload) {
      this.table.take(call.id)
      return call.reject(new RpcError('PAYLOAD_TOO_LARGE', `The call is larger than the server's maxPayload (${maxPayload} bytes)`, { data: { maxPayload } }))
    }
    this.table.markSent(call)
    this.lastSentId = call.id
    this.connection!.send(call.frame)
  }

  /** Lazy clients: closes the connection once nothing has used it for `idleTimeoutMs`. */
  private armIdle(): void {
    const idleMs = this.idleTimeoutMs
    if (idleMs === undefined || !Number.isFinite(idleMs) || this.idleTimer !== undefined) return
    const check = () => {
      this.idleTimer = undefined
      if (this.state !== 'open') return
      const quietMs = Date.now() - this.lastActivity
      const busy = this.table.size > 0 || this.subscriptions.size > 0
      if (busy || quietMs < idleMs) {
        this.idleTimer = setTimeout(check, busy ? idleMs : idleMs - quietMs)
        unref(this.idleTimer)
        return
      }
      const connection = this.connection
      this.attempt++
      this.connection = undefined
      this.reconnector.cancel()
      this.setState('idle')
      void connection?.close(1000, 'idle')
    }
    this.idleTimer = setTimeout(check, idleMs)
    unref(this.idleTimer)
  }

  /**
   * Writes queued calls, oldest first, while the socket keeps up; what is
   * left waits for the buffer to drain. WHATWG sockets have no drain event,
   * so a short timer looks again.
   */
  private flushQueue(): void {
    const connection = this.connection
    if (connection?.isOpen !== true) return
    for (const call of this.table.unsent()) {
      if (connection.bufferedAmount > this.highWaterMark) return this.drainSoon()
      this.transmit(call)
    }
  }

  private drainSoon(): void {
    if (this.drainTimer !== undefined) return
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined
      this.flushQueue()
    }, 10)
    unref(this.drainTimer)
  }

  private clearIdle(): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
  }

  private closedError(): RpcError {
    return this.error ?? new RpcError('CANCELLED', 'The client is closed')
  }

  /** `connectionParams` for the next `init`: what `updateParams` gave while disconnected; else a function is asked again; else what `updateParams` set, else the option. */
  private async currentParams(): Promise<Record<string, unknown> | undefined> {
    const pending = this.pendingParams
    if (pending !== undefined) {
      this.pendingParams = undefined
      return pending
    }
    const option = this.options.connectionParams
    if (typeof option === 'function') return option()
    return this.paramsOverride ?? option
  }

  /** Encodes a message whose `key` field carries a payload through the serializer. */
  private encodeWithPayload(head: Record<string, unknown>, key: 'input' | 'params', value: unknown): string {
    if (value === undefined) return JSON.stringify(head)
    const { json, meta } = this.serializer.serialize(value)
    head[key] = json
    if (meta !== undefined) head.meta = meta
    return JSON.stringify(head)
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
  /** It went out on an earlier socket that dropped: the next send is a resubscribe. */
  resubscribing: boolean
  state: SubscriptionState
  sink: SubscriptionSink
  dispose(): void
}

function decode(serializer: Serializer, json: unknown, meta: unknown): unknown {
  if (json === undefined && meta === undefined) return undefined
  return serializer.deserialize(meta === undefined ? { json } : { json, meta })
}

function timeoutError(call: PendingCall): RpcError {
  const what = call.path === undefined ? 'updateParams' : `"${call.path}"`
  return new RpcError('TIMEOUT', `${what} timed out after ${call.timeoutMs} ms`)
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
