import type { IncomingMessage } from 'node:http'
import type { AnyRouter, inferRouterContext, KeepAliveOptions, MaybePromise, ProcedureType, RpcError, Serializer } from '@wirecall/core'
import type { IdempotencyOptions } from './idempotency'

/** What `createContext` receives, once per connection. */
export interface CreateContextOptions {
  /** The HTTP upgrade request: headers, cookies, remote address. */
  req: IncomingMessage
  /**
   * What the client sent as `connectionParams` in its `init` message,
   * deserialized. Untrusted: validate it before use.
   */
  connectionParams: unknown
}

/** What `onError` receives. */
export interface ErrorHandlerOptions {
  /**
   * The error as an `RpcError`, before masking: for an exception that was not
   * an `RpcError` it is `INTERNAL` with the original message, and the original
   * is `error.cause`. The caller sees the masked version (`Internal server
   * error`) unless `exposeInternalErrors` is on.
   */
  error: RpcError
  /** The procedure's path, when the error belongs to a call. */
  path: string | undefined
  type: ProcedureType | undefined
  /** The connection's context, once `createContext` has produced it. */
  ctx: object | undefined
  req: IncomingMessage
}

type ContextOption<TRouter extends AnyRouter> = {} extends inferRouterContext<TRouter>
  ? {
      /** Builds the context for a connection. Throw (`UNAUTHORIZED`, `FORBIDDEN`) to refuse it. */
      createContext?: (opts: CreateContextOptions) => MaybePromise<inferRouterContext<TRouter>>
    }
  : {
      /** Builds the context for a connection. Throw (`UNAUTHORIZED`, `FORBIDDEN`) to refuse it. */
      createContext: (opts: CreateContextOptions) => MaybePromise<inferRouterContext<TRouter>>
    }

/** Options of {@link createRpcServer}. */
export type RpcServerOptions<TRouter extends AnyRouter> = ContextOption<TRouter> & {
  /** The API to serve. */
  router: TRouter
  /**
   * Turns payloads into JSON and back; must match the client's.
   * @default superjson, with plain JSON values passed through untouched
   */
  serializer?: Serializer
  /**
   * How long a new connection may take to send its `init` message before it
   * is closed with 4408. Stops peers from holding sockets open for free.
   * @default 5_000
   */
  initTimeoutMs?: number
  /**
   * Largest frame accepted, in bytes; a larger one closes the connection
   * with 1009. Far below `ws`'s own 100 MiB default on purpose.
   * @default 1_048_576 (1 MiB)
   */
  maxPayload?: number
  /**
   * Send the message of errors that are not `RpcError`s (and their stack in
   * `data.stack`) to callers. Useful in development; leaks internals in
   * production.
   * @default false
   */
  exposeInternalErrors?: boolean
  /**
   * Pings (WebSocket ping frames) a peer that has sent nothing for
   * `intervalMs`, and terminates it when nothing comes back within
   * `timeoutMs`: its calls and subscriptions are cleaned up at once instead
   * of when TCP finally gives up, minutes later. `false` turns it off.
   * @default { intervalMs: 30_000, timeoutMs: 10_000 }
   */
  keepAlive?: KeepAliveOptions | false
  /**
   * Bounds of the cache that makes mutations called with
   * `{ idempotent: true }` run once across reconnects. See `docs/reconnect.md`.
   * @default { ttlMs: 300_000, maxEntries: 10_000, maxBytes: 8_388_608 }
   */
  idempotency?: IdempotencyOptions
  /**
   * Called for every error sent to a caller, and for failed connection
   * set-ups. Log here: the caller sees only the masked error.
   */
  onError?: (opts: ErrorHandlerOptions) => void
}

/** Options of `server.close()`. Without them the server closes at once with 1001. */
export interface CloseOptions {
  /**
   * Restart mode (a deploy): how long calls in flight may take to finish.
   * Each connection closes with 1012 as soon as its own calls are done, or
   * when this runs out.
   * @default 10_000
   */
  graceMs?: number
  /**
   * Clients are told to reconnect at a moment spread over this window after
   * their connection closes, so a restarted server is not hit by every
   * client at once. At most one hour (`MAX_RESTART_DELAY_MS`).
   * @default 5_000
   */
  reconnectWindowMs?: number
}

/** Defaults for {@link RpcServerOptions}; the docs quote these. */
export const serverDefaults = {
  initTimeoutMs: 5_000,
  maxPayload: 1_048_576,
  exposeInternalErrors: false,
  /** Most messages one array frame may hold. */
  maxBatchSize: 1_000,
  /** How long `close()` waits for peers to finish the closing handshake before cutting them off. */
  closeTimeoutMs: 1_000,
  keepAlive: { intervalMs: 30_000, timeoutMs: 10_000 },
  /** Restart mode of `close()`. */
  graceMs: 10_000,
  reconnectWindowMs: 5_000,
} as const
