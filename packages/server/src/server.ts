import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { CloseCode, MAX_RESTART_DELAY_MS, PROTOCOL, RpcError, defaultSerializer, type AnyRouter } from '@wirecall/core'
import { WebSocketServer, type WebSocket } from 'ws'
import type { Connection, ConnectionRuntime } from './connection'
import { offersProtocol, refuseUpgrade, requestPath } from './handshake'
import { ConnectionCounter, originAllowed } from './admission'
import { IdempotencyCache } from './idempotency'
import { serverDefaults, type CloseOptions, type RpcServerOptions } from './options'
import { KeepAliveSweep } from './keep-alive'
import { bindWsSocket, ignoreError } from './ws-adapter'

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

/** A wirecall server; see {@link createRpcServer}. */
export interface RpcServer {
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
  /** Completes an upgrade you routed yourself. Refuses a missing subprotocol with HTTP 400. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** Serves an already-upgraded `ws` WebSocket. */
  handleConnection(ws: WebSocket, req: IncomingMessage): void
  /** Open connections; for metrics and tests. */
  readonly connectionCount: number
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

/**
 * wirecall endpoints attached to each http(s) server, by path: lets several
 * wirecall servers share one http server and still refuse unknown paths.
 */
const attachedPaths = new WeakMap<HttpServer | HttpsServer, Map<string, (...args: never[]) => void>>()

/**
 * Creates a wirecall server for a router.
 *
 * @example
 * ```ts
 * const server = createRpcServer({ router: appRouter, createContext: ({ connectionParams }) => auth(connectionParams) })
 * await server.listen({ port: 3000, path: '/rpc' })
 * ```
 */
export function createRpcServer<TRouter extends AnyRouter>(options: RpcServerOptions<TRouter>): RpcServer {
  const connections = new Map<Connection, WebSocket>()
  const detachers: (() => void)[] = []
  const ownedServers: HttpServer[] = []
  const unwinding = new Set<Promise<void>>()
  let closing: Promise<void> | undefined
  const idempotency = new IdempotencyCache(options.idempotency)
  /** One keep-alive timer for all the connections, not one each. */
  const keepAlive = options.keepAlive === false ? undefined : new KeepAliveSweep({ ...serverDefaults.keepAlive, ...options.keepAlive })
  /** Upgrades whose origin handleUpgrade already accepted, so handleConnection does not ask the predicate again. */
  const originChecked = new WeakSet<IncomingMessage>()
  const counter = new ConnectionCounter(options.maxConnections ?? serverDefaults.maxConnections, options.maxConnectionsPerIp)
  /**
   * The remote address each admitted connection was counted under (a destroyed socket forgets its own).
   * Only with a per-address cap: without one, every connection is counted under ''.
   */
  const addresses = new Map<Connection, string>()

  const runtime: ConnectionRuntime = {
    router: options.router,
    serializer: options.serializer ?? defaultSerializer,
    createContext: options.createContext,
    initTimeoutMs: options.initTimeoutMs ?? serverDefaults.initTimeoutMs,
    exposeInternalErrors: options.exposeInternalErrors ?? serverDefaults.exposeInternalErrors,
    maxBatchSize: serverDefaults.maxBatchSize,
    maxPayload: options.maxPayload ?? serverDefaults.maxPayload,
    idempotency,
    backpressure: { ...serverDefaults.backpressure, ...options.backpressure },
    maxInFlightCalls: options.maxInFlightCalls ?? serverDefaults.maxInFlightCalls,
    maxSubscriptions: options.maxSubscriptions ?? serverDefaults.maxSubscriptions,
    rateLimit: options.rateLimit === false ? undefined : { ...serverDefaults.rateLimit, ...options.rateLimit },
    maxConnectionParamsBytes: options.maxConnectionParamsBytes ?? serverDefaults.maxConnectionParamsBytes,
    payloadLimits: options.payloadLimits ?? {},
    fanout: new WeakMap(),
    onError: options.onError,
    released(connection) {
      // Counted while in `connections`; handleConnection releases one that closed before it got there.
      if (connections.delete(connection)) {
        counter.release(addresses.get(connection) ?? '')
        addresses.delete(connection)
      }
      // A peer that left may leave generators still unwinding; close() waits for them too.
      const settled = connection.settled()
      unwinding.add(settled)
      void settled.then(() => unwinding.delete(settled))
    },
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayload ?? serverDefaults.maxPayload,
    // ws >= 8.21 bounds fragmented messages; set here rather than trusting defaults that may move.
    ...({ maxFragments: serverDefaults.maxFragments, maxBufferedChunks: serverDefaults.maxBufferedChunks } as object),
    perMessageDeflate: options.perMessageDeflate ?? false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
  })

  const server: RpcServer = {
    get connectionCount() {
      return connections.size
    },

    stats() {
      let inFlightCalls = 0
      let subscriptions = 0
      for (const connection of connections.keys()) {
        inFlightCalls += connection.inFlightCalls
        subscriptions += connection.liveSubscriptions
      }
      return { connections: connections.size, inFlightCalls, subscriptions, unwinding: unwinding.size, idempotencyKeys: idempotency.size }
    },

    handleUpgrade(req, socket, head) {
      if (closing !== undefined) return refuseUpgrade(socket, 503, 'server is shutting down', { 'Retry-After': '1' })
      if (!offersProtocol(req)) return refuseUpgrade(socket, 400, `subprotocol ${PROTOCOL} required`)
      // Before the upgrade: a page from another site never gets a socket (cross-site WebSocket hijacking).
      if (!originAllowed(options.allowedOrigins, req)) return refuseUpgrade(socket, 403, 'origin not allowed')
      originChecked.add(req)
      // A reset during the handshake must not crash the process. Once upgraded, `ws` handles the socket's
      // errors itself and the listener goes: one fewer makes a smaller socket. A module-level function, as an
      // arrow made here would share this call's closure context, which holds `req`, for as long as it stays.
      socket.on('error', ignoreError)
      wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', ignoreError)
        server.handleConnection(ws, req)
      })
    },

    handleConnection(ws, req) {
      if (closing !== undefined) return refuse(ws, CloseCode.GoingAway, 'server is shutting down')
      // Sockets handed over directly skipped handleUpgrade's origin check: too late for a 403, so a policy close.
      if (!originChecked.delete(req) && !originAllowed(options.allowedOrigins, req)) {
        return refuse(ws, CloseCode.PolicyViolation, 'origin not allowed')
      }
      // Looked up only under a per-address cap: the first read makes the socket keep an address object.
      const address = options.maxConnectionsPerIp === undefined ? '' : (req.socket?.remoteAddress ?? '')
      const refused = counter.admit(address)
      if (refused !== undefined) return refuse(ws, CloseCode.TryAgainLater, refused)
      const connection = bindWsSocket(ws, req, runtime, keepAlive)
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
        connections.set(connection, ws)
        if (address !== '') addresses.set(connection, address)
      } else {
        counter.release(address)
      }
    },

    attach(httpServer, attachOptions = {}) {
      const path = attachOptions.path ?? '/'
      let mounted = attachedPaths.get(httpServer)
      if (mounted === undefined) attachedPaths.set(httpServer, (mounted = new Map()))
      if (mounted.has(path)) throw new Error(`attach(): a wirecall server is already attached at "${path}"`)
      const paths = mounted
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        const requested = requestPath(req)
        if (requested === path) return server.handleUpgrade(req, socket, head)
        if (requested !== undefined && paths.has(requested)) return // another wirecall server's endpoint
        // Another listener may own this path. Refuse only when every upgrade
        // listener is a wirecall one, and only from the first of them, so the
        // socket gets exactly one answer.
        if (httpServer.listenerCount('upgrade') === paths.size && paths.values().next().value === onUpgrade) {
          refuseUpgrade(socket, 404, 'no WebSocket endpoint at this path')
        }
      }
      paths.set(path, onUpgrade)
      httpServer.on('upgrade', onUpgrade)
      detachers.push(() => {
        httpServer.off('upgrade', onUpgrade)
        paths.delete(path)
      })
    },

    async listen(listenOptions) {
      const httpServer = createServer((_req, res) => {
        res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' })
        res.end(`This endpoint speaks WebSocket (subprotocol ${PROTOCOL}).\n`)
      })
      server.attach(httpServer, listenOptions.path === undefined ? {} : { path: listenOptions.path })
      ownedServers.push(httpServer)
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject)
        httpServer.listen(listenOptions.port, listenOptions.host, () => {
          httpServer.off('error', reject)
          resolve()
        })
      })
      const address = httpServer.address() as AddressInfo
      const host = listenOptions.host ?? 'localhost'
      const urlHost = host.includes(':') ? `[${host}]` : host
      return { port: address.port, host, url: `ws://${urlHost}:${address.port}${listenOptions.path ?? '/'}` }
    },

    close(closeOptions) {
      closing ??= (async () => {
        // Attached servers stay attached until the end, so upgrades that arrive meanwhile get a prompt 503
        // from handleUpgrade instead of falling through to the app's HTTP handler.
        // Stop listening now, so a new process can bind the port while this one drains.
        const owned = ownedServers.splice(0)
        const listenersClosed = owned.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))
        const sockets = [...connections.entries()]
        if (closeOptions === undefined) {
          await Promise.all(sockets.map(([connection, ws]) => closeGracefully(connection, ws, CloseCode.GoingAway, 'server closed')))
        } else {
          await restart(sockets, closeOptions)
        }
        await Promise.all([
          withDeadline(Promise.all(unwinding), serverDefaults.closeTimeoutMs),
          withDeadline(idempotency.abortAll(new RpcError('CANCELLED', 'The server closed')), serverDefaults.closeTimeoutMs),
        ])
        for (const detach of detachers.splice(0)) detach()
        // Plain HTTP keep-alive sockets would hold the listener open.
        for (const s of owned) s.closeAllConnections?.()
        await Promise.all(listenersClosed)
        wss.close()
      })()
      return closing
    },
  }
  return server
}

/**
 * Closes a socket the server will not serve. It gets an error listener
 * first: a peer that sends a bad frame before it reads the close would
 * otherwise make `ws` emit an unhandled 'error' and crash the process.
 */
function refuse(ws: WebSocket, code: number, reason: string): void {
  ws.on('error', ignoreError)
  ws.close(code, reason)
}

/**
 * Restart mode of `close()`: tells each client when to come back, then
 * closes each connection with 1012 once its own calls are done (or the grace
 * period ran out). The delays are stratified over the window, each client
 * one slot with a random place inside it, so reconnects are spread evenly
 * without any coordination.
 */
async function restart(sockets: [Connection, WebSocket][], options: CloseOptions): Promise<void> {
  const graceMs = Math.max(0, options.graceMs ?? serverDefaults.graceMs)
  // Clients refuse a delay over MAX_RESTART_DELAY_MS as a protocol error, so a longer window is cut to it.
  const windowMs = Math.min(MAX_RESTART_DELAY_MS, Math.max(0, options.reconnectWindowMs ?? serverDefaults.reconnectWindowMs))
  const slot = windowMs / Math.max(1, sockets.length)
  sockets.forEach(([connection], i) => connection.announceRestart((i + Math.random()) * slot))
  await Promise.all(
    sockets.map(async ([connection, ws]) => {
      await withDeadline(connection.callsDone(), graceMs)
      await closeGracefully(connection, ws, CloseCode.ServiceRestart, 'server restarting')
    }),
  )
}


/**
 * Closes one connection and waits, at most `closeTimeoutMs`, for
 * the closing handshake and for the connection's resolvers and generators
 * to finish. A peer that does not answer the close is cut off by the socket
 * binding itself (see `bindWsSocket`), after the same `closeTimeoutMs`.
 */
function closeGracefully(connection: Connection, ws: WebSocket, code: number, reason: string): Promise<void> {
  const socketGone = new Promise<void>((resolve) => {
    if (ws.readyState === ws.CLOSED) return resolve()
    ws.once('close', () => resolve())
  })
  connection.close(code, reason)
  return withDeadline(Promise.all([socketGone, connection.settled()]), serverDefaults.closeTimeoutMs)
}

/** Waits for `work`, or `ms` at most. Never rejects. */
function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    work.then(done, done)
  })
}
