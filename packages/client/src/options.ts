import type { MaybePromise, Serializer } from '@wirecall/core'
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
   * Connect on first use instead of at creation.
   * @default false
   */
  lazy?: boolean
  /** Must match the server's. @default superjson, with plain JSON passed through */
  serializer?: Serializer
}

/** Defaults of {@link RpcClientOptions}; the docs quote these. */
export const clientDefaults = {
  timeoutMs: 30_000,
  lazy: false,
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
