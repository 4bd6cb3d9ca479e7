import {
  MAX_IDEMPOTENCY_KEY_LENGTH,
  RpcError,
  callFrame,
  cancelFrame,
  decodePayload,
  isStreamSource,
  reinitFrame,
  utf8Length,
  type AnnouncedLimits,
  type CallMethod,
  type ResultMessage,
  type Serializer,
  type TraceContext,
} from '@wirecall/core'
import type { Connection } from './connection'
import { streamRefusal, type OutgoingStreams } from './outgoing-streams'
import type { Tell } from './hooks'
import { newIdempotencyKey } from './idempotency-key'
import type { MutationOptions, OfflineQueueOptions } from './options'
import { RequestTable, abortError, type PendingCall } from './request-table'
import { unref } from './timers'

/** How often a backed-up socket is looked at again: WHATWG sockets have no drain event. */
const DRAIN_POLL_MS = 10

/** What calls and subscriptions need from the client that owns them. */
export interface ClientLink {
  readonly serializer: Serializer
  /** The connection, while it is open (past `ack`). */
  openConnection(): Connection | undefined
  /** There is work for a connection: open one if the client is idle. */
  connect(): void
  /** The next id; calls and subscriptions share one id space. */
  nextId(): number
  /** Something used the connection now: a lazy client's idle clock restarts. */
  touch(): void
  /** The mutations the last server to answer declared idempotent; `undefined` until one has. */
  readonly idempotentPaths: ReadonlySet<string> | undefined
  /** The limits the last server to answer announced; `undefined` until one has. */
  readonly limits: AnnouncedLimits | undefined
  /** Tells the app's instrumentation; `undefined` when it has none. */
  readonly tell: Tell | undefined
  /** The URL of the current (or last) socket. */
  readonly url: string | undefined
  /** Stream inputs going out, by the id of their call or subscription. */
  readonly streams: OutgoingStreams
}

/** How the client bounds what it has not written yet. */
export interface CallLimits {
  timeoutMs: number
  queue: Required<OfflineQueueOptions>
  /** Above this many bytes in the socket's buffer, calls wait in the queue instead of being written. */
  highWaterMark: number
}

/**
 * Queries, mutations and `reinit`s, from the moment they are made to the
 * moment they are written: encodes each, writes it at once when the
 * connection is open and keeping up, or queues it (bounded: `OVERLOADED`
 * past the bound) for the next connection or for the socket to drain.
 * Their clocks and their settling belong to the {@link RequestTable}.
 */
export class Calls {
  private declare readonly table: RequestTable
  private declare drainTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly link: ClientLink,
    private readonly limits: CallLimits,
  ) {
    this.table = new RequestTable(limits.timeoutMs, (call) => {
      this.link.openConnection()?.send(cancelFrame(call.id))
      // Its slot among the calls in flight frees once it has settled: a queued call may take it.
      if (this.table.queuedCalls > 0) this.drainSoon(0)
    })
  }

  /** Calls waiting for an answer, written or not. */
  get size(): number {
    return this.table.size
  }

  /** UTF-8 bytes of the calls waiting to be written. */
  get queuedBytes(): number {
    return this.table.queuedBytes
  }

  /**
   * Sends a query or mutation, or new connection params on the open
   * connection (`reinit`, no path), with the trace context the
   * instrumentation gave it, if any; settles exactly once with the answer
   * (once the server took the params), or an `RpcError`.
   */
  call(method: CallMethod | 'reinit', path: string | undefined, input: unknown, options: MutationOptions | undefined, trace?: TraceContext): Promise<unknown> {
    const signal = options?.signal
    if (signal?.aborted) return Promise.reject(abortError(signal))
    const id = this.link.nextId()
    if (method !== 'reinit' && isStreamSource(input)) return this.stream(id, method, path!, input, options, trace)
    const idempotent = method === 'mutation' ? this.idempotent(path!, options) : false
    const idempotencyKey = idempotent === true ? (options?.idempotencyKey ?? newIdempotencyKey()) : undefined
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      // The server would refuse the whole frame (4400) and end the connection; only this call is wrong.
      return Promise.reject(new RpcError('BAD_REQUEST', `An idempotencyKey must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long`))
    }
    let frame: string
    try {
      frame =
        method === 'reinit'
          ? reinitFrame(this.link.serializer, id, input, trace)
          : callFrame(this.link.serializer, { id, method, path: path!, idempotencyKey, trace }, input)
    } catch (cause) {
      return Promise.reject(new RpcError('BAD_REQUEST', `The ${method === 'reinit' ? 'connection params' : 'input'} could not be serialized`, { cause }))
    }
    const retry = method === 'query' || idempotencyKey !== undefined
    const promise = this.request(id, frame, retry, path, options)
    if (idempotent === undefined) {
      const call = this.table.get(id)
      if (call !== undefined && !call.sent) call.undecided = { input, trace }
    }
    return promise
  }

  /**
   * A call whose input is a stream: the call goes out with `stream: true`,
   * then its items as chunks as the server grants credit (see
   * {@link OutgoingStream}). Never re-sent on a new connection: a stream
   * cannot be replayed. Its `timeoutMs` bounds each wait for the server
   * (its credit, its answer after the last chunk), not the producer.
   */
  private stream(id: number, method: CallMethod, path: string, input: unknown, options: MutationOptions | undefined, trace: TraceContext | undefined): Promise<unknown> {
    if (options?.idempotencyKey !== undefined || options?.idempotent === true) {
      return Promise.reject(new RpcError('BAD_REQUEST', 'A stream input cannot be replayed: it cannot be idempotent'))
    }
    const stream = this.link.streams.open(id, input, {
      timeoutMs: options?.timeoutMs ?? this.limits.timeoutMs,
      fail: (error) => this.table.cancelCall(id, error),
    })
    const frame = callFrame(this.link.serializer, { id, method, path, trace, stream: true }, undefined)
    const promise = this.request(id, frame, false, path, { signal: options?.signal, timeoutMs: Infinity })
    const stop = () => stream.stop()
    promise.then(stop, stop)
    return promise
  }

  /**
   * Whether a mutation carries an idempotency key: the caller's choice
   * (`idempotencyKey`, `idempotent`), else the server's declaration.
   * `undefined`: no server has said yet, and the connection that writes the
   * call decides.
   */
  private idempotent(path: string, options: MutationOptions | undefined): boolean | undefined {
    if (options?.idempotencyKey !== undefined) return true
    if (options?.idempotent !== undefined) return options.idempotent
    return this.link.idempotentPaths?.has(path)
  }

  /** A `result` arrived: the call's answer. */
  resolve(message: ResultMessage): void {
    const call = this.table.get(message.id)
    if (call === undefined) return // cancelled or timed out: a late answer is dropped
    this.link.touch()
    let value: unknown
    try {
      value = decodePayload(this.link.serializer, message.data, message.meta)
    } catch (cause) {
      return this.table.settle(call, new RpcError('INTERNAL', 'The result could not be deserialized', { cause }))
    }
    this.table.settle(call, undefined, value)
    if (this.table.queuedCalls > 0) this.flush()
  }

  /**
   * Fails the call with this id: an `error` from the server, or a 1009
   * close blamed on it. False when no call has that id (it may be a
   * subscription's).
   */
  reject(id: number, error: RpcError): boolean {
    const call = this.table.get(id)
    if (call === undefined) return false
    this.link.touch()
    this.table.settle(call, error)
    if (this.table.queuedCalls > 0) this.flush()
    return true
  }

  /** The socket the written calls went out on is gone: those that may have run reject; the rest wait for the next connection. */
  connectionLost(error: RpcError): void {
    this.table.connectionLost(new RpcError('CONNECTION_LOST', `${error.message}; the mutation may or may not have run`, { data: error.data }))
  }

  /** The client is closed: every call rejects with `error`, and nothing is scheduled any more. */
  rejectAll(error: RpcError): void {
    clearTimeout(this.drainTimer)
    this.drainTimer = undefined
    this.table.rejectAll(error)
  }

  /**
   * Writes queued calls, oldest first, while the socket keeps up and the
   * server's announced limits allow; what is left waits. Past
   * `maxInFlightCalls`, an answer makes room (see {@link resolve}). Above
   * the message rate, or while the buffer drains, a timer looks again:
   * WHATWG sockets have no drain event.
   */
  flush(): void {
    const connection = this.link.openConnection()
    if (connection === undefined) return
    for (const call of this.table.unsent()) {
      const waitMs = this.waitMs(connection)
      if (waitMs !== undefined) {
        // Past maxInFlightCalls nothing is scheduled: the next answer flushes.
        if (waitMs !== Infinity) this.drainSoon(waitMs)
        return
      }
      this.transmit(connection, call)
    }
  }

  /**
   * When a call may be written on `connection`: now (`undefined`), or in
   * how many milliseconds to look again — the socket is backed up (a short
   * poll), the server's message rate is spent (until it refills), or
   * `Infinity` past its `maxInFlightCalls`, where an answer makes room.
   */
  private waitMs(connection: Connection): number | undefined {
    if (connection.bufferedAmount > this.limits.highWaterMark) return DRAIN_POLL_MS
    if (this.table.inFlight >= (connection.limits.maxInFlightCalls ?? Infinity)) return Infinity
    if (!connection.canSend()) return connection.sendWaitMs()
    return undefined
  }

  /**
   * Registers a call and writes it now, or queues it for the next
   * connection. Its timeout runs from now, whatever happens to connections
   * meanwhile.
   */
  private request(id: number, frame: string, retry: boolean, path: string | undefined, options: MutationOptions | undefined): Promise<unknown> {
    const connection = this.link.openConnection()
    // Written at once only when nothing is queued ahead of it and nothing blocks it.
    const direct = connection !== undefined && this.table.queuedCalls === 0 && this.waitMs(connection) === undefined
    const bytes = direct ? undefined : utf8Length(frame)
    if (bytes !== undefined) {
      const { queuedCalls, queuedBytes } = this.table
      const { maxCalls, maxBytes } = this.limits.queue
      if (queuedCalls >= maxCalls || queuedBytes + bytes > maxBytes) {
        return Promise.reject(
          new RpcError('OVERLOADED', `${queuedCalls} calls (${queuedBytes} bytes) are already waiting to be sent`, { data: { maxCalls, maxBytes } }),
        )
      }
    }
    const promise = this.table.add(id, frame, retry, path, options, bytes, direct)
    this.link.touch()
    if (direct) this.transmit(connection, this.table.get(id)!)
    else if (connection !== undefined) this.flush()
    else this.link.connect()
    return promise
  }

  private transmit(connection: Connection, call: PendingCall): void {
    // A call the server announced it would refuse is refused here: sent, it would close the connection with 1009
    // and cost every other call on it a reconnect.
    const maxPayload = connection.maxPayload
    if (maxPayload !== undefined && call.frame.length * 3 > maxPayload && utf8Length(call.frame) > maxPayload) {
      const error = new RpcError('PAYLOAD_TOO_LARGE', `The call is larger than the server's maxPayload (${maxPayload} bytes)`, { data: { maxPayload } })
      return this.table.settle(call, error)
    }
    const stream = this.link.streams.get(call.id)
    const refused = stream === undefined ? undefined : streamRefusal(connection)
    if (refused !== undefined) return this.table.settle(call, refused)
    this.table.markSent(call)
    if (call.undecided !== undefined) this.decide(connection, call, call.undecided)
    connection.send(call.frame, call.id)
    stream?.attach(connection)
  }

  /** A mutation made before any `ack`: the connection that writes it says whether the server declared it idempotent. */
  private decide(connection: Connection, call: PendingCall, { input, trace }: NonNullable<PendingCall['undecided']>): void {
    call.undecided = undefined
    if (call.path === undefined || !connection.idempotent.has(call.path)) return
    // Encoded before, so encodable now.
    call.frame = callFrame(this.link.serializer, { id: call.id, method: 'mutation', path: call.path, idempotencyKey: newIdempotencyKey(), trace }, input)
    call.bytes = undefined
    call.retry = true
  }

  private drainSoon(delayMs: number): void {
    if (this.drainTimer !== undefined) return
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined
      this.flush()
    }, delayMs)
    unref(this.drainTimer)
  }
}
