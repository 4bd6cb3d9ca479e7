import type { IncomingMessage } from 'node:http'
import type { ChannelInstrumentation, ResyncReason, RpcError, TraceContext } from '@wirecall/core'

/**
 * Hooks that see what a server does, for traces, metrics and logs: pass an
 * array of them as `createRpcServer({ instrumentation })`. Every hook is
 * optional, and with no `instrumentation` the server pays one `undefined`
 * check per event. `@wirecall/otel` is one implementation; a logger or a
 * metrics system of your own plugs in the same way (see
 * docs/observability.md).
 *
 * A hook must not throw: what it throws is reported to `onError` and
 * otherwise ignored. Hooks run in the array's order; `onCall` wraps, the
 * first instrumentation outermost.
 *
 * Attribute values worth recording are bounded: a path, a method, a close
 * code, an error code, an outcome. Inputs are handed over only on request
 * (`readInput()`), never channel topics or connection params.
 *
 * @example
 * ```ts
 * const logging: ServerInstrumentation = {
 *   onCall: async (call, next) => {
 *     const started = performance.now()
 *     const outcome = await next()
 *     log.info({ path: call.path, status: outcome.status, ms: performance.now() - started })
 *     return outcome
 *   },
 *   onClose: ({ code, durationMs }) => log.info({ code, durationMs }, 'connection closed'),
 * }
 * createRpcServer({ router, instrumentation: [logging] })
 * ```
 */
export interface ServerInstrumentation extends ChannelInstrumentation {
  /** A WebSocket was admitted and its session opened (before `init`). Every connection seen here gets exactly one {@link onClose}. */
  onConnection?(event: ServerConnectionEvent): void
  /**
   * Wraps one call (a query or mutation, or a `reinit`) from the moment it
   * is looked up to the moment its answer is written, or it is cancelled.
   * The resolver runs inside `next()`, so a context set around `next()`
   * (OpenTelemetry's `context.with`, an `AsyncLocalStorage`) is the
   * resolver's too. Must call `next()` once and return its outcome.
   */
  onCall?(call: ServerCallEvent, next: () => Promise<CallOutcome>): Promise<CallOutcome>
  /**
   * A subscription's handshake, once its outcome is known (`started`,
   * `resumed`, `resync`, or `refused` when an error or an unsubscribe ended
   * it before it ran), and later its end. Every start other than `refused`
   * gets exactly one end; a refused one gets none.
   */
  onSubscription?(event: ServerSubscriptionEvent): void
  /** An event of a channel (one that carries a trace context, or every event when this hook is set) was written to one subscriber. */
  onDeliver?(event: ServerDeliverEvent): void
  /** The connection's send buffer crossed the high-water mark (`pause`), drained below the low-water mark (`resume`), or the reader was cut off (`slow-consumer`). */
  onBackpressure?(event: ServerBackpressureEvent): void
  /** The connection closed, for whatever reason. */
  onClose?(event: ServerCloseEvent): void
}

/**
 * One connection, the same object in every event about it: a key for a
 * `WeakMap` where an instrumentation keeps its own state (a span, a start time).
 */
export interface ConnectionRef {
  /** Counts the server's connections from 1; for logs. */
  readonly id: number
  /** The peer's address, as the socket reports it. */
  readonly remoteAddress: string | undefined
}

/** What {@link ServerInstrumentation.onConnection} receives. */
export interface ServerConnectionEvent {
  connection: ConnectionRef
  /** The upgrade request (a stand-in with headers and url for sockets handed over by `server.opened()`). */
  req: IncomingMessage
  /** The upgrade request's `traceparent`/`tracestate`/`baggage` headers, checked; `undefined` without a valid one. */
  trace: TraceContext | undefined
}

/** What {@link ServerInstrumentation.onCall} receives. */
export interface ServerCallEvent {
  connection: ConnectionRef
  /** The call's id on this connection. */
  id: number
  /** `query` or `mutation`; `reinit` for new connection params. */
  method: 'query' | 'mutation' | 'reinit'
  /** The procedure's dotted path as the client sent it; `undefined` for a `reinit`. */
  path: string | undefined
  /** Whether the router has a procedure of that kind at that path (an instrumentation records `_OTHER` for the rest). */
  known: boolean
  /** The `trace` field of the message, checked; `undefined` without a valid one. */
  trace: TraceContext | undefined
  /** The mutation's idempotency key, if it has one. */
  idempotencyKey: string | undefined
  /** The decoded input (before validation); only call it when you mean to record inputs. Throws what decoding throws. */
  readInput(): unknown
}

/** How a call ended, as {@link ServerInstrumentation.onCall}'s `next()` resolves. */
export type CallOutcome =
  | { status: 'ok' }
  | { status: 'error'; error: RpcError }
  /** The caller cancelled, its connection closed, or the server shut down: nothing was sent. */
  | { status: 'cancelled'; reason: 'cancel' | 'connection-closed' }

/** What {@link ServerInstrumentation.onSubscription} receives. */
export type ServerSubscriptionEvent =
  | {
      phase: 'start'
      connection: ConnectionRef
      id: number
      path: string
      known: boolean
      trace: TraceContext | undefined
      /** Whether the subscribe carried a `lastEventId`. */
      resuming: boolean
      /**
       * `started` (nothing to resume from), `resumed` (continued after the
       * `lastEventId`, nothing missed), `resync` (could not: the client
       * reloads), or `refused` (an error before it started).
       */
      outcome: 'started' | 'resumed' | 'resync' | 'refused'
      /**
       * Why it had to resync: the history no longer holds the id (`trimmed`),
       * the id is not this channel's (`unknown-id`), or, with a channel
       * backend, the stream restarted (`stream-reset`), is behind the id
       * (`position-lost`) or is too far ahead of it (`too-far-behind`).
       */
      reason?: Exclude<ResyncReason, 'lagging'> | undefined
      /** For `refused`: the error sent. */
      error?: RpcError | undefined
    }
  | {
      phase: 'end'
      connection: ConnectionRef
      id: number
      path: string
      /** `complete` (the stream ended), `error`, `unsubscribed` (by the client), `closed` (the connection went). */
      reason: 'complete' | 'error' | 'unsubscribed' | 'closed'
      error?: RpcError | undefined
      /** From its start to now. */
      durationMs: number
    }

/** What {@link ServerInstrumentation.onDeliver} receives. */
export interface ServerDeliverEvent {
  connection: ConnectionRef
  /** The subscription's path. */
  path: string
  /** The event's id. */
  eventId: string
  /** The context its publisher recorded, if any. */
  trace: TraceContext | undefined
}

/** What {@link ServerInstrumentation.onBackpressure} receives. */
export interface ServerBackpressureEvent {
  connection: ConnectionRef
  kind: 'pause' | 'resume' | 'slow-consumer'
  /** The socket's `bufferedAmount` when it happened, in bytes. */
  bufferedAmount: number
}

/** What {@link ServerInstrumentation.onClose} receives. */
export interface ServerCloseEvent {
  connection: ConnectionRef
  /** The WebSocket close code (1006 when the connection ended without one). */
  code: number
  reason: string
  /** From {@link ServerInstrumentation.onConnection} to now. */
  durationMs: number
}
