import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import type { Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { PROTOCOL } from '@wirecall/core'
import { WebSocketServer, type WebSocket } from 'ws'
import { serverDefaults, type RpcServerOptions } from '../options'
import type { AttachOptions, ListenInfo, ListenOptions } from '../rpc-server'
import { ignoreError } from './ws-socket'

/**
 * wirecall endpoints attached to each http(s) server, by path: lets several
 * wirecall servers share one http server and still refuse unknown paths.
 */
const attachedPaths = new WeakMap<HttpServer | HttpsServer, Map<string, (...args: never[]) => void>>()

/**
 * Where a wirecall server meets Node's HTTP: `listen`, `attach`, and
 * `handleUpgrade`, which routes an upgrade by path, checks its subprotocol
 * before the upgrade (a refusal is a plain HTTP answer, told to `refused`),
 * and hands the upgraded `ws` socket to `accept`. The origin is checked
 * after the upgrade, with the connection caps: a refusal there is a close
 * code, which a WebSocket client can read, where an HTTP 403 would reach
 * it only as 1006, to be retried for ever.
 */
export class HttpMount {
  private readonly wss: WebSocketServer
  private readonly detachers: (() => void)[] = []
  private readonly owned: HttpServer[] = []
  /** Servers `listen` made that {@link stopListening} stopped. */
  private readonly stopped: HttpServer[] = []

  /** @param refused told of each upgrade refused with an HTTP answer, with its status and reason. */
  constructor(
    options: Pick<RpcServerOptions<never>, 'maxPayload' | 'perMessageDeflate'>,
    private readonly accept: (ws: WebSocket, req: IncomingMessage) => void,
    private readonly isClosing: () => boolean,
    private readonly refused: (req: IncomingMessage, status: number, reason: string) => void,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload ?? serverDefaults.maxPayload,
      // ws >= 8.21 bounds fragmented messages; set here rather than trusting defaults that may move.
      ...({ maxFragments: serverDefaults.maxFragments, maxBufferedChunks: serverDefaults.maxBufferedChunks } as object),
      perMessageDeflate: options.perMessageDeflate ?? false,
      clientTracking: false,
      handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
    })
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.isClosing()) return this.refuse(req, socket, 503, 'server is shutting down', { 'Retry-After': '1' })
    // A client that does not offer wirecall.v1 cannot be served a WebSocket it would accept: a plain HTTP answer.
    if (!offersProtocol(req)) return this.refuse(req, socket, 400, `subprotocol ${PROTOCOL} required`)
    // A reset during the handshake must not crash the process. Once upgraded, `ws` handles the socket's
    // errors itself and the listener goes: one fewer makes a smaller socket. A module-level function, as an
    // arrow made here would share this call's closure context, which holds `req`, for as long as it stays.
    socket.on('error', ignoreError)
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off('error', ignoreError)
      this.accept(ws, req)
    })
  }

  private refuse(req: IncomingMessage, socket: Duplex, status: number, reason: string, headers?: Record<string, string>): void {
    refuseUpgrade(socket, status, reason, headers)
    this.refused(req, status, reason)
  }

  attach(httpServer: HttpServer | HttpsServer, attachOptions: AttachOptions = {}): void {
    const path = attachOptions.path ?? '/'
    let mounted = attachedPaths.get(httpServer)
    if (mounted === undefined) attachedPaths.set(httpServer, (mounted = new Map()))
    if (mounted.has(path)) throw new Error(`attach(): a wirecall server is already attached at "${path}"`)
    const paths = mounted
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const requested = requestPath(req)
      if (requested === path) return this.handleUpgrade(req, socket, head)
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
    this.detachers.push(() => {
      httpServer.off('upgrade', onUpgrade)
      paths.delete(path)
    })
  }

  async listen(listenOptions: ListenOptions): Promise<ListenInfo> {
    const httpServer = createServer((_req, res) => {
      res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket' })
      res.end(`This endpoint speaks WebSocket (subprotocol ${PROTOCOL}).\n`)
    })
    this.attach(httpServer, listenOptions.path === undefined ? {} : { path: listenOptions.path })
    this.owned.push(httpServer)
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
  }

  /**
   * Shutdown, first step: the servers `listen` made stop listening now, so
   * a new process can bind the port while this one drains. Attached servers
   * stay attached until {@link detach}, so upgrades that arrive meanwhile
   * get a prompt 503 from {@link handleUpgrade} instead of falling through
   * to the app's handler. Resolves once those listeners have closed, which
   * needs {@link detach} to have closed their idle HTTP sockets.
   */
  stopListening(): Promise<void> {
    this.stopped.push(...this.owned.splice(0))
    return Promise.all(this.stopped.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))).then(() => {})
  }

  /** Shutdown, last step: leaves every server it was attached to. */
  detach(): void {
    for (const undo of this.detachers.splice(0)) undo()
    // Plain HTTP keep-alive sockets would hold the listener open.
    for (const s of this.stopped) s.closeAllConnections?.()
  }

  /** Releases the `ws` server, once the listeners have closed. */
  dispose(): void {
    this.wss.close()
  }
}

/** True when the client offered the `wirecall.v1` subprotocol. */
function offersProtocol(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol']
  if (typeof header !== 'string') return false
  return header.split(',').some((p) => p.trim() === PROTOCOL)
}

/** The path part of a request URL (no query string), or `undefined` if it is unparsable. */
function requestPath(req: IncomingMessage): string | undefined {
  const url = req.url
  if (typeof url !== 'string') return undefined
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Refuses an upgrade with a plain HTTP response and closes the socket, so
 * the client fails fast instead of waiting for a handshake that never comes.
 */
function refuseUpgrade(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return
  // A peer that resets meanwhile makes the write fail: that must not become an uncaught exception.
  socket.on('error', ignoreError)
  const body = `${text}\n`
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ]
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`)
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  426: 'Upgrade Required',
  503: 'Service Unavailable',
}
