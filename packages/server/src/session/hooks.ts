import type { IncomingMessage } from 'node:http'
import {
  RpcError,
  isResync,
  isRpcError,
  isTracked,
  readTraceContext,
  traceContextOfHeaders,
  traceOf,
  type LazyAbort,
  type ProcedureType,
  type ResyncReason,
  type TraceContext,
} from '@wirecall/core'
import type {
  CallOutcome,
  ConnectionRef,
  ServerBackpressureEvent,
  ServerCallEvent,
  ServerInstrumentation,
  ServerSubscriptionEvent,
} from '../instrumentation'

/**
 * How a call ended, as the session's code returns it: `'ok'`, the error it
 * sent, or the abort state of a call that was taken out of the table before
 * its answer (cancelled, or its connection closed). Strings and objects
 * that already exist, so that a server without instrumentation allocates
 * nothing to say it; {@link outcomeOf} turns it into a {@link CallOutcome}
 * only for the hooks.
 */
export type CallResult = 'ok' | RpcError | LazyAbort

/** Who the hooks report a throwing hook to (the session's `onError`), and what a connection's events carry. */
export interface HookSite {
  report(error: RpcError, path: string | undefined, type: ProcedureType | undefined): void
}

/** How a subscription ended, as {@link ServerInstrumentation.onSubscription}'s `end` phase says. */
export type SubscriptionEnd = Extract<ServerSubscriptionEvent, { phase: 'end' }>['reason']

/** The hooks that are told of an event and return nothing. */
type NotifyingHook = 'onConnection' | 'onClose' | 'onSubscription' | 'onDeliver' | 'onBackpressure'

const OK: CallOutcome = Object.freeze({ status: 'ok' })
const CANCELLED: CallOutcome = Object.freeze({ status: 'cancelled', reason: 'cancel' })
const CONNECTION_CLOSED: CallOutcome = Object.freeze({ status: 'cancelled', reason: 'connection-closed' })

/**
 * A server's {@link ServerInstrumentation}s, as its sessions call them:
 * made only when the option holds at least one, so that every place that
 * could tell them something checks one `undefined` and builds no event
 * otherwise. A hook that throws is reported to `onError` (through the
 * session) and skipped; `onCall` wrappers compose, the first outermost.
 */
export class ServerHooks {
  private connections = 0
  private readonly list: readonly ServerInstrumentation[]
  private readonly wrappers: readonly ServerInstrumentation[]
  /** Whether some instrumentation has `onCall`: otherwise calls run as without instrumentation. */
  readonly wrapsCalls: boolean
  /** Whether some instrumentation has `onDeliver`: otherwise no delivery event is built. */
  readonly observesDelivery: boolean
  /** Whether some instrumentation has `onBackpressure`. */
  readonly observesBackpressure: boolean

  /** `undefined` for no instrumentation (or an empty array): the server then pays one check per event. */
  static of(list: readonly ServerInstrumentation[] | undefined): ServerHooks | undefined {
    return list === undefined || list.length === 0 ? undefined : new ServerHooks(list)
  }

  private constructor(list: readonly ServerInstrumentation[]) {
    // Copied: an array the app changes later must not change a running server.
    this.list = [...list]
    this.wrappers = this.list.filter((instrumentation) => typeof instrumentation.onCall === 'function')
    this.wrapsCalls = this.wrappers.length > 0
    this.observesDelivery = this.list.some((instrumentation) => typeof instrumentation.onDeliver === 'function')
    this.observesBackpressure = this.list.some((instrumentation) => typeof instrumentation.onBackpressure === 'function')
  }

  /** A session opened: numbers its connection and tells `onConnection`. */
  opened(site: HookSite, req: IncomingMessage): ObservedConnection {
    const ref: ConnectionRef = Object.freeze({ id: ++this.connections, remoteAddress: req.socket?.remoteAddress })
    const observed = new ObservedConnection(ref)
    this.tell(site, 'onConnection', { connection: ref, req, trace: traceContextOfHeaders(req.headers) }, undefined, undefined)
    return observed
  }

  /** The session's socket is gone: `onClose`, once (the session calls it once). */
  closed(site: HookSite, observed: ObservedConnection, code: number, reason: string): void {
    this.tell(site, 'onClose', { connection: observed.ref, code, reason, durationMs: performance.now() - observed.openedAt }, undefined, undefined)
  }

  /**
   * Runs one call through the `onCall` wrappers: `run` is the call itself,
   * started inside the innermost `next()` so that a context a wrapper sets
   * around `next()` is the resolver's. Whatever a wrapper does wrong —
   * throws, never calls `next()`, calls it twice — the call runs exactly
   * once and is answered as without it; the mistake goes to `onError`.
   */
  async call(site: HookSite, event: ServerCallEvent, run: () => Promise<CallOutcome>): Promise<CallOutcome> {
    return this.wrap(site, event, run, 0)
  }

  private async wrap(site: HookSite, event: ServerCallEvent, run: () => Promise<CallOutcome>, index: number): Promise<CallOutcome> {
    let inner: Promise<CallOutcome> | undefined
    // The innermost wrapper's next() is the call itself, not one more async step around it.
    const innermost = index === this.wrappers.length - 1
    const next = (): Promise<CallOutcome> => (inner ??= innermost ? run() : this.wrap(site, event, run, index + 1))
    const type = event.method === 'reinit' ? undefined : event.method
    try {
      await this.wrappers[index]!.onCall!(event, next)
      if (inner === undefined) site.report(hookError('onCall', new Error('onCall returned without calling next()')), event.path, type)
    } catch (cause) {
      site.report(hookError('onCall', cause), event.path, type)
    }
    // The call's own outcome, whatever the wrapper returned: it cannot change what was sent.
    return next()
  }

  /** `onSubscription`, for one phase of one subscription. */
  subscription(site: HookSite, event: ServerSubscriptionEvent): void {
    this.tell(site, 'onSubscription', event, event.path, 'subscription')
  }

  /** `onDeliver`: a channel's event was written to one subscriber. */
  delivered(site: HookSite, connection: ConnectionRef, path: string, eventId: string, trace: TraceContext | undefined): void {
    this.tell(site, 'onDeliver', { connection, path, eventId, trace }, path, 'subscription')
  }

  /** `onBackpressure`. */
  backpressure(site: HookSite, connection: ConnectionRef, kind: ServerBackpressureEvent['kind'], bufferedAmount: number): void {
    this.tell(site, 'onBackpressure', { connection, kind, bufferedAmount }, undefined, undefined)
  }

  /** Calls hook `name` of every instrumentation that has it, in order; one that throws is reported and skipped. */
  private tell<K extends NotifyingHook>(
    site: HookSite,
    name: K,
    event: Parameters<NonNullable<ServerInstrumentation[K]>>[0],
    path: string | undefined,
    type: ProcedureType | undefined,
  ): void {
    for (const instrumentation of this.list) {
      const hook = instrumentation[name] as ((event: unknown) => void) | undefined
      if (hook === undefined) continue
      try {
        hook.call(instrumentation, event)
      } catch (cause) {
        site.report(hookError(name, cause), path, type)
      }
    }
  }
}

/** What a session keeps for its instrumentation: the connection's ref, when it opened, and how it was closed. */
export class ObservedConnection {
  readonly openedAt = performance.now()
  /** Set by the first close the server itself sends; a close from the peer is told by the socket. */
  closeCode: number | undefined
  closeReason = ''

  constructor(readonly ref: ConnectionRef) {}
}

/** The {@link CallOutcome} of what the session's code returned. */
export function outcomeOf(result: CallResult): CallOutcome {
  if (result === 'ok') return OK
  if (result instanceof RpcError) return { status: 'error', error: result }
  const reason: unknown = result.signal.reason
  return isRpcError(reason) && reason.code === 'CANCELLED' ? CANCELLED : CONNECTION_CLOSED
}

/** The `trace` field of a message, checked (an invalid one is dropped, never an error). */
export const traceOfMessage = (message: { trace?: unknown }): TraceContext | undefined => readTraceContext(message.trace)

/**
 * One subscription as its instrumentation sees it: tells `onSubscription`
 * its start once the handshake's outcome is known, then its end, and
 * `onDeliver` each channel event written. Made only when the server has
 * instrumentation.
 *
 * The outcome of a subscribe with a `lastEventId`: a stream whose position
 * (`started`'s `eventId`, a channel's) is that id resumed, and that is known
 * at once; otherwise its first value says — a resync (with the reason the
 * signal carries) or anything else (it resumed) — or its end does.
 */
export class SubscriptionProbe {
  private readonly startedAt = performance.now()
  /** `started` was sent. */
  private running = false
  /** The start event was told. */
  private decided = false

  constructor(
    private readonly hooks: ServerHooks,
    private readonly site: HookSite,
    private readonly connection: ConnectionRef,
    private readonly id: number,
    private readonly path: string,
    private readonly trace: TraceContext | undefined,
    private readonly lastEventId: string | undefined,
  ) {}

  /** `started` was sent, with the stream's position. */
  started(position: string | undefined): void {
    this.running = true
    if (this.lastEventId === undefined) this.decide('started')
    else if (position !== undefined && position === this.lastEventId) this.decide('resumed')
  }

  /** A value was written: decides a pending start, and tells `onDeliver` of a channel's event. */
  sent(value: unknown): void {
    if (!this.decided) {
      if (isResync(value)) {
        const reason = value.reason
        this.decide('resync', reason === 'lagging' ? undefined : reason)
      } else {
        this.decide('resumed')
      }
    }
    if (this.hooks.observesDelivery && isTracked(value)) this.hooks.delivered(this.site, this.connection, this.path, value.id, traceOf(value))
  }

  /**
   * The subscription ended. Before `started` it never ran: its start is
   * told as `refused`, with the error that ended it, and no end follows.
   */
  ended(reason: SubscriptionEnd, error: RpcError): void {
    if (!this.running) {
      this.decided = true
      return this.hooks.subscription(this.site, { ...this.head(), phase: 'start', outcome: 'refused', error })
    }
    if (!this.decided) this.decide('resumed')
    const event: ServerSubscriptionEvent = {
      phase: 'end',
      connection: this.connection,
      id: this.id,
      path: this.path,
      reason,
      durationMs: performance.now() - this.startedAt,
    }
    if (reason === 'error') event.error = error
    this.hooks.subscription(this.site, event)
  }

  private decide(outcome: 'started' | 'resumed' | 'resync', reason?: Exclude<ResyncReason, 'lagging'>): void {
    this.decided = true
    const event: ServerSubscriptionEvent = { ...this.head(), phase: 'start', outcome }
    if (reason !== undefined) event.reason = reason
    this.hooks.subscription(this.site, event)
  }

  /** The fields every start has; `known`, since a probe exists only for a procedure the router has. */
  private head() {
    return { connection: this.connection, id: this.id, path: this.path, known: true, trace: this.trace, resuming: this.lastEventId !== undefined }
  }
}

/**
 * A subscribe refused before any subscription existed (a limit, an unknown
 * path, a bad input, the rate limit): its start, as `refused`.
 */
export function subscriptionRefused(
  hooks: ServerHooks,
  site: HookSite,
  connection: ConnectionRef,
  message: { id: number; path: string; lastEventId?: string | undefined; trace?: unknown },
  known: boolean,
  error: RpcError,
): void {
  hooks.subscription(site, {
    phase: 'start',
    connection,
    id: message.id,
    path: message.path,
    known,
    trace: traceOfMessage(message),
    resuming: message.lastEventId !== undefined,
    outcome: 'refused',
    error,
  })
}

function hookError(hook: string, cause: unknown): RpcError {
  return new RpcError('INTERNAL', `instrumentation ${hook} threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
}
