import type { IncomingMessage } from 'node:http'
import {
  CloseCode,
  FrameBatcher,
  LazyAbort,
  PROTOCOL,
  RpcError,
  callProcedure,
  getProcedure,
  checkPayload,
  isRpcError,
  parseClientFrame,
  truncateCloseReason,
  type AnyProcedure,
  type AnyRouter,
  type CallMessage,
  type ClientMessage,
  type InitMessage,
  type PayloadLimits,
  type ProcedureType,
  type ReinitMessage,
  type Serializer,
  type ServerMessage,
  type SubscribeMessage,
} from '@wirecall/core'
import type { BackpressureOptions, CreateContextOptions, ErrorHandlerOptions, RateLimitOptions } from './options'
import { FlowControl } from './flow-control'
import { TokenBucket } from './rate-limit'
import { flushAtTurnEnd } from './turn-end'
import { encodeFields, encodeWithData } from './encode'
import type { IdempotencyCache, Outcome } from './idempotency'
import type { RpcSocket } from './socket'
import { ServerSubscription, type SubscriptionHost } from './subscription'

/** Everything a connection needs from its server; shared by all connections. */
export interface ConnectionRuntime {
  router: AnyRouter
  serializer: Serializer
  createContext: ((opts: CreateContextOptions) => unknown) | undefined
  initTimeoutMs: number
  exposeInternalErrors: boolean
  maxBatchSize: number
  /** Largest frame accepted from the client, announced in `ack` so the client's batches stay under it. */
  maxPayload: number
  /** Outcomes of idempotent mutations, shared by every connection so a retry on a new one finds them. */
  idempotency: IdempotencyCache
  backpressure: Required<BackpressureOptions>
  maxInFlightCalls: number
  maxSubscriptions: number
  /** `undefined`: no rate limit. */
  rateLimit: Required<RateLimitOptions> | undefined
  maxConnectionParamsBytes: number
  payloadLimits: PayloadLimits
  /** Encoded events shared by the subscriptions of all connections (fan-out encodes once). */
  fanout: FanoutCache
  onError: ((opts: ErrorHandlerOptions) => void) | undefined
  /** Called once when the connection has closed and released everything. */
  released(connection: Connection): void
}

/**
 * Connection states:
 *
 *   awaiting-init --init--> authenticating --createContext ok--> ready
 *        |                        |                                |
 *        +--timeout / bad frame---+--createContext threw-----------+--> closed
 *
 * Only `init` and `ping` are accepted before `ready`; anything else is a
 * protocol error (4400).
 */
type State = 'awaiting-init' | 'authenticating' | 'ready' | 'closed'

/**
 * What a connection without calls or subscriptions reads instead of its own
 * tables: most connections are idle most of the time, and an empty Map
 * costs about 200 bytes. Read-only types, so only {@link Connection.ownCalls}
 * and {@link Connection.ownSubscriptions} can write, and only to a table of
 * the connection's own.
 */
const NO_CALLS: ReadonlyMap<number, LazyAbort> = new Map()
const NO_SUBSCRIPTIONS: ReadonlyMap<number, ServerSubscription> = new Map()

/**
 * One client connection: parses frames, runs calls concurrently and answers
 * each by id, in completion order. Owns the abort state of every call in
 * flight (a `LazyAbort`); every one is aborted and dropped when the
 * connection closes, so nothing outlives it.
 */
export class Connection {
  private state: State = 'awaiting-init'
  private ctx: object | undefined
  private initTimer: ReturnType<typeof setTimeout> | undefined
  private isReleased = false
  // Everything below that an idle connection does not need is made on first use (an empty table, a
  // closure, a flow controller): the server holds one connection per client, mostly idle.
  /** Calls in flight by id, each with its abort state. A call leaves this map exactly once. */
  private calls = NO_CALLS
  /** Live subscriptions by id; they share the id space with calls. */
  private subscriptions = NO_SUBSCRIPTIONS
  private host: SubscriptionHost | undefined
  /** Resolvers and generators still running, even after being aborted; see {@link settled}. */
  private running = 0
  /** {@link untrack}, bound to this connection for promise callbacks; made with the first task. */
  private untrackBound: (() => void) | undefined
  /** Waiting for {@link running} to reach 0. */
  private settledWaiters: (() => void)[] | undefined
  /** Waiting for the calls map to empty; see {@link callsDone}. */
  private callsDoneWaiters: (() => void)[] | undefined
  /** Made the first time the socket's buffer passes the high-water mark (see {@link writeFrame}), or by a subscription. */
  private flowControl: FlowControl | undefined
  /** Messages written in this turn, sent as one frame when it ends. */
  private readonly out: FrameBatcher
  private readonly bucket: TokenBucket | undefined
  /** Messages refused by the rate limit since the last one accepted. */
  private refusedInARow = 0
  /** Numbers each `reinit`; the context in use came from the one numbered {@link appliedVersion}. */
  private contextVersion = 0
  private appliedVersion = 0

  /** The upgrade request; `undefined` when nothing will ask for it (see the constructor). */
  private readonly req: IncomingMessage | undefined

  /** @param req the upgrade request, which `createContext` and `onError` receive. */
  constructor(
    private readonly socket: RpcSocket,
    req: IncomingMessage,
    private readonly runtime: ConnectionRuntime,
  ) {
    // Only createContext (on init and on every reinit) and onError see the request. Without them it is not
    // kept at all: a request holds a kilobyte or more of headers and stream state.
    this.req = runtime.createContext === undefined && runtime.onError === undefined ? undefined : req
    // The connection is the batcher's sink: a closure here would cost a function per connection.
    this.out = new FrameBatcher(this, flushAtTurnEnd)
    this.bucket = runtime.rateLimit === undefined ? undefined : new TokenBucket(runtime.rateLimit.messagesPerSecond, runtime.rateLimit.burst)
    if (socket.protocol !== PROTOCOL) {
      this.close(CloseCode.ProtocolError, `subprotocol ${PROTOCOL} required`)
      return
    }
    // One bound for the whole set-up: the init message *and* createContext.
    this.initTimer = setTimeout(() => {
      const reason = this.state === 'authenticating' ? 'connection set-up (createContext) took too long' : 'no init message in time'
      this.close(CloseCode.InitTimeout, reason)
    }, runtime.initTimeoutMs)
    this.initTimer.unref?.()
  }

  private isClosed(): boolean {
    return this.state === 'closed'
  }

  /** The calls table, made on the first call. */
  private ownCalls(): Map<number, LazyAbort> {
    if (this.calls === NO_CALLS) this.calls = new Map()
    return this.calls as Map<number, LazyAbort>
  }

  /** The subscriptions table, made on the first subscription. */
  private ownSubscriptions(): Map<number, ServerSubscription> {
    if (this.subscriptions === NO_SUBSCRIPTIONS) this.subscriptions = new Map()
    return this.subscriptions as Map<number, ServerSubscription>
  }

  private get flow(): FlowControl {
    this.flowControl ??= new FlowControl(this.socket, this.runtime.backpressure, (reason) => this.close(CloseCode.TryAgainLater, reason))
    return this.flowControl
  }

  /** What subscriptions need from this connection; made on the first one. */
  private get subscriptionHost(): SubscriptionHost {
    this.host ??= {
      serializer: this.runtime.serializer,
      fanout: this.runtime.fanout,
      flow: this.flow,
      send: (frame) => this.write(frame),
      sendError: (id, error, path) => this.sendError(id, error, path, 'subscription'),
      released: (subscription) => {
        if (this.subscriptions.get(subscription.id) === subscription) this.ownSubscriptions().delete(subscription.id)
      },
      reportCleanupError: (error, path) => this.report(RpcError.from(error), path, 'subscription'),
    }
    return this.host
  }

  /**
   * Where the batcher writes each frame; checks the reader's pace after it.
   * Flow control is made only once the buffer passes the high-water mark:
   * below it, checking the pace does nothing anyway.
   */
  writeFrame(frame: string): void {
    this.socket.send(frame)
    if (this.flowControl !== undefined || this.socket.bufferedAmount > this.runtime.backpressure.highWaterMark) this.flow.wrote()
  }

  /** Number of calls in flight; for tests and metrics. */
  get inFlightCalls(): number {
    return this.calls.size
  }

  /** Number of live subscriptions; for tests and metrics. */
  get liveSubscriptions(): number {
    return this.subscriptions.size
  }

  /**
   * Resolves once every resolver and subscription generator started on this
   * connection has finished (their `finally` blocks ran). After the
   * connection closed, everything is aborted, so this is how long cleanup
   * takes; a resolver that ignores its signal delays it.
   */
  async settled(): Promise<void> {
    if (this.running === 0) return
    await new Promise<void>((resolve) => (this.settledWaiters ??= []).push(resolve))
  }

  /** Resolves when no call is in flight (subscriptions do not count); a graceful restart waits for this. */
  callsDone(): Promise<void> {
    if (this.calls.size === 0) return Promise.resolve()
    return new Promise((resolve) => (this.callsDoneWaiters ??= []).push(resolve))
  }

  /**
   * Tells the client the server is restarting and when to come back:
   * `delayMs` after this connection closes. Only a connection past its
   * handshake can be told; the others are simply closed.
   */
  announceRestart(delayMs: number): void {
    if (this.state === 'ready') this.send({ type: 'restart', delayMs: Math.max(0, Math.floor(delayMs)) })
  }

  /** Feeds one frame from the socket. Never throws. */
  receive(data: string | null): void {
    if (this.isClosed()) return
    if (data === null) return this.close(CloseCode.ProtocolError, 'binary frames are not accepted')
    // Before the handshake only `init` (and pings) may come: a frame that large can only be oversized params.
    if (this.state !== 'ready' && data.length > this.runtime.maxConnectionParamsBytes / 3 && Buffer.byteLength(data) > this.runtime.maxConnectionParamsBytes) {
      return this.close(CloseCode.ParamsTooLarge, `connectionParams larger than ${this.runtime.maxConnectionParamsBytes} bytes`)
    }
    const parsed = parseClientFrame(data, { maxBatchSize: this.runtime.maxBatchSize })
    if (!parsed.ok) return this.close(CloseCode.ProtocolError, parsed.reason)
    for (const message of parsed.messages) {
      if (this.isClosed()) break
      if (this.bucket !== undefined && !this.admit(message)) continue
      this.handle(message)
    }
  }

  /**
   * The rate limit. A message over it is refused: a call, subscription or
   * reinit gets `TOO_MANY_REQUESTS`; a ping goes unanswered; a cancel or
   * unsubscribe is still carried out (it frees server resources). A peer
   * that goes on sending past another `burst` refused messages is closed
   * with 1008.
   */
  private admit(message: ClientMessage): boolean {
    if (this.bucket!.take()) {
      this.refusedInARow = 0
      return true
    }
    if (++this.refusedInARow > this.runtime.rateLimit!.burst) {
      this.close(CloseCode.PolicyViolation, 'message rate limit exceeded')
      return false
    }
    switch (message.type) {
      case 'call':
      case 'subscribe':
      case 'reinit':
        if (this.state === 'ready') this.sendError(message.id, new RpcError('TOO_MANY_REQUESTS', 'Message rate limit exceeded; slow down'), undefined, undefined)
        return false
      case 'cancel':
      case 'unsubscribe':
      case 'init':
        return true
      default:
        return false
    }
  }

  /** The socket closed (either side). Aborts every call and releases the connection, once. */
  closed(): void {
    this.state = 'closed'
    this.out.clear()
    this.release()
    if (this.isReleased) return
    this.isReleased = true
    this.runtime.released(this)
  }

  /** Closes with `code`; the reason is cut to what a close frame can hold. */
  close(code: number, reason: string): void {
    // What was written before the close (a last error, a complete) goes out before it.
    if (this.state !== 'closed') this.out.flush()
    this.state = 'closed'
    this.release()
    try {
      this.socket.close(code, truncateCloseReason(reason))
    } catch {
      this.socket.terminate()
    }
  }

  private release(): void {
    this.flowControl?.stop()
    if (this.initTimer !== undefined) {
      clearTimeout(this.initTimer)
      this.initTimer = undefined
    }
    if (this.calls.size > 0) {
      const controllers = [...this.calls.values()]
      this.calls = NO_CALLS
      for (const controller of controllers) controller.abort(new RpcError('CONNECTION_LOST', 'The connection closed'))
    }
    this.notifyCallsDone()
    if (this.subscriptions.size > 0) {
      const subscriptions = [...this.subscriptions.values()]
      this.subscriptions = NO_SUBSCRIPTIONS
      for (const subscription of subscriptions) subscription.stop(new RpcError('CONNECTION_LOST', 'The connection closed'))
    }
  }

  private handle(message: ClientMessage): void {
    switch (message.type) {
      case 'ping':
        return this.send({ type: 'pong' })
      case 'pong':
        return
      case 'init':
        if (this.state !== 'awaiting-init') return this.close(CloseCode.ProtocolError, 'init sent twice')
        return void this.init(message)
      case 'call':
        if (this.state !== 'ready') return this.close(CloseCode.ProtocolError, 'call before ack')
        return this.track(this.call(message))
      case 'cancel': {
        if (this.state !== 'ready') return this.close(CloseCode.ProtocolError, 'cancel before ack')
        // Unknown ids are ignored: the call may have just finished.
        const controller = this.calls.get(message.id)
        if (controller === undefined) return
        this.forgetCall(message.id)
        return controller.abort(new RpcError('CANCELLED', 'The caller cancelled'))
      }
      case 'subscribe':
        if (this.state !== 'ready') return this.close(CloseCode.ProtocolError, 'subscribe before ack')
        return this.subscribe(message)
      case 'unsubscribe':
        if (this.state !== 'ready') return this.close(CloseCode.ProtocolError, 'unsubscribe before ack')
        // Unknown ids are ignored: the subscription may have just ended.
        return this.subscriptions.get(message.id)?.stop(new RpcError('CANCELLED', 'The client unsubscribed'))
      case 'reinit':
        if (this.state !== 'ready') return this.close(CloseCode.ProtocolError, 'reinit before ack')
        return this.track(this.reinit(message))
      default: {
        const exhaustive: never = message
        return exhaustive
      }
    }
  }

  private async init(message: InitMessage): Promise<void> {
    this.state = 'authenticating'
    let ctx: object
    try {
      ctx = await this.createContext(message.params, message.meta)
    } catch (thrown) {
      if (this.isClosed()) return
      const error = thrown as RpcError
      this.report(error, undefined, undefined)
      const code = contextCloseCode(error)
      return this.close(code, code === CloseCode.InternalError ? 'internal error' : error.message)
    }
    if (this.isClosed()) return
    clearTimeout(this.initTimer)
    this.initTimer = undefined
    this.ctx = ctx
    this.state = 'ready'
    this.send({ type: 'ack', maxPayload: this.runtime.maxPayload })
  }

  /** New connection params on the open connection: a fresh context for later calls, or an error and the old one stays. */
  private async reinit(message: ReinitMessage): Promise<void> {
    const { id } = message
    if (this.refuseIdInUse(id, undefined, undefined)) return
    // Measured as encoded, without the rest of its frame: a client may batch a reinit with calls.
    if (Buffer.byteLength(JSON.stringify([message.params, message.meta])) > this.runtime.maxConnectionParamsBytes) {
      const error = new RpcError('PAYLOAD_TOO_LARGE', `connectionParams larger than ${this.runtime.maxConnectionParamsBytes} bytes`)
      return this.sendError(id, error, undefined, undefined)
    }
    const version = ++this.contextVersion
    const controller = new LazyAbort()
    this.ownCalls().set(id, controller)
    let ctx: object
    try {
      ctx = await this.createContext(message.params, message.meta)
    } catch (error) {
      if (this.calls.get(id) !== controller) return
      this.forgetCall(id)
      return this.sendError(id, error, undefined, undefined)
    }
    if (this.calls.get(id) !== controller) return
    this.forgetCall(id)
    // Overlapping reinits: the latest one that succeeded wins, whatever order they finish in.
    if (version > this.appliedVersion) {
      this.ctx = ctx
      this.appliedVersion = version
    }
    this.send({ type: 'result', id })
  }

  /**
   * Runs `createContext` on connection params from the wire. Throws an
   * `RpcError`: what `createContext` threw, or `UNAUTHORIZED` for anything
   * else (a bug must not let a connection in).
   */
  private async createContext(params: unknown, meta: unknown): Promise<object> {
    let ctx: unknown
    try {
      const connectionParams = this.decode(params, meta)
      // Always await, even without createContext or with a synchronous one:
      // the rest of the frame holding `init` is then handled before `ready`
      // whatever createContext is, so a call batched with init is always a
      // protocol error rather than sometimes accepted.
      ctx = await (this.runtime.createContext === undefined ? {} : this.runtime.createContext({ req: this.req!, connectionParams }))
    } catch (cause) {
      throw isRpcError(cause) ? cause : new RpcError('UNAUTHORIZED', 'Connection refused', { cause })
    }
    if (typeof ctx !== 'object' || ctx === null) throw new RpcError('INTERNAL', 'createContext must return an object')
    return ctx
  }

  private subscribe(message: SubscribeMessage): void {
    const { id, path } = message
    if (this.refuseIdInUse(id, path, 'subscription')) return
    if (this.subscriptions.size >= this.runtime.maxSubscriptions) {
      const error = new RpcError('TOO_MANY_REQUESTS', `at most ${this.runtime.maxSubscriptions} subscriptions per connection`)
      return this.sendError(id, error, path, 'subscription')
    }
    const procedure = getProcedure(this.runtime.router, path)
    if (procedure === undefined) {
      return this.sendError(id, new RpcError('NOT_FOUND', `no procedure at "${shorten(path)}"`), path, 'subscription')
    }
    if (procedure._def.type !== 'subscription') {
      const error = new RpcError('METHOD_NOT_SUPPORTED', `"${path}" is a ${procedure._def.type}, not a subscription`)
      return this.sendError(id, error, path, 'subscription')
    }
    let input: unknown
    try {
      input = this.decodeInput(message.input, message.meta)
    } catch (error) {
      return this.sendError(id, error, path, 'subscription')
    }
    const subscription = new ServerSubscription(id, path, procedure, this.subscriptionHost)
    this.ownSubscriptions().set(id, subscription)
    this.track(subscription.run(this.ctx!, input, message.lastEventId))
  }

  /**
   * Counts a task until it settles. A counter rather than a set of promises:
   * this runs for every call, and a set entry plus two callbacks per call
   * were measurable.
   */
  private track(task: Promise<void>): void {
    this.running++
    this.untrackBound ??= () => this.untrack()
    task.then(this.untrackBound, this.untrackBound)
  }

  private untrack(): void {
    const waiters = this.settledWaiters
    if (--this.running > 0 || waiters === undefined) return
    this.settledWaiters = undefined
    for (const wake of waiters) wake()
  }

  private async call(message: CallMessage): Promise<void> {
    const { id, path, method } = message
    if (this.refuseIdInUse(id, path, method)) return
    if (this.calls.size >= this.runtime.maxInFlightCalls) {
      const error = new RpcError('TOO_MANY_REQUESTS', `at most ${this.runtime.maxInFlightCalls} calls in flight per connection`)
      return this.sendError(id, error, path, method)
    }
    const procedure = getProcedure(this.runtime.router, path)
    if (procedure === undefined) {
      return this.sendError(id, new RpcError('NOT_FOUND', `no procedure at "${shorten(path)}"`), path, method)
    }
    if (procedure._def.type !== method) {
      const error = new RpcError('METHOD_NOT_SUPPORTED', `"${path}" is a ${procedure._def.type}, not a ${method}`)
      return this.sendError(id, error, path, method)
    }
    if (message.idempotencyKey !== undefined && method === 'mutation') return this.idempotentCall(message, procedure)
    const controller = new LazyAbort()
    this.ownCalls().set(id, controller)
    let data: unknown
    try {
      const input = this.decodeInput(message.input, message.meta)
      data = await callProcedure({ procedure, path, ctx: this.ctx!, input, signal: controller })
    } catch (error) {
      if (this.calls.get(id) !== controller) return // cancelled or closed: nobody is waiting
      this.forgetCall(id)
      return this.sendError(id, error, path, method)
    }
    if (this.calls.get(id) !== controller) return
    this.forgetCall(id)
    let frame: string
    try {
      frame = encodeWithData(this.runtime.serializer, { type: 'result', id }, data)
    } catch (cause) {
      return this.sendError(id, new RpcError('INTERNAL', 'The result could not be serialized', { cause }), path, method)
    }
    this.write(frame)
  }

  /**
   * A mutation with an idempotency key. The execution belongs to the
   * server-wide cache, not to this connection: when the connection drops,
   * the mutation runs on, so that the client's retry on its next connection
   * joins it (or replays its stored outcome) instead of running it twice.
   * Only an explicit cancel from every caller waiting for it aborts it.
   */
  private async idempotentCall(message: CallMessage, procedure: AnyProcedure): Promise<void> {
    const { id, path } = message
    const fingerprint = JSON.stringify([message.input ?? null, message.meta ?? null])
    const begun = this.runtime.idempotency.begin(path, message.idempotencyKey!, fingerprint)
    if (begun.kind === 'refused') return this.sendError(id, begun.error, path, 'mutation')
    const { run } = begun
    const waiter = new LazyAbort()
    this.ownCalls().set(id, waiter)
    // A cancel from this caller counts against the run; a dropped connection does not.
    // Either way this caller stops waiting, so the connection can settle while the run goes on.
    const stoppedWaiting = new Promise<undefined>((resolve) => {
      waiter.signal.addEventListener('abort', () => {
        const reason: unknown = waiter.signal.reason
        if (isRpcError(reason) && reason.code === 'CANCELLED') run.cancel(reason)
        resolve(undefined)
      })
    })
    if (begun.kind === 'new') {
      const ctx = this.ctx!
      void this.execute(message, procedure, ctx, run.signal).then(begun.finish)
    }
    const outcome = await Promise.race([run.outcome, stoppedWaiting])
    if (outcome === undefined || this.calls.get(id) !== waiter) return
    this.forgetCall(id)
    this.write(`{"type":"${outcome.kind}","id":${id}${outcome.fields}}`)
  }

  /** Runs a call to its outcome, encoded; never throws. Errors are reported to `onError` once, here. */
  private async execute(message: CallMessage, procedure: AnyProcedure, ctx: object, signal: AbortSignal): Promise<Outcome> {
    const { path, method } = message
    let data: unknown
    try {
      const input = this.decodeInput(message.input, message.meta)
      data = await callProcedure({ procedure, path, ctx, input, signal, idempotencyKey: message.idempotencyKey })
    } catch (thrown) {
      return { kind: 'error', fields: this.errorFields(thrown, path, method) }
    }
    try {
      return { kind: 'result', fields: encodeFields(this.runtime.serializer, {}, data) }
    } catch (cause) {
      const error = new RpcError('INTERNAL', 'The result could not be serialized', { cause })
      return { kind: 'error', fields: this.errorFields(error, path, method) }
    }
  }

  /**
   * Calls, subscriptions and reinits share one id space: an id still in
   * flight gets `BAD_REQUEST` (and the first keeps running). True when it
   * was refused.
   */
  private refuseIdInUse(id: number, path: string | undefined, type: ProcedureType | undefined): boolean {
    if (!this.calls.has(id) && !this.subscriptions.has(id)) return false
    this.sendError(id, new RpcError('BAD_REQUEST', `id ${id} is already in use`), path, type)
    return true
  }

  /** Takes a call out of the table, waking {@link callsDone} when it was the last. */
  private forgetCall(id: number): void {
    this.ownCalls().delete(id)
    if (this.calls.size === 0) this.notifyCallsDone()
  }

  private notifyCallsDone(): void {
    const waiters = this.callsDoneWaiters
    if (waiters === undefined) return
    this.callsDoneWaiters = undefined
    for (const wake of waiters) wake()
  }

  private decodeInput(json: unknown, meta: unknown): unknown {
    try {
      return this.decode(json, meta)
    } catch (cause) {
      // A payload bound already says which bound; anything else is the serializer refusing.
      throw isRpcError(cause) ? cause : new RpcError('BAD_REQUEST', 'The input could not be deserialized', { cause })
    }
  }

  private decode(json: unknown, meta: unknown): unknown {
    if (json === undefined && meta === undefined) return undefined
    // Bounds first: a hostile meta must be refused before the serializer walks it.
    checkPayload(json, this.runtime.serializer.metaFormat === 'superjson' ? meta : undefined, this.runtime.payloadLimits)
    return this.runtime.serializer.deserialize(meta === undefined ? { json } : { json, meta })
  }

  /** Sends a per-call error; the one place errors leave the server. */
  private sendError(id: number, thrown: unknown, path: string | undefined, type: ProcedureType | undefined): void {
    const fields = this.errorFields(thrown, path, type)
    this.write(`{"type":"error","id":${id}${fields}}`)
  }

  /** Masks and reports an error, and encodes it as the fields of an `error` message. */
  private errorFields(thrown: unknown, path: string | undefined, type: ProcedureType | undefined): string {
    const error = this.toPublicError(thrown)
    this.report(error.original, path, type)
    const head = { code: error.code, message: error.message }
    try {
      return encodeFields(this.runtime.serializer, { ...head }, error.data)
    } catch {
      // Data that cannot be serialized is dropped; the code and message still go.
      return `,${JSON.stringify(head).slice(1, -1)}`
    }
  }

  /** Masks what is not an `RpcError` unless the server opted in to expose it. */
  private toPublicError(thrown: unknown): { code: string; message: string; data: unknown; original: RpcError } {
    // isRpcError is false for a code outside the table (thrown from plain JS):
    // such an error is masked like any unexpected exception.
    if (isRpcError(thrown)) return { code: thrown.code, message: thrown.message, data: thrown.data, original: thrown }
    const original = RpcError.from(thrown)
    if (original.code !== 'INTERNAL') return { code: original.code, message: original.message, data: undefined, original }
    if (this.runtime.exposeInternalErrors) {
      const stack = thrown instanceof Error ? thrown.stack : undefined
      return { code: 'INTERNAL', message: original.message, data: stack === undefined ? undefined : { stack }, original }
    }
    return { code: 'INTERNAL', message: 'Internal server error', data: undefined, original }
  }

  private report(error: RpcError, path: string | undefined, type: ProcedureType | undefined): void {
    const onError = this.runtime.onError
    if (onError === undefined) return
    try {
      const result: unknown = onError({ error, path, type, ctx: this.ctx, req: this.req! })
      // An async logger that rejects must not become an unhandled rejection either.
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') (result as Promise<unknown>).then(undefined, () => {})
    } catch {
      // A throwing logger must not take the connection down.
    }
  }

  private send(message: ServerMessage): void {
    this.write(JSON.stringify(message))
  }

  /**
   * The one place messages leave: nothing after close; the messages of one
   * turn go out as one frame, and every frame is checked against the
   * reader's pace.
   */
  private write(message: string): void {
    if (this.isClosed()) return
    this.out.push(message)
  }
}

/**
 * The close code for a refused connection set-up. Refusals are terminal for
 * the client, except what says "not now": those are retried with backoff.
 */
function contextCloseCode(error: RpcError): number {
  switch (error.code) {
    case 'FORBIDDEN':
      return CloseCode.Forbidden
    case 'OVERLOADED':
    case 'TOO_MANY_REQUESTS':
    case 'TIMEOUT':
      return CloseCode.TryAgainLater
    case 'INTERNAL':
      return CloseCode.InternalError
    default:
      return CloseCode.Unauthorized
  }
}

/**
 * Encoded events by the value a subscription yielded: a channel hands the
 * same event object to every subscriber, so the serializer and
 * `JSON.stringify` run once per event, not once per subscriber. Weak, so
 * events are freed with the channel's ring.
 */
export type FanoutCache = WeakMap<object, { procedure: AnyProcedure; fields: string }>

function shorten(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text
}
