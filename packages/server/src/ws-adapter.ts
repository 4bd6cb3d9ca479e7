import type { IncomingMessage } from 'node:http'
import type { KeepAliveOptions } from '@wirecall/core'
import type { WebSocket } from 'ws'
import { Connection, type ConnectionRuntime } from './connection'
import { KeepAliveSweep, type KeptAlive } from './keep-alive'
import { serverDefaults } from './options'
import type { RpcSocket } from './socket'

/**
 * Binds a `ws` WebSocket to a {@link Connection}: the only file that knows
 * about `ws`'s event names and frame types.
 *
 * @param keepAlive the server's {@link KeepAliveSweep}, shared by all its
 * connections; or options, for a socket bound on its own (it then gets a
 * sweep of its own).
 */
export function bindWsSocket(
  ws: WebSocket,
  req: IncomingMessage,
  runtime: ConnectionRuntime,
  keepAlive?: Required<KeepAliveOptions> | KeepAliveSweep,
): Connection {
  const sweep = keepAlive === undefined || keepAlive instanceof KeepAliveSweep ? keepAlive : new KeepAliveSweep(keepAlive)
  const socket = new WsSocket(ws, sweep)
  const connection = new Connection(socket, req, runtime)
  socket.connection = connection
  ;(ws as Bound)[BOUND] = socket
  // Module-level listeners, the same functions for every socket, which find their socket through BOUND:
  // closures would cost three functions and a context per connection.
  ws.on('message', onMessage)
  ws.on('close', onClose)
  // `ws` emits 'close' after 'error'; the listener only stops an unhandled 'error' event from crashing the process.
  ws.on('error', ignoreError)
  if (sweep !== undefined) {
    // Ping frames, not messages: every WebSocket client answers them, browsers included, without any code.
    sweep.watch(socket)
    ws.on('pong', onPong)
  }
  if (ws.readyState === ws.CLOSED) socket.closed()
  return connection
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
  /** Set right after the connection is made (the connection's constructor already takes this socket). */
  connection!: Connection

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
    const ws = this.ws
    if (ws.readyState === ws.CLOSED) return
    ws.close(code, reason)
    // A peer that does not answer the close (it stopped reading: the very reason for a 1013) would keep
    // its socket and unsent buffer for ws's 30 s close timeout; a second is enough for any live peer.
    const cutOff = setTimeout(() => ws.terminate(), serverDefaults.closeTimeoutMs)
    cutOff.unref()
    ws.once('close', () => clearTimeout(cutOff))
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

  /** A message arrived (`null`: a binary one). */
  received(data: string | null): void {
    this.sweep?.heard(this)
    this.connection.receive(data)
  }

  /** A pong arrived. */
  heard(): void {
    this.sweep?.heard(this)
  }

  /** The WebSocket closed, whichever side closed it. */
  closed(): void {
    this.sweep?.unwatch(this)
    this.connection.closed()
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

function onPong(this: WebSocket): void {
  socketOf(this).heard()
}

function onClose(this: WebSocket): void {
  socketOf(this).closed()
}

/** An 'error' listener that does nothing: what follows an error (a close, a destroyed socket) is handled elsewhere. */
export function ignoreError(): void {}

function rawToString(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}
