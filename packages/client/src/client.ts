import {
  ABNORMAL_CLOSURE,
  NORMAL_CLOSURE,
  MESSAGE_TOO_BIG,
  RpcError,
  assertNever,
  closeError,
  closeMeaning,
  decodeError,
  defaultSerializer,
  errorFields,
  initFrame,
  stampFrame,
  type AnnouncedLimits,
  type CallMethod,
  type Serializer,
  type ServerMessage,
} from '@wirecall/core'
import { Calls, type ClientLink } from './calls'
import { Connection, webSocketConstructor, type ConnectionHandlers, type ConnectionTimeouts } from './connection'
import { Emitter } from './emitter'
import { watchEnvironment } from './environment'
import { teller, wrapCall, type Tell } from './hooks'
import { IdleClose, type IdleClient } from './idle'
import { clientDefaults, type ConnectionState, type MutationOptions, type RpcClientOptions } from './options'
import { ConnectionParams } from './params'
import { Reconnector, definedOnly, reconnectOptions } from './reconnector'
import { OutgoingStreams } from './outgoing-streams'
import type { HandlerRuns } from './peer-handlers'
import { Subscriptions, type ClientSubscription } from './subscriptions'
import type { ConnectionEvents } from './types'

/**
 * One client: the orchestrator. It owns the connection state and decides
 * when to connect and reconnect; everything else is delegated — calls to
 * {@link Calls} (and their request table), subscriptions to
 * {@link Subscriptions}, the socket to {@link Connection}, the backoff to
 * the {@link Reconnector}, the lazy idle close to {@link IdleClose}, the
 * `init` params to {@link ConnectionParams}. What the server sends is
 * routed, never handled, here.
 *
 * States: `idle` (no socket) -> `connecting` -> `open`. When an open socket
 * drops, or an attempt fails, the client is `reconnecting` until the next
 * `ack`, and restores everything on it: subscriptions are sent again with
 * their `lastEventId`, queries and idempotent mutations are re-sent, calls
 * made meanwhile go out. It ends `closed` on `close()`, on a terminal close
 * code (auth refused, protocol error), or when it gives up retrying.
 */
export class Client implements ClientLink, IdleClient {
  // Fields with no initializer are `declare`d, here and across the client: a class field would only define
  // `undefined` before the constructor runs, in bytes every browser app downloads (tests/browser/budget.ts).
  state: ConnectionState = 'idle'
  readonly events = new Emitter<ConnectionEvents>()
  /** Round-trip time of the last keep-alive ping. */
  declare rttMs: number | undefined
  /** Why the client is `closed`. */
  declare error: RpcError | undefined
  declare readonly serializer: Serializer
  declare readonly calls: Calls
  declare readonly subscriptions: Subscriptions
  /** Client streams going out (stream inputs). */
  declare readonly streams: OutgoingStreams
  /** The server's calls to this client's procedures; `undefined` without `handlers`. */
  private declare readonly peerCalls: HandlerRuns | undefined
  private declare readonly reconnector: Reconnector
  private declare readonly timeouts: ConnectionTimeouts
  private declare readonly params: ConnectionParams
  /** Lazy clients only. */
  private declare readonly idle: IdleClose | undefined
  private declare connection: Connection | undefined
  /** Bumped per connect attempt, so a stale async step cannot act on a newer one. */
  private attempt = 0
  private lastId = 0
  declare idempotentPaths: ReadonlySet<string> | undefined
  declare limits: AnnouncedLimits | undefined
  /** The URL of the current (or last) socket, for the instrumentation's `server.address`. */
  declare url: string | undefined
  /** Tells the app's instrumentation; `undefined` when it has none, the one thing checked then. */
  declare readonly tell: Tell | undefined
  private declare stopWatching: (() => void) | undefined

  constructor(private readonly options: RpcClientOptions) {
    this.serializer = options.serializer ?? defaultSerializer
    this.tell = teller(options.instrumentation)
    if (typeof options.url === 'string') this.url = options.url
    this.calls = new Calls(this, {
      timeoutMs: options.timeoutMs ?? clientDefaults.timeoutMs,
      queue: { ...clientDefaults.offlineQueue, ...definedOnly(options.offlineQueue) },
      highWaterMark: options.backpressure?.highWaterMark ?? clientDefaults.backpressure.highWaterMark,
    })
    this.subscriptions = new Subscriptions(this)
    this.streams = new OutgoingStreams(this.serializer, options.backpressure?.highWaterMark ?? clientDefaults.backpressure.highWaterMark)
    this.peerCalls = options.handlers?.serve(this.serializer)
    this.reconnector = new Reconnector(reconnectOptions(options.reconnect, clientDefaults.reconnect))
    this.timeouts = {
      connectTimeoutMs: options.connectTimeoutMs ?? clientDefaults.connectTimeoutMs,
      keepAlive: options.keepAlive === false ? undefined : { ...clientDefaults.keepAlive, ...definedOnly(options.keepAlive) },
    }
    this.params = new ConnectionParams(options.connectionParams)
    const lazy = options.lazy ?? clientDefaults.lazy
    if (lazy !== false) this.idle = new IdleClose((lazy === true ? undefined : lazy.idleTimeoutMs) ?? clientDefaults.idleTimeoutMs, this)
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
    return (this.connection?.bufferedAmount ?? 0) + this.calls.queuedBytes
  }

  get busy(): boolean {
    return this.calls.size > 0 || this.subscriptions.size > 0
  }

  openConnection(): Connection | undefined {
    return this.connection?.isOpen === true ? this.connection : undefined
  }

  nextId(): number {
    return ++this.lastId
  }

  touch(): void {
    this.idle?.touch()
  }

  /**
   * Sends a query or mutation (or a `reinit`: see `Calls.call`), inside the
   * instrumentation's `onCall`s if there are any; settles exactly once with
   * the answer, or an `RpcError`.
   */
  call(method: CallMethod | 'reinit', path: string | undefined, input: unknown, options: MutationOptions | undefined): Promise<unknown> {
    if (this.state === 'closed') return Promise.reject(this.closedError())
    return this.tell
      ? wrapCall(this.options.instrumentation!, { method, path, input, url: this.url }, (trace) => this.calls.call(method, path, input, options, trace))
      : this.calls.call(method, path, input, options)
  }

  /** Starts a subscription, in the handler form or the iterator form (see `Subscriptions.subscribe`). */
  subscribe(path: string, input: unknown, second: unknown): ClientSubscription {
    return this.subscriptions.subscribe(path, input, second, this.state === 'closed' ? this.closedError() : undefined)
  }

  /** Sends new connection params over the open socket; see `ConnectionHandle.updateParams`. */
  async updateParams(params: Record<string, unknown> | undefined): Promise<void> {
    if (this.state === 'closed') throw this.closedError()
    if (this.connection?.isOpen !== true) return this.params.keepForNextConnect(params)
    // Given params go out in this task, in one frame with the calls made beside them.
    await this.call('reinit', undefined, params ?? (await this.params.evaluate()), undefined)
    this.params.accepted(params)
  }

  /** Opens the connection if there is none (and none is being restored). */
  connect(): void {
    if (this.state === 'idle') void this.open()
  }

  /** Closes for good: rejects every pending call with `CANCELLED`, closes the socket with 1000. */
  async close(): Promise<void> {
    const connection = this.connection
    if (this.state !== 'closed') this.end(new RpcError('CANCELLED', 'The client was closed'))
    this.connection = undefined
    await connection?.close(NORMAL_CLOSURE, 'client closed')
    this.events.clear()
  }

  /** Lazy clients: nothing used the connection for `idleTimeoutMs`. */
  closeIdle(): void {
    const connection = this.connection
    this.attempt++
    this.connection = undefined
    this.reconnector.cancel()
    this.setState('idle')
    void connection?.close(NORMAL_CLOSURE, 'idle')
  }

  private async open(): Promise<void> {
    const attempt = ++this.attempt
    // A first connect is `connecting`; a retry stays `reconnecting` until it succeeds.
    if (this.state === 'idle') this.setState('connecting')
    let url: string
    let params: Record<string, unknown> | undefined
    try {
      ;[url, params] = await Promise.all([resolveUrl(this.options.url), this.params.next()])
    } catch (cause) {
      if (attempt !== this.attempt) return
      const error = RpcError.from(cause, 'CONNECTION_LOST')
      // The app saying "not allowed" means it; anything else (a token endpoint that is down) is worth retrying.
      if (error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN') return this.end(error)
      return this.retryLater(error)
    }
    if (attempt !== this.attempt) return
    this.url = url
    const handlers: ConnectionHandlers = {
      ready: () => {
        if (attempt === this.attempt) this.opened()
      },
      message: (message) => {
        if (attempt === this.attempt) this.receive(message)
      },
      closed: (code, reason, lastSentId) => {
        if (attempt === this.attempt) this.dropped(code, reason, lastSentId)
      },
      pong: (rttMs) => {
        if (attempt !== this.attempt) return
        this.rttMs = rttMs
        this.events.emit('pong', { rttMs })
        this.tell?.('onPong', { rttMs })
      },
    }
    try {
      this.connection = new Connection(webSocketConstructor(this.options.WebSocket), url, initFrame(this.serializer, params, this.options.handlers?.paths), handlers, this.timeouts)
    } catch (cause) {
      // No WebSocket, a malformed URL, params that cannot be serialized: retrying would fail the same way.
      this.end(RpcError.from(cause, 'CONNECTION_LOST'))
    }
  }

  /** The server acknowledged: restore subscriptions, flush the queue, then tell listeners. */
  private opened(): void {
    const connection = this.connection!
    this.idempotentPaths = connection.idempotent
    this.limits = connection.limits
    this.reconnector.connected()
    const resumed = this.subscriptions.resubscribe(connection)
    this.calls.flush()
    this.setState('open')
    for (const subscription of resumed) this.events.emit('resubscribe', { path: subscription.path, lastEventId: subscription.lastEventId })
    this.idle?.arm()
  }

  /**
   * The socket is gone. A terminal code ends the client; otherwise calls
   * that may have run reject, the rest wait, and a reconnect is scheduled.
   */
  private dropped(code: number, reason: string, lastSentId: number | undefined): void {
    this.connection = undefined
    this.idle?.clear()
    this.reconnector.disconnected()
    const error = closeError(code, reason)
    if (closeMeaning(code).terminal) {
      this.end(error)
    } else {
      // A 1009: the frame written last was too big for the server. Only its caller hears about it.
      if (code === MESSAGE_TOO_BIG && lastSentId !== undefined && !this.calls.reject(lastSentId, error)) {
        this.subscriptions.get(lastSentId)?.ended(error)
      }
      this.peerCalls?.abortAll()
      this.calls.connectionLost(error)
      this.subscriptions.connectionLost()
      // A lazy client with nothing to restore waits for its next use instead of dialling.
      if (this.idle !== undefined && !this.busy) this.setState('idle')
      else this.retryLater(error)
    }
    // Last, so a listener sees the settled state.
    this.events.emit('close', { code, reason })
  }

  /** Schedules the next attempt, or gives up (reconnect off, retries exhausted) and ends the client. */
  private retryLater(error: RpcError): void {
    const scheduled = this.reconnector.schedule(() => void this.open(), this.busy)
    if (scheduled === undefined) {
      const giveUp = this.options.reconnect === false ? error : new RpcError('CONNECTION_LOST', `gave up reconnecting: ${error.message}`, { data: error.data })
      return this.end(giveUp)
    }
    this.setState('reconnecting')
    this.events.emit('reconnect', scheduled)
    // An attempt that failed before it had a socket (its url or params) has no close code: 1006, as a WebSocket reports one that never connected.
    this.tell?.('onReconnect', { code: (error.data as { closeCode?: number } | undefined)?.closeCode ?? ABNORMAL_CLOSURE, ...scheduled, error })
  }

  /** Ends the client for good with `error`: everything waiting rejects with it. */
  private end(error: RpcError): void {
    this.error = error
    this.attempt++
    this.connection = undefined
    this.reconnector.cancel()
    this.idle?.clear()
    this.stopWatching?.()
    this.stopWatching = undefined
    this.setState('closed')
    this.calls.rejectAll(error)
    this.subscriptions.endAll(error)
    this.peerCalls?.abortAll()
  }

  /** Routes one message from the server to the call or subscription it is for. */
  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'result':
        return this.calls.resolve(message)
      case 'error': {
        const error = decodeError(this.serializer, message)
        if (!this.calls.reject(message.id, error)) this.subscriptions.get(message.id)?.ended(error)
        return
      }
      case 'started':
        return this.subscriptions.get(message.id)?.started(message)
      case 'data':
        return this.subscriptions.data(message)
      case 'resync': {
        const subscription = this.subscriptions.get(message.id)
        if (subscription === undefined) return
        this.events.emit('resync', { path: subscription.path })
        return subscription.resync(message.reason)
      }
      case 'complete':
        return this.subscriptions.get(message.id)?.ended(undefined)
      case 'call': {
        // A server call to a client procedure: answered on the connection it came on, never after a reconnect.
        const connection = this.connection
        const peerCalls = this.peerCalls
        if (peerCalls === undefined) return connection?.send(notImplementedFrame(message.id, message.path))
        return peerCalls.call(message, (frame) => {
          if (this.connection === connection) connection?.send(frame)
        })
      }
      case 'cancel':
        return this.peerCalls?.cancel(message.id)
      case 'credit':
        return this.streams.credit(message)
      case 'restart':
        this.reconnector.announced(message.delayMs)
        return this.events.emit('restart', { delayMs: message.delayMs })
      case 'ack':
      case 'ping':
      case 'pong':
        return // answered by the connection, which passes on nothing else before `ack`
      default:
        return assertNever(message)
    }
  }

  private closedError(): RpcError {
    return this.error ?? new RpcError('CANCELLED', 'The client is closed')
  }

  private setState(state: ConnectionState): void {
    const from = this.state
    if (from === state) return
    this.state = state
    this.tell?.('onStateChange', { from, to: state })
    this.events.emit('state', state)
  }
}

/** The answer to a server call when this client implements no client procedure. */
function notImplementedFrame(id: number, path: string): string {
  return stampFrame('error', id, errorFields(defaultSerializer, 'NOT_IMPLEMENTED', `This client does not implement "${path}"`, undefined))
}

async function resolveUrl(url: RpcClientOptions['url']): Promise<string> {
  return typeof url === 'function' ? url() : url
}
