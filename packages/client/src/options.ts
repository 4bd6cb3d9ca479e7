import type { ClientHandlers } from './peer-handlers'
import type { KeepAliveOptions, MaybePromise, Serializer } from '@wirecall/core'
import type { ClientInstrumentation } from './instrumentation'
import type { WebSocketConstructor } from './websocket'

/** Connection params sent in the `init` message: a value, or a function evaluated on every connect. */
export type ConnectionParamsOption = Record<string, unknown> | (() => MaybePromise<Record<string, unknown> | undefined>)

/** Options of `createRpcClient`. */
export interface RpcClientOptions {
  /**
   * Server URL, `ws://` or `wss://`. A function is called on every connect,
   * so the URL can change (say, a fresh region).
   */
  url: string | (() => MaybePromise<string>)
  /**
   * The WebSocket implementation. Defaults to `globalThis.WebSocket`
   * (browsers, Node 22+, Deno, Bun); on Node 20 pass `WebSocket` from `ws`.
   */
  WebSocket?: WebSocketConstructor
  /**
   * Sent to the server's `createContext` in the first message — the place
   * for auth tokens, never the URL. A function is evaluated on every
   * connect, so a refreshed token is picked up.
   */
  connectionParams?: ConnectionParamsOption
  /**
   * Default time a call may take, from the moment it is made (waiting for
   * the connection included) to its answer. Past it the call rejects with
   * `TIMEOUT` and the server is told to cancel.
   * @default 30_000
   */
  timeoutMs?: number
  /**
   * Connect on first use instead of at creation, and close again (state
   * `idle`) after `idleTimeoutMs` with no call in flight and no
   * subscription. The next call connects again.
   * @default false
   */
  lazy?: boolean | LazyOptions
  /**
   * How the client restores a dropped connection: exponential backoff with
   * full jitter, starting over once a connection has stayed up for
   * `stableAfterMs`. `false`: a drop ends the client (state `closed`).
   * @default { minDelayMs: 500, maxDelayMs: 30_000, factor: 2, maxRetries: Infinity, stableAfterMs: 10_000 }
   */
  reconnect?: ReconnectOptions | false
  /**
   * Application-level pings, which work where ping frames are invisible
   * (browsers): when nothing has arrived for `intervalMs` the client pings,
   * and a connection that does not answer within `timeoutMs` is closed and
   * reconnected. A half-open link is detected within `intervalMs + timeoutMs`.
   * `false` turns it off.
   * @default { intervalMs: 20_000, timeoutMs: 10_000 }
   */
  keepAlive?: KeepAliveOptions | false
  /**
   * Longest time from opening a socket to the server's `ack`. A connection
   * attempt that takes longer (a black-holed network) is abandoned and
   * retried.
   * @default 10_000
   */
  connectTimeoutMs?: number
  /**
   * Bounds of the calls waiting to be written: made while connecting or
   * reconnecting, or while the socket is backed up (see `backpressure`).
   * Past either bound a new call rejects with `OVERLOADED`.
   * @default { maxCalls: 10_000, maxBytes: 4_194_304 }
   */
  offlineQueue?: OfflineQueueOptions
  /**
   * Flow control on the way out: while the socket's `bufferedAmount` is
   * above `highWaterMark` (the network is slower than the app), calls wait
   * in the queue — bounded by `offlineQueue`, `OVERLOADED` past it — and are
   * written as the socket drains, instead of piling up in the socket.
   * @default { highWaterMark: 1_048_576 }
   */
  backpressure?: { highWaterMark?: number }
  /** Must match the server's. @default compactSerializer (superjson's format, without superjson), with plain JSON passed through */
  serializer?: Serializer
  /**
   * Hooks that see every call, subscription, event, state change,
   * reconnect and pong: tracing (`wirecallOtel()` from `@wirecall/otel`),
   * metrics, logs. `onCall` wrappers compose, the first element outermost.
   * A hook that throws is ignored. With none, the client pays one
   * `undefined` check per event. See {@link ClientInstrumentation}.
   *
   * @example
   * ```ts
   * createRpcClient<AppRouter>({ url, instrumentation: [{ onReconnect: ({ code, delayMs }) => log.warn({ code, delayMs }, 'reconnecting') }] })
   * ```
   */
  instrumentation?: readonly ClientInstrumentation[]
  /**
   * The client procedures this client implements, from `implementClient`:
   * the server may call them (`peer.ui.confirm.call()`). Their paths are
   * advertised when the connection opens; see `docs/bidirectional.md`.
   *
   * @example
   * ```ts
   * createRpcClient<AppRouter>({ url, handlers: implementClient(clientRouter, { ui: { confirm: ({ text }) => window.confirm(text) } }) })
   * ```
   */
  handlers?: ClientHandlers
}

/** Options of `lazy`. */
export interface LazyOptions {
  /** Idle time after which the connection is closed. @default 30_000 */
  idleTimeoutMs?: number
}

/** Options of `reconnect`; durations in milliseconds. */
export interface ReconnectOptions {
  /** The first retry waits up to this long. @default 500 */
  minDelayMs?: number
  /** No retry waits longer than this. @default 30_000 */
  maxDelayMs?: number
  /** Each consecutive failure multiplies the longest wait by this. @default 2 */
  factor?: number
  /** Consecutive failed attempts after which the client gives up (`closed`, `CONNECTION_LOST`). @default Infinity */
  maxRetries?: number
  /** A connection open this long resets the backoff. @default 10_000 */
  stableAfterMs?: number
}

/** Options of `offlineQueue`. */
export interface OfflineQueueOptions {
  /** Most calls waiting for a connection. @default 10_000 */
  maxCalls?: number
  /** Most bytes (UTF-8 of their frames) of calls waiting for a connection. @default 4_194_304 (4 MiB) */
  maxBytes?: number
}

/** Defaults of {@link RpcClientOptions}; the docs quote these. */
export const clientDefaults = {
  timeoutMs: 30_000,
  lazy: false,
  idleTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  reconnect: { minDelayMs: 500, maxDelayMs: 30_000, factor: 2, maxRetries: Infinity, stableAfterMs: 10_000 },
  keepAlive: { intervalMs: 20_000, timeoutMs: 10_000 },
  offlineQueue: { maxCalls: 10_000, maxBytes: 4_194_304 },
  backpressure: { highWaterMark: 1_048_576 },
} as const

/**
 * Connection states: `idle` (no socket), `connecting` (socket opening, init
 * sent, waiting for the ack), `open`, `reconnecting` (after an unexpected
 * drop, while the client restores the connection by itself), `closed` (for
 * good: `close()` or a terminal close code).
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'

/** Per-call options. */
export interface CallOptions {
  /** Aborting rejects the call with `CANCELLED` and cancels it on the server. */
  signal?: AbortSignal | undefined
  /** Overrides the client's `timeoutMs` for this call. */
  timeoutMs?: number | undefined
}

/** Per-call options of a mutation. */
export interface MutationOptions extends CallOptions {
  /**
   * Safe to send again: if the connection drops while the mutation is in
   * flight, it is re-sent after the reconnect with the same idempotency
   * key, and the server answers from its first execution instead of running
   * it twice. Without it a mutation in flight rejects with
   * `CONNECTION_LOST` (at most once).
   */
  idempotent?: boolean | undefined
  /**
   * The key that identifies this mutation to the server (implies
   * `idempotent`). Defaults to a random UUID per call; pass your own (a form
   * submission id) to make a retry after a page reload idempotent too.
   * At most 128 characters.
   */
  idempotencyKey?: string | undefined
}

/**
 * Options of a mutation the server declared `.idempotent()`: it is sent
 * with an idempotency key, and re-sent safely after a dropped connection,
 * without being asked.
 */
export interface IdempotentMutationOptions extends MutationOptions {
  /**
   * The server declared this mutation idempotent, so this is `true` unless
   * set to `false`: then the call goes without a key and at most once (and
   * a mutation declared with `{ requireKey: true }` refuses it with
   * `BAD_REQUEST`).
   * @default true
   */
  idempotent?: boolean | undefined
}
