import type { RpcError, TraceContext } from '@wirecall/core'
import type { ConnectionState } from './options'

/**
 * Hooks that see what a client does: pass an array of them as
 * `createRpcClient({ instrumentation })`. Every hook is optional, and with
 * no `instrumentation` the client pays one `undefined` check per event.
 * `@wirecall/otel` is one implementation; a logger plugs in the same way
 * (see docs/observability.md). A hook must not throw: what it throws is
 * ignored. `onCall` wraps, the first instrumentation outermost.
 *
 * @example
 * ```ts
 * const timing: ClientInstrumentation = {
 *   onCall: async (call, next) => {
 *     const started = performance.now()
 *     const outcome = await next()
 *     console.log(call.path, outcome.status, performance.now() - started)
 *     return outcome
 *   },
 *   onReconnect: ({ code, attempt }) => console.log('reconnecting', code, attempt),
 * }
 * createRpcClient<AppRouter>({ url, instrumentation: [timing] })
 * ```
 */
export interface ClientInstrumentation {
  /**
   * Wraps one call (a query, a mutation, or `updateParams`) from the moment
   * it is made to its settling, retries after reconnects included. Pass a
   * trace context to `next()` to send it with the call (the first one
   * passed, from the outermost instrumentation, wins). Must call `next()`
   * once, synchronously (the call is made when `next()` is), and return its
   * outcome.
   */
  onCall?(call: ClientCallEvent, next: (trace?: TraceContext) => Promise<ClientCallOutcome>): Promise<ClientCallOutcome>
  /**
   * A subscription is about to be sent, first or again after a reconnect:
   * return a trace context to send with it. Then its handshake's outcome,
   * and its end.
   */
  onSubscription?(event: ClientSubscriptionEvent): TraceContext | undefined | void
  /** An event arrived for a subscription, with the trace context its publisher recorded (if any). */
  onEvent?(event: ClientEventEvent): void
  /** The connection state changed. */
  onStateChange?(event: { from: ConnectionState; to: ConnectionState }): void
  /** A reconnect was scheduled after the socket closed (or an attempt failed). */
  onReconnect?(event: ClientReconnectEvent): void
  /** The server answered a keep-alive ping. */
  onPong?(event: { rttMs: number }): void
}

/** What {@link ClientInstrumentation.onCall} receives. */
export interface ClientCallEvent {
  /** `query`, `mutation`, or `reinit` for `updateParams`. */
  method: 'query' | 'mutation' | 'reinit'
  /** The procedure's dotted path; `undefined` for a `reinit`. */
  path: string | undefined
  /** The input as the caller passed it; only read it when you mean to record inputs. */
  input: unknown
  /** The URL of the client's current (or last) socket, for `server.address`/`server.port`; `undefined` before the first connect when `url` is a function. */
  url?: string | undefined
}

/**
 * How a client call settled: `cancelled` when the caller aborted it, it
 * timed out, or the client was closed under it (codes `CANCELLED` and
 * `TIMEOUT`, not a failure of the server's); `error` for any other
 * `RpcError`.
 */
export type ClientCallOutcome = { status: 'ok' } | { status: 'error'; error: RpcError } | { status: 'cancelled'; error: RpcError }

/** What {@link ClientInstrumentation.onSubscription} receives. */
export type ClientSubscriptionEvent = ClientSubscriptionRef &
  (
    | {
        /** About to send the `subscribe` message; `resubscribe` after a reconnect. */
        phase: 'send'
        resubscribe: boolean
        /** The position it asks to resume after, if any. */
        lastEventId: string | undefined
        /** The URL of the socket it goes on, for `server.address`/`server.port`. */
        url?: string | undefined
      }
    | {
        /** The server started it: `resumed` as in `onStarted`; a first start or a failed resume has `false`, and a `resync` follows a failed resume. */
        phase: 'started'
        resumed: boolean
      }
    | {
        /** The server could not resume it: the app reloads its state (`onResync`). */
        phase: 'resync'
      }
    | {
        /** It ended; nothing more is reported for this id. */
        phase: 'end'
        /** `complete` (the server ended it), `error` (the server, or the client closing, or a cap), `unsubscribed` (the app stopped it). */
        reason: 'complete' | 'error' | 'unsubscribed'
        error?: RpcError | undefined
      }
  )

/** Which subscription an event is about. */
export interface ClientSubscriptionRef {
  /** Its id: the same across resubscribes, so it ties a subscription's phases (and events) together. */
  id: number
  /** The procedure's dotted path. */
  path: string
}

/** What {@link ClientInstrumentation.onEvent} receives. */
export interface ClientEventEvent extends ClientSubscriptionRef {
  /** The event's id, for a tracked event. */
  eventId: string | undefined
  /** The trace context its publisher recorded, as the server sent it (a `traceparent` to link a span to, not to trust blindly). */
  trace: TraceContext | undefined
}

/** What {@link ClientInstrumentation.onReconnect} receives. */
export interface ClientReconnectEvent {
  /**
   * The close code of the socket that went, or of the attempt that failed
   * (1006 for a network drop or an attempt that never connected; 1012 for a
   * restart). A bounded value: fit for a metric's attribute.
   */
  code: number
  /** Which attempt this is, from 1; back to 1 once a connection has stayed up. */
  attempt: number
  /** How long the client waits before it. */
  delayMs: number
  /** Why, as an `RpcError` (`CONNECTION_LOST`, `OVERLOADED`...; the close code and reason in its `data`). */
  error: RpcError
}
