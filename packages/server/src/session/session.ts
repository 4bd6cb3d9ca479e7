import type { IncomingMessage } from 'node:http'
import {
  CloseCode,
  FrameBatcher,
  PONG_FRAME,
  PROTOCOL,
  RpcError,
  assertNever,
  isThenable,
  peerProxy,
  refusalCloseCode,
  restartFrame,
  stampFrame,
  truncateCloseReason,
  type ClientMessage,
  type EncodedFields,
  type ProcedureType,
} from '@wirecall/core'
import { serverDefaults } from '../options'
import { CallTable } from './calls'
import { IncomingStreams } from './incoming-streams'
import { PeerCallTable } from './peer-calls'
import type { SessionConfig } from './config'
import { init, type ContextVersions } from './context'
import { callOnError, closeReport, maskedErrorFields } from './errors'
import { FlowControl } from './flow-control'
import { outcomeOf, subscriptionRefused, type ObservedConnection, type ServerHooks } from './hooks'
import { isKnown } from './lookup'
import { RateLimiter } from './rate-limit'
import { readFrame } from './inbound'
import { FrameIntake } from './frame-intake'
import type { RpcSocket } from './socket'
import { SubscriptionTable } from './subscriptions'
import { Tasks } from './tasks'
import { currentTurn, flushAtTurnEnd } from './turn-end'
import { unrefTimer } from './unref'

/** Who keeps the sessions of a server: told once when a session is gone. */
export interface SessionOwner {
  released(session: Session): void
}

/** How long one peer's frames may hold the event loop before its next frames wait for the next turn. */
const READ_SLICE_MS = 10

/**
 *   awaiting-init --init--> authenticating --createContext ok--> ready
 *        |                        |                                |
 *        +--timeout / bad frame---+--createContext threw-----------+--> closed
 *
 * Only `init` and `ping` are accepted before `ready`; anything else is 4400.
 */
type State = 'awaiting-init' | 'authenticating' | 'ready' | 'closed'

/**
 * One client connection, on any {@link RpcSocket} (never `ws` itself):
 * receive → admit (rate limit) → handle → write. Each message goes to what
 * owns it — {@link CallTable}, {@link SubscriptionTable}, `context.ts` for
 * `init` and `reinit` — and what they answer leaves through {@link write},
 * batched per turn and paced by flow control.
 *
 * Ownership: when the session closes, every call is aborted and every
 * subscription stopped, so nothing outlives it; {@link settled} says when
 * their resolvers and generators have finished. An idle session is small on
 * purpose (a server holds one per client): tables, flow control, task
 * counter and context versions are made on first use.
 */
export class Session {
  private state: State = 'awaiting-init'
  /** The context `createContext` made: at `init`, then at each accepted `reinit`. Set once ready. */
  ctx: object | undefined
  /** Numbers the `reinit`s, so the latest to succeed wins; made on the first (see `context.ts`). */
  versions: ContextVersions | undefined
  /** The upgrade request, kept only when `createContext` or `onError` will be given it: it holds a kilobyte or more. */
  readonly req: IncomingMessage | undefined
  private calls: CallTable | undefined
  private subscriptions: SubscriptionTable | undefined
  /** The server's calls to this client's procedures; made on the first. */
  private peerCalls: PeerCallTable | undefined
  /** The client streams coming in (stream inputs); made on the first. */
  private incoming: IncomingStreams | undefined
  /** What resolvers get as `peer`; made on first use. */
  private peerApi: object | undefined
  /** The client procedures the client advertised (`init`, then each accepted `reinit` that names them); `undefined`: none. */
  handlers: ReadonlySet<string> | undefined
  private flowControl: FlowControl | undefined
  /** Messages written in this turn, sent as one frame when it ends. */
  private readonly out: FrameBatcher
  /** The rate limit; `undefined` when `rateLimit: false`. */
  readonly limiter: RateLimiter | undefined
  /** Holds frames that cannot be read yet (byte budget, or this turn's slice used up); made the first time one has to wait. */
  private intake: FrameIntake | undefined
  /** Time spent reading this peer's frames in the turn {@link readTurn}; see {@link readNow}. */
  private readMs = 0
  private readTurn = -1
  private initTimer: ReturnType<typeof setTimeout> | undefined
  private cutOffTimer: ReturnType<typeof setTimeout> | undefined
  private isReleased = false
  /** Resolvers and generators still running; made with the first. */
  private tasks: Tasks | undefined
  /** What the server's instrumentation knows of this connection; `undefined` without instrumentation. */
  readonly observed: ObservedConnection | undefined

  /** @param req the upgrade request, which `createContext` and `onError` receive. */
  constructor(
    readonly socket: RpcSocket,
    req: IncomingMessage,
    readonly config: SessionConfig,
    private readonly owner: SessionOwner,
  ) {
    this.req = config.createContext === undefined && config.onError === undefined ? undefined : req
    // First, so that every close below has its onConnection before it.
    this.observed = config.instrumentation?.opened(this, req)
    // The session is the batcher's sink: a closure here would cost a function per session.
    this.out = new FrameBatcher(this, flushAtTurnEnd)
    this.limiter = config.rateLimit === undefined ? undefined : new RateLimiter(config.rateLimit, config.maxPayload)
    if (socket.protocol !== PROTOCOL) {
      this.close(CloseCode.ProtocolError, `subprotocol ${PROTOCOL} required`)
      return
    }
    // One bound for the whole set-up: the init message *and* createContext.
    this.initTimer = setTimeout(() => {
      this.close(CloseCode.InitTimeout, this.state === 'authenticating' ? 'connection set-up (createContext) took too long' : 'no init message in time')
    }, config.initTimeoutMs)
    unrefTimer(this.initTimer)
  }

  get isClosed(): boolean {
    return this.state === 'closed'
  }

  /** `ack` was sent: calls may flow. */
  get isReady(): boolean {
    return this.state === 'ready'
  }

  /** Number of calls in flight; for `stats()`. */
  get inFlightCalls(): number {
    return this.calls?.size ?? 0
  }

  /** Number of live subscriptions; for `stats()`. */
  get liveSubscriptions(): number {
    return this.subscriptions?.size ?? 0
  }

  /** Flow control towards this peer; made the first time the buffer passes the high-water mark, or by a subscription. */
  get flow(): FlowControl {
    this.flowControl ??= new FlowControl(
      this.socket,
      this.config.backpressure,
      (reason) => this.close(CloseCode.TryAgainLater, reason),
      this.observed !== undefined && this.config.instrumentation!.observesBackpressure ? this.observeBackpressure(this.observed) : undefined,
    )
    return this.flowControl
  }

  /** What flow control tells `onBackpressure` through; only with an instrumentation that has it. */
  private observeBackpressure(observed: ObservedConnection): (kind: 'pause' | 'resume' | 'slow-consumer', bufferedAmount: number) => void {
    const hooks = this.config.instrumentation!
    return (kind, bufferedAmount) => hooks.backpressure(this, observed.ref, kind, bufferedAmount)
  }

  /** The instrumentation, when the server has some; with the connection it knows this session by. */
  get hooks(): ServerHooks | undefined {
    return this.config.instrumentation
  }

  /** The server's calls to the client, made on the first. */
  peerCallTable(): PeerCallTable {
    return (this.peerCalls ??= new PeerCallTable(this))
  }

  /** The client streams of this session, made on the first. */
  incomingStreams(): IncomingStreams {
    return (this.incoming ??= new IncomingStreams(this))
  }

  /** The `peer` every resolver on this connection receives: `peer.ui.confirm.call(input, options)`. */
  get peer(): object {
    return (this.peerApi ??= peerProxy((path, input, options) => this.peerCallTable().call(path, input, options)))
  }

  /** The calls table, made on the first call or reinit. */
  callTable(): CallTable {
    return (this.calls ??= new CallTable(this))
  }

  /**
   * Feeds one frame from the socket (`null`: a binary frame). Never throws.
   * A frame that cannot be read yet waits, unparsed, in the
   * {@link FrameIntake}; the others are read at once.
   */
  receive(data: string | null): void {
    if (this.state === 'closed') return
    if (data === null) return this.close(CloseCode.ProtocolError, 'binary frames are not accepted')
    // One clock reading for the byte bucket and the read's timing.
    const now = performance.now()
    if (this.intake?.isHolding === true || (this.limiter !== undefined && !this.limiter.takeBytes(data.length, now))) {
      return this.frameIntake().hold(data)
    }
    this.readNow(data, now)
  }

  /**
   * Reads a frame, timing it: once this peer's frames have taken
   * {@link READ_SLICE_MS} of the event loop, the next ones wait for the
   * next turn, plus as long as the slice was overrun (a single costly frame
   * is matched by an equal pause), so that one peer's queue of large frames
   * cannot keep every other connection waiting.
   */
  readNow(data: string, start = performance.now()): void {
    // The slice is per turn: time spent in earlier turns, when other connections had theirs, does not count.
    const turn = currentTurn()
    if (turn !== this.readTurn) {
      this.readTurn = turn
      this.readMs = 0
    }
    readFrame(this, data)
    this.readMs += performance.now() - start
    if (this.readMs < READ_SLICE_MS || this.isClosed) return
    const overMs = this.readMs - READ_SLICE_MS
    this.readMs = 0
    this.frameIntake().yieldTurn(overMs)
  }

  private frameIntake(): FrameIntake {
    return (this.intake ??= new FrameIntake(this, this.limiter, 2 * Math.max(this.limiter?.burstBytes ?? 0, this.config.maxPayload)))
  }

  /** Carries out one message that the rate limit admitted. */
  handle(message: ClientMessage): void {
    if (message.type === 'ping') return this.write(PONG_FRAME)
    if (message.type === 'pong') return
    if (message.type === 'init') {
      if (this.state !== 'awaiting-init') return this.close(CloseCode.ProtocolError, 'init sent twice')
      return void init(this, message)
    }
    if (this.state !== 'ready') return this.close(CloseCode.ProtocolError, `${message.type} before ack`)
    switch (message.type) {
      case 'call':
        return this.track(this.callTable().call(message))
      case 'cancel':
        // Unknown ids are ignored: the call may have just finished.
        return this.calls?.cancel(message.id)
      case 'subscribe':
        return (this.subscriptions ??= new SubscriptionTable(this)).subscribe(message)
      case 'unsubscribe':
        // Unknown ids are ignored: the subscription may have just ended.
        return this.subscriptions?.unsubscribe(message.id)
      case 'reinit':
        return this.track(this.callTable().reinit(message))
      case 'chunk':
        return this.incomingStreams().chunk(message)
      case 'end':
        return this.incomingStreams().end(message.id)
      case 'result':
      case 'error':
        // Answers to the server's own calls; unknown ids are ignored (a late answer after a timeout).
        return this.peerCalls?.answer(message)
      default:
        return assertNever(message)
    }
  }

  /** `init` is under way: `createContext` runs. */
  authenticating(): void {
    this.state = 'authenticating'
  }

  /** `createContext` accepted the connection: answer `ack`; calls may flow. */
  accept(ctx: object): void {
    clearTimeout(this.initTimer)
    this.initTimer = undefined
    this.ctx = ctx
    this.state = 'ready'
    this.write(this.config.ack)
  }

  /** `createContext` refused the connection: report it as thrown, and close with the code that says whether to retry. */
  refuse(error: RpcError): void {
    const code = refusalCloseCode(error.code)
    if (this.state !== 'closed') this.report(error, undefined, undefined, code)
    this.end(code, code === CloseCode.InternalError ? 'internal error' : error.message)
  }

  /** Tells the client to reconnect `delayMs` after this session closes (a restart); only a `ready` session can be told. */
  announceRestart(delayMs: number): void {
    if (this.state === 'ready') this.write(restartFrame(Math.max(0, Math.floor(delayMs))))
  }

  /** Calls, subscriptions and reinits share one id space: an id still in use gets `BAD_REQUEST`, and the first runs on. The error sent when refused. */
  refuseIdInUse(id: number, path: string | undefined, type: ProcedureType | undefined): RpcError | undefined {
    if (this.calls?.has(id) !== true && this.subscriptions?.has(id) !== true) return undefined
    return this.sendError(id, new RpcError('BAD_REQUEST', `id ${id} is already in use`), path, type)
  }

  /**
   * The rate limit refused a message with an id: it is answered
   * `TOO_MANY_REQUESTS`, and the instrumentation sees it as a call that
   * ended in that error, or a subscription refused.
   */
  refuseOverRate(message: Extract<ClientMessage, { id: number }>): void {
    const error = new RpcError('TOO_MANY_REQUESTS', 'Message rate limit exceeded; slow down')
    const hooks = this.config.instrumentation
    if (hooks === undefined || this.observed === undefined) return void this.sendError(message.id, error, undefined, undefined)
    const { ref } = this.observed
    if (hooks.wrapsCalls && (message.type === 'call' || message.type === 'reinit')) {
      const call = message.type === 'call' ? this.callTable().describe(message) : this.callTable().describeReinit(message)
      this.track(hooks.call(this, call, () => Promise.resolve(outcomeOf(this.sendError(message.id, error, undefined, undefined)))))
      return
    }
    this.sendError(message.id, error, undefined, undefined)
    if (message.type === 'subscribe') subscriptionRefused(hooks, this, ref, message, isKnown(this.config, message.path, 'subscription'), error)
  }

  /** Counts a resolver or generator until it settles, even after it was aborted; see {@link settled}. A task that finished synchronously (not a promise) has nothing left to count. */
  track(task: unknown): void {
    if (!isThenable(task)) return
    ;(this.tasks ??= new Tasks((cause) => this.report(new RpcError('INTERNAL', 'A message handler failed', { cause }), undefined, undefined))).track(task)
  }

  /**
   * Resolves once every resolver and generator started here has finished
   * (their `finally` blocks ran): after a close, how long cleanup takes. A
   * resolver that ignores its signal delays it.
   */
  settled(): Promise<void> {
    return this.tasks?.settled() ?? Promise.resolve()
  }

  /** Resolves when no call is in flight (subscriptions do not count); a graceful restart waits for this. */
  callsDone(): Promise<void> {
    return this.calls?.done() ?? Promise.resolve()
  }

  /** Sends a per-call error; the one place errors leave the server. Returns the error before masking, as `onError` got it. */
  sendError(id: number, thrown: unknown, path: string | undefined, type: ProcedureType | undefined): RpcError {
    const { fields, original } = this.maskError(thrown, path, type)
    this.write(stampFrame('error', id, fields))
    return original
  }

  /** Masks and reports an error, and encodes it as the fields of an `error` message. */
  errorFields(thrown: unknown, path: string | undefined, type: ProcedureType | undefined): EncodedFields {
    return this.maskError(thrown, path, type).fields
  }

  private maskError(thrown: unknown, path: string | undefined, type: ProcedureType | undefined): { fields: EncodedFields; original: RpcError } {
    const { serializer, exposeInternalErrors } = this.config
    return maskedErrorFields(serializer, exposeInternalErrors, thrown, (error) => this.report(error, path, type))
  }

  /** Tells `onError`; `closeCode` when the error ends the connection. */
  report(error: RpcError, path: string | undefined, type: ProcedureType | undefined, closeCode?: number): void {
    if (this.config.onError === undefined) return
    const opts = { error, path, type, ctx: this.ctx, req: this.req! }
    callOnError(this.config.onError, closeCode === undefined ? opts : { ...opts, closeCode })
  }

  /**
   * The socket library is closing the connection over a frame it refused
   * (`ws`: 1009 past `maxPayload`, 1002 for a malformed frame, 1007 for bad
   * UTF-8): tell `onError`, and close as any refusal does, so nothing
   * reports it twice.
   */
  refusedFrame(code: number, reason: string, cause: unknown): void {
    if (this.state === 'closed') return
    this.report(closeReport(code, reason, cause), undefined, undefined, code)
    this.end(code, reason)
  }

  /** The one place messages leave: nothing after close; one turn's messages go out as one frame (see {@link writeFrame}). */
  write(message: string): void {
    if (this.state !== 'closed') this.out.push(message)
  }

  /** Where the batcher writes each frame, then checks the reader's pace (flow control is made once the buffer first passes the high-water mark). */
  writeFrame(frame: string): void {
    this.socket.send(frame)
    if (this.flowControl !== undefined || this.socket.bufferedAmount > this.config.backpressure.highWaterMark) this.flow.wrote()
  }

  /**
   * Closes with `code` because of the peer or a limit (a bad frame, a
   * flood, a slow reader, no `init` in time...), and tells `onError` why,
   * once: a refused connection must not go unnoticed.
   */
  close(code: number, reason: string): void {
    if (this.state !== 'closed') this.report(closeReport(code, reason), undefined, undefined, code)
    this.end(code, reason)
  }

  /**
   * Closes with `code`, telling nobody: the server's own decision
   * (`close()`, a restart), or a refusal already reported. The reason is
   * cut to what a close frame can hold. A peer that does not answer the
   * close (it stopped reading: the very reason for a 1013) is cut off after
   * `closeTimeoutMs`, instead of keeping its socket and unsent buffer for as
   * long as the socket library waits.
   */
  end(code: number, reason: string): void {
    // What was written before the close (a last error, a complete) goes out before it.
    if (this.state !== 'closed') {
      this.out.flush()
      if (this.observed !== undefined && this.observed.closeCode === undefined) {
        this.observed.closeCode = code
        this.observed.closeReason = reason
      }
    }
    this.state = 'closed'
    this.release()
    try {
      this.socket.close(code, truncateCloseReason(reason))
    } catch {
      this.socket.terminate()
    }
    if (this.isReleased || this.cutOffTimer !== undefined) return
    this.cutOffTimer = setTimeout(() => this.socket.terminate(), serverDefaults.closeTimeoutMs)
    unrefTimer(this.cutOffTimer)
  }

  /**
   * The socket closed (either side). Aborts every call and releases the
   * session, once. `code` and `reason`: the close as the socket saw it, for
   * `onClose` when the server did not close first.
   */
  closed(code?: number, reason?: string | Buffer): void {
    this.state = 'closed'
    this.out.clear()
    clearTimeout(this.cutOffTimer)
    this.release()
    if (this.isReleased) return
    this.isReleased = true
    this.owner.released(this)
    const observed = this.observed
    if (observed === undefined) return
    const ours = observed.closeCode !== undefined
    // 1005 (no code in the close frame) and 1006 (no close frame) are what the socket reports when the peer gave none.
    this.config.instrumentation!.closed(this, observed, ours ? observed.closeCode! : (code ?? 1006), ours ? observed.closeReason : String(reason ?? ''))
  }

  private release(): void {
    this.flowControl?.stop()
    this.intake?.stop()
    clearTimeout(this.initTimer)
    this.initTimer = undefined
    // The calls to the client first: a resolver that passed its own signal to one must see CONNECTION_LOST, not the
    // CANCELLED its signal would give when the calls below are aborted.
    this.peerCalls?.abortAll(new RpcError('CONNECTION_LOST', 'The connection closed before the client answered'))
    this.calls?.abortAll(new RpcError('CONNECTION_LOST', 'The connection closed'))
    this.subscriptions?.stopAll(new RpcError('CONNECTION_LOST', 'The connection closed'))
  }
}
