import type { WebSocket } from 'ws'
import { serverDefaults } from '../options'
import type { Session } from '../session/session'
import type { RpcSocket } from '../session/socket'
import type { KeepAliveSweep, KeptAlive } from './keep-alive'

/**
 * Serves a `ws` WebSocket: wraps it as the {@link RpcSocket} a session
 * writes to, feeds the session its frames and its close, and lets the
 * server's keep-alive sweep watch it. The only file that knows `ws`'s
 * event names and frame types.
 *
 * @param open makes the session for the socket (and registers it with the server).
 */
export function serveWs(ws: WebSocket, keepAlive: KeepAliveSweep | undefined, open: (socket: RpcSocket) => Session): void {
  const socket = new WsSocket(ws, keepAlive)
  socket.session = open(socket)
  ;(ws as Bound)[BOUND] = socket
  // Module-level listeners, the same functions for every socket, which find their socket through BOUND:
  // closures would cost three functions and a context per connection.
  ws.on('message', onMessage)
  ws.on('close', onClose)
  // `ws` emits 'close' after 'error', so the session hears of the close there; this listener reports why
  // (and stops an unhandled 'error' event from crashing the process).
  ws.on('error', onError)
  if (keepAlive !== undefined) {
    // Ping frames, not messages: every WebSocket client answers them, browsers included, without any code.
    keepAlive.watch(socket)
    ws.on('pong', onPong)
  }
  if (ws.readyState === ws.CLOSED) socket.closed()
}

/**
 * The {@link RpcSocket} of a `ws` WebSocket, and what the keep-alive sweep
 * watches. A class rather than an object literal: an object literal with
 * getters and methods costs a closure per member and per connection, an
 * instance only its fields.
 */
class WsSocket implements RpcSocket, KeptAlive {
  heardAt = 0
  pingedAt = 0
  /** Set right after the session is made (the session's constructor already takes this socket). */
  session!: Session

  constructor(
    private readonly ws: WebSocket,
    private readonly sweep: KeepAliveSweep | undefined,
  ) {}

  get protocol(): string {
    return this.ws.protocol
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  send(data: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(data)
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.close(code, reason)
  }

  terminate(): void {
    this.ws.terminate()
  }

  onDrain(listener: () => void): () => void {
    // `ws` has no drain event of its own; its TCP socket (a documented-in-source, long-stable field) has.
    const raw = (this.ws as unknown as { _socket?: { on(e: 'drain', l: () => void): void; off(e: 'drain', l: () => void): void } })._socket
    if (raw === undefined) return () => {}
    raw.on('drain', listener)
    return () => raw.off('drain', listener)
  }

  ping(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping()
  }

  pause(): void {
    this.ws.pause()
  }

  resume(): void {
    this.ws.resume()
  }

  /** A message arrived (`null`: a binary one). */
  received(data: string | null): void {
    this.sweep?.heard(this)
    this.session.receive(data)
  }

  /** `ws` refused a frame and is closing the connection with the code the error carries. */
  failed(error: Error): void {
    const code = statusCodeOf(error)
    if (code !== undefined) this.session.refusedFrame(code, error.message, error)
  }

  /** A pong arrived. */
  heard(): void {
    this.sweep?.heard(this)
  }

  /** The WebSocket closed, whichever side closed it; `code` and `reason` as `ws` reports them. */
  closed(code?: number, reason?: Buffer): void {
    this.sweep?.unwatch(this)
    this.session.closed(code, reason)
  }
}

/** Where the shared listeners below find a WebSocket's {@link WsSocket}. */
const BOUND = Symbol('wirecall.socket')
type Bound = WebSocket & { [BOUND]: WsSocket }

function socketOf(ws: WebSocket): WsSocket {
  return (ws as Bound)[BOUND]
}

function onMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  socketOf(this).received(isBinary ? null : rawToString(data))
}

function onError(this: WebSocket, error: Error): void {
  socketOf(this).failed(error)
}

/**
 * The close code `ws` sends for a frame it refused, which it keeps on the
 * error under a symbol of its own (`kStatusCode`, described 'status-code',
 * stable since ws 7). Errors without one (a write that failed) are not a
 * refusal.
 */
function statusCodeOf(error: Error): number | undefined {
  const key = Object.getOwnPropertySymbols(error).find((symbol) => symbol.description === 'status-code')
  const code: unknown = key === undefined ? undefined : (error as unknown as Record<symbol, unknown>)[key]
  return typeof code === 'number' ? code : undefined
}

function onPong(this: WebSocket): void {
  socketOf(this).heard()
}

function onClose(this: WebSocket, code: number, reason: Buffer): void {
  socketOf(this).closed(code, reason)
}

/**
 * Closes a socket the server will not serve, and nothing more: no session,
 * no frame read. It gets an error listener first: a peer that sends a bad
 * frame before it reads the close would otherwise make `ws` emit an
 * unhandled 'error' and crash the process. A peer that never answers the
 * close is cut off after `closeTimeoutMs`, as a session's is, rather than
 * after `ws`'s 30 s.
 */
export function refuseWs(ws: WebSocket, code: number, reason: string): void {
  ws.on('error', ignoreError)
  ws.close(code, reason)
  if (ws.readyState === ws.CLOSED) return
  const cutOff = setTimeout(() => ws.terminate(), serverDefaults.closeTimeoutMs)
  cutOff.unref()
  ws.once('close', () => clearTimeout(cutOff))
}

/** An 'error' listener that does nothing: what follows an error (a close, a destroyed socket) is handled elsewhere. */
export function ignoreError(): void {}

function rawToString(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}
