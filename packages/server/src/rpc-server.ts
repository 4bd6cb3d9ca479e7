import type { IncomingMessage, Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { Duplex } from 'node:stream'
import type { WebSocket } from 'ws'
import type { CloseOptions } from './options'
import type { RpcSocket, SocketEvents, UpgradeInfo } from './session/socket'

/** Where `listen()` ended up listening. */
export interface ListenInfo {
  port: number
  host: string
  /** `ws://host:port/path`, ready for `createRpcClient({ url })`. */
  url: string
}

/** What `server.stats()` returns. */
export interface ServerStats {
  connections: number
  inFlightCalls: number
  subscriptions: number
  /** Closed connections whose resolvers or generators have not finished yet. */
  unwinding: number
  /** Idempotency keys held (running and finished). */
  idempotencyKeys: number
  /**
   * The server's calls to client procedures waiting for an answer, on
   * every connection. Each leaves at once when it settles (answer,
   * timeout, cancel, close), so it is 0 once the calls are done.
   */
  peerCalls: number
}

/**
 * One open connection, as `server.connections()` lists it: what a
 * resolver would get as `ctx` and `peer` on it.
 */
export interface ServerConnection<TCtx extends object = {}, TPeer extends object = {}> {
  /** Its context, as `createContext` made it (or the latest accepted `reinit`) when `connections()` was called. */
  readonly ctx: TCtx
  /** Its client, to call the client procedures it implements: `peer.ui.confirm.call(input)`. Typed with the `clientRouter` option. */
  readonly peer: TPeer
}

/** Options of `listen()`. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. */
  port: number
  /** Interface to bind. @default all interfaces, as Node's `server.listen` */
  host?: string
  /** Path clients connect to. @default "/" */
  path?: string
}

/** Options of `attach()`. */
export interface AttachOptions {
  /** Path clients connect to; upgrades on other paths are left alone. @default "/" */
  path?: string
}

/**
 * A wirecall server; see {@link createRpcServer}. `TCtx` is the router's
 * context, `TPeer` the `peer` of its connections (typed by the
 * `clientRouter` option).
 */
export interface RpcServer<TCtx extends object = {}, TPeer extends object = {}> {
  /** Starts a standalone HTTP server that only accepts wirecall upgrades. */
  listen(options: ListenOptions): Promise<ListenInfo>
  /**
   * Mounts on an existing `http`/`https` server (Express, Fastify, Koa, Hono
   * node-server...). Only upgrades on `path` are taken; plain HTTP requests
   * and upgrades on other paths are left to their own handlers. When every
   * `upgrade` listener is a wirecall server (one or several, on different
   * paths), an upgrade on another path is refused with 404 rather than left
   * hanging. Throws if a wirecall server is already attached at `path`.
   */
  attach(server: HttpServer | HttpsServer, options?: AttachOptions): void
  /**
   * Completes an upgrade you routed yourself. Refuses a missing subprotocol
   * with HTTP 400; an origin that `allowedOrigins` refuses gets the
   * WebSocket, closed at once with 4403.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Serves an already-upgraded `ws` WebSocket. */
  handleConnection(ws: WebSocket, req: IncomingMessage): void
  /**
   * Serves a connection from any other socket library (Bun's server,
   * uWebSockets.js, a test double): wrap its socket as an {@link RpcSocket},
   * call `opened` once the WebSocket is open, and feed the returned events
   * every frame and the close. The session is one of this server's like any
   * other: limits, `stats()`, `close()` and restarts include it.
   *
   * The upgrade itself is the adapter's: check the `wirecall.v1`
   * subprotocol and `maxPayload` there if the library can (a socket whose
   * `protocol` is not `wirecall.v1` is closed with 4400; a frame over
   * `maxPayload` is closed with 1009 here otherwise). `allowedOrigins` and
   * the connection caps are applied here, as with `ws`: a close (4403,
   * 1013), reported to `onError`. `createContext` and `onError` receive a stand-in
   * for `req` that has only `headers`, `url` and `socket.remoteAddress`.
   *
   * @example
   * ```ts
   * // Bun
   * Bun.serve({
   *   fetch: (req, srv) => srv.upgrade(req, { data: { headers: req.headers.toJSON(), url: req.url } }),
   *   websocket: {
   *     open(ws) { ws.data.events = rpc.opened(bunSocket(ws), ws.data) },
   *     message(ws, data) { ws.data.events.receive(data) },
   *     close(ws) { ws.data.events.closed() },
   *   },
   * })
   * ```
   */
  opened(socket: RpcSocket, info: UpgradeInfo): SocketEvents
  /** Open connections; for metrics and tests. */
  readonly connectionCount: number
  /**
   * The connections that are set up (`createContext` accepted them) right
   * now, newest state: a snapshot, so one that closes later stays in the
   * array and its calls reject with `CONNECTION_LOST`. To call many
   * clients at once, hand it to `callEach`.
   *
   * @example
   * ```ts
   * for await (const outcome of callEach(server.connections(), ({ peer }) => peer.ui.confirm.call({ text: 'Restart?' }))) {
   *   if (outcome.ok) console.log(outcome.target.ctx, outcome.value)
   * }
   * ```
   */
  connections(): ServerConnection<TCtx, TPeer>[]
  /**
   * What the server holds right now, for metrics, health checks and leak
   * tests: open connections, calls in flight and live subscriptions on
   * them, and connections that have closed but whose resolvers or
   * generators are still unwinding.
   */
  stats(): ServerStats
  /**
   * Stops accepting, closes every connection, aborts every call and
   * subscription in flight, and detaches from the servers it was attached
   * to. Resolves when every socket is gone and every resolver and
   * subscription generator has finished (their `finally` blocks ran), or
   * after `closeTimeoutMs` (1 s) for whatever ignores its abort signal.
   *
   * Without options, every connection closes at once with 1001 (going away:
   * clients retry with backoff). With options it is a restart (a deploy):
   * each client is told when to reconnect (spread over
   * `reconnectWindowMs`), its calls in flight may finish within `graceMs`,
   * and then its connection closes with 1012.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => server.close({ graceMs: 10_000, reconnectWindowMs: 5_000 }))
   * ```
   */
  close(options?: CloseOptions): Promise<void>
}
