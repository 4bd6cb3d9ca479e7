import type { IncomingMessage } from 'node:http'
import type { AnyClientRouter, AnyRouter, inferRouterContext, KeepAliveOptions, MaybePromise, PayloadLimits, ProcedureType, RpcError, Serializer, StreamOptions } from '@wirecall/core'
import type { ServerInstrumentation } from './instrumentation'
import type { IdempotencyOptions } from './session/idempotency'
import type { SchemaEndpointOptions } from './session/schema-endpoint'

/** What `createContext` receives, once per connection. */
export interface CreateContextOptions {
  /**
   * The HTTP upgrade request: headers, cookies, remote address. For a
   * connection served through `server.opened()` (another socket library),
   * a stand-in that has only `headers`, `url` and `socket.remoteAddress`.
   */
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
  /** The upgrade request, as `createContext` gets it. */
  req: IncomingMessage
  /**
   * Set when the error ended the connection: the close code the server
   * sent (4403 for a refused origin, 1013 over `maxConnections`, 4401 when
   * `createContext` refused, ...), or a close code `ws` sent for a frame it
   * refused (1009 over `maxPayload`). Unset for the errors of calls and
   * subscriptions, and for an upgrade refused with a plain HTTP answer
   * (no `wirecall.v1` subprotocol: 400; during shutdown: 503).
   */
  closeCode?: number
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
   * @default compactSerializer (superjson's format, without superjson), with plain JSON values passed through untouched
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
   * Most arrays and objects one frame may hold, counted by a scan before
   * it is parsed; a frame with more closes with 1009, as a frame over
   * `maxPayload` does. `JSON.parse` pays for each (about 100 ns, plus the
   * garbage collection after), so this bounds how long one frame can hold
   * the event loop: 1 MiB of empty arrays would otherwise take 100 ms.
   * @default 100_000
   */
  maxFrameContainers?: number
  /**
   * permessage-deflate compression. Off by default: it costs CPU and memory
   * per connection, and most RPC payloads are small. `maxPayload` holds
   * after decompression, so a small frame that inflates to gigabytes is
   * refused with 1009 all the same. `true` uses `ws`'s defaults; an object
   * is passed to `ws` as is.
   * @default false
   */
  perMessageDeflate?: boolean | Record<string, unknown>
  /**
   * Flow control towards slow readers, through the socket's
   * `bufferedAmount`. See `docs/security.md`.
   * @default { highWaterMark: 1_048_576, lowWaterMark: 262_144, maxBufferedAmount: 8_388_608, slowConsumerTimeoutMs: 30_000 }
   */
  backpressure?: BackpressureOptions
  /**
   * Most calls one connection may have in flight; the next one gets
   * `TOO_MANY_REQUESTS` and the connection lives.
   * @default 1_000
   */
  maxInFlightCalls?: number
  /**
   * Most live subscriptions on one connection; the next one gets
   * `TOO_MANY_REQUESTS` and the connection lives.
   * @default 1_000
   */
  maxSubscriptions?: number
  /**
   * What a connection may send, as two token buckets. Messages:
   * `messagesPerSecond` sustained, `burst` at once; a message over the limit
   * gets `TOO_MANY_REQUESTS` (a ping goes unanswered), and a peer that keeps
   * sending past it is closed with 1008. Bytes: `bytesPerSecond` sustained,
   * `burstBytes` at once; a frame over the limit waits, unread, until the
   * bucket refills, so one peer cannot spend more than its share of the
   * server's time parsing. `false` turns both off.
   * @default { messagesPerSecond: 100_000, burst: 100_000, bytesPerSecond: 8_388_608, burstBytes: 8_388_608 }
   */
  rateLimit?: RateLimitOptions | false
  /**
   * Origins allowed to open a connection: a list of exact origins
   * (`'https://app.example.com'`), or a predicate. A connection from any
   * other origin is accepted by the WebSocket handshake and then closed at
   * once with 4403 (`origin not allowed`): no `init` is read, no context is
   * made, and the official client stops with `FORBIDDEN` instead of
   * retrying. Browsers always send `Origin`, so this is the defence against
   * cross-site WebSocket hijacking when you authenticate with cookies.
   *
   * A request with no `Origin` header is not from a browser page (Node
   * services, native apps, CLIs send none), so it cannot be a cross-site
   * hijack: a list lets it in, unless `requireOrigin` is set. A predicate
   * receives `undefined` for it and decides itself; one that throws
   * refuses, as `false` does.
   *
   * @example
   * ```ts
   * createRpcServer({ router, allowedOrigins: ['https://app.example.com'] })
   * createRpcServer({ router, allowedOrigins: (origin) => origin === undefined || origin.endsWith('.example.com') })
   * ```
   * @default undefined (every origin)
   */
  allowedOrigins?: readonly string[] | ((origin: string | undefined, req: IncomingMessage) => boolean)
  /**
   * Refuses a connection whose upgrade has no `Origin` header (closed with
   * 4403, `Origin header required`), whatever `allowedOrigins` says: for a
   * server that only browsers may use. The predicate form of
   * `allowedOrigins` then never receives `undefined`.
   * @default false (a request without `Origin` is not a browser's, and is let in)
   */
  requireOrigin?: boolean
  /**
   * Most open connections; past it an upgrade gets a WebSocket closed with
   * 1013 (try again later).
   * @default 10_000
   */
  maxConnections?: number
  /**
   * Most open connections from one remote address (`req.socket.remoteAddress`;
   * behind a proxy, every client shares the proxy's). Past it: 1013.
   * @default undefined (no per-address cap)
   */
  maxConnectionsPerIp?: number
  /**
   * Largest `init` (or `reinit`) frame, in bytes — the bound on
   * `connectionParams`. A larger one closes the connection with 4413.
   * @default 16_384
   */
  maxConnectionParamsBytes?: number
  /**
   * Bounds on payloads from clients (inputs, connection params), checked
   * before the serializer walks them: nesting depth, bigint digits,
   * superjson reference paths, and which rich types are accepted.
   * @default { maxDepth: 64, maxBigIntDigits: 1_000, maxReferencePaths: 1_000, allowAnnotations: [] }
   */
  payloadLimits?: PayloadLimits
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
   * Called once for every error sent to a caller, and once for every
   * connection the server refuses or closes because of the peer or a limit
   * (origin, capacity, `createContext`, subprotocol, init timeout, oversized
   * or malformed frames, floods, slow readers), with `closeCode` set. Not
   * for a peer that closes by itself, nor for `server.close()`. Log here:
   * the caller sees only the masked error. See `docs/server.md`.
   */
  onError?: (opts: ErrorHandlerOptions) => void
  /**
   * Hooks that see what the server does, for traces, metrics and logs:
   * connections opened and closed, each call (wrapped, so a context set
   * around `next()` reaches the resolver), subscription handshakes and
   * ends, channel events delivered, backpressure. `@wirecall/otel`'s
   * `wirecallOtel()` is one; a logger plugs in the same way. A hook that
   * throws is reported to `onError` and the call or connection goes on.
   * Without it, the server builds no event and pays one check per place.
   * See `docs/observability.md`.
   *
   * @example
   * ```ts
   * createRpcServer({ router, instrumentation: [wirecallOtel({ tracer, meter })] })
   * ```
   * @default undefined (none)
   */
  instrumentation?: readonly ServerInstrumentation[]
  /**
   * Answers the reserved query `$wirecall.describe` (`SCHEMA_ENDPOINT_PATH`)
   * with the API's manifest and its AsyncAPI 3.0 document, so that
   * `wirecall generate types --url ws://…` (and `generate schema --url`)
   * can generate from this running server. Off, the path is unknown like
   * any other (`NOT_FOUND`).
   *
   * It tells whoever can connect every procedure, its input and output
   * schemas: keep it off in production unless the API is public anyway
   * (turn it on in development or on a staging server). It needs
   * `@wirecall/codegen` installed beside the server (loaded on the first
   * call, built once); without it the call answers `NOT_IMPLEMENTED`. The
   * call counts against the connection's limits like any call. The object
   * form names the public URL written into the AsyncAPI document.
   *
   * @example
   * ```ts
   * createRpcServer({ router, schemaEndpoint: process.env.NODE_ENV !== 'production' })
   * ```
   * @default false
   */
  schemaEndpoint?: boolean | SchemaEndpointOptions
  /**
   * Bounds of the server's calls to client procedures
   * (`peer.ui.confirm.call()`): how long one waits for the client's answer
   * unless the call says otherwise (then `TIMEOUT`, and the client is told
   * to stop), and how many may wait on one connection at once (the next
   * rejects with `TOO_MANY_REQUESTS` without being sent).
   * @default { timeoutMs: 10_000, maxInFlight: 32 }
   */
  peerCalls?: PeerCallsOptions
  /**
   * The client router the clients implement (from `defineClientRouter`).
   * With it, `server.connections()` is typed (`connection.peer.ui.confirm.call()`),
   * every answer of a client is checked against the procedure's output
   * schema (`INTERNAL` when it fails: the client is not trusted), and a
   * path the router does not declare is refused `NOT_IMPLEMENTED` even if a
   * client advertised it. Without it, the server trusts what clients
   * advertise and answer.
   *
   * @example
   * ```ts
   * const server = createRpcServer({ router: appRouter, clientRouter })
   * for (const { peer } of server.connections()) void peer.ui.notify.call({ text: 'Deploying in 5 minutes' })
   * ```
   * @default undefined
   */
  clientRouter?: AnyClientRouter
  /**
   * Bounds of every client stream (a procedure input declared with
   * `stream(schema)`), where the procedure's own `stream(schema, options)`
   * does not set them: the credit `window` (chunks the client may send
   * ahead of the resolver), and per stream `maxChunks` and `maxBytes` (the
   * chunk messages' JSON length, summed: past either, `PAYLOAD_TOO_LARGE`)
   * and `maxDurationMs` (from the call to the client's `end`: past it,
   * `TIMEOUT`). See `docs/bidirectional.md`.
   *
   * @example
   * ```ts
   * createRpcServer({ router, streams: { window: 64, maxBytes: 256 * 1024 * 1024 } })
   * ```
   * @default { window: 16, maxChunks: 100_000, maxBytes: 67_108_864, maxDurationMs: 600_000 }
   */
  streams?: StreamOptions
}

/** Options of `peerCalls`; durations in milliseconds. */
export interface PeerCallsOptions {
  /** How long a call to a client waits for its answer when it sets no `timeoutMs`; an integer from 1 to 2_147_483_647. @default 10_000 */
  timeoutMs?: number
  /** Most calls waiting for one client's answers at once. @default 32 */
  maxInFlight?: number
}

/** Options of `backpressure`; sizes in bytes. */
export interface BackpressureOptions {
  /** Above this `bufferedAmount`, the server stops pulling from the connection's subscriptions. @default 1_048_576 (1 MiB) */
  highWaterMark?: number
  /** Pulling resumes once `bufferedAmount` is back under this. @default 262_144 (256 KiB) */
  lowWaterMark?: number
  /** A connection whose `bufferedAmount` goes over this is closed with 1013 at once. @default 8_388_608 (8 MiB) */
  maxBufferedAmount?: number
  /** A connection above the high-water mark for this long is closed with 1013. @default 30_000 */
  slowConsumerTimeoutMs?: number
}

/** Options of `rateLimit`. */
export interface RateLimitOptions {
  /** Sustained rate. @default 1_000 */
  messagesPerSecond?: number
  /** How many messages may arrive at once (the bucket's size). @default 2_000 */
  burst?: number
  /**
   * Sustained bytes per second, counted as each frame's length in
   * characters (never more than its size in bytes). Frames beyond it wait;
   * see `docs/security.md`. @default 8_388_608 (8 MiB)
   */
  bytesPerSecond?: number
  /** How many bytes of frames may arrive at once; never less than `maxPayload`. @default 8_388_608 (8 MiB) */
  burstBytes?: number
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
  maxFrameContainers: 100_000,
  exposeInternalErrors: false,
  /** Most messages one array frame may hold. */
  maxBatchSize: 1_000,
  /** How long `close()` waits for peers to finish the closing handshake before cutting them off. */
  closeTimeoutMs: 1_000,
  keepAlive: { intervalMs: 30_000, timeoutMs: 10_000 },
  backpressure: { highWaterMark: 1_048_576, lowWaterMark: 262_144, maxBufferedAmount: 8_388_608, slowConsumerTimeoutMs: 30_000 },
  maxInFlightCalls: 1_000,
  maxSubscriptions: 1_000,
  rateLimit: { messagesPerSecond: 100_000, burst: 100_000, bytesPerSecond: 8_388_608, burstBytes: 8_388_608 },
  maxConnections: 10_000,
  maxConnectionParamsBytes: 16_384,
  /** `ws` receiver bounds: fragments of one message, and chunks buffered before a message completes. */
  maxFragments: 1_024,
  maxBufferedChunks: 4_096,
  /** Restart mode of `close()`. */
  graceMs: 10_000,
  reconnectWindowMs: 5_000,
  /** The server's calls to client procedures. */
  peerCalls: { timeoutMs: 10_000, maxInFlight: 32 },
  /** Bounds of client streams (the `streams` option). */
  streams: { window: 16, maxChunks: 100_000, maxBytes: 67_108_864, maxDurationMs: 600_000 },
} as const
