import type { IncomingMessage } from 'node:http'
import { Heartbeat, type KeepAliveOptions } from '@wirecall/core'
import type { WebSocket } from 'ws'
import { Connection, type ConnectionRuntime } from './connection'
import { serverDefaults } from './options'
import type { RpcSocket } from './socket'

/**
 * Binds a `ws` WebSocket to a {@link Connection}: the only file that knows
 * about `ws`'s event names and frame types.
 */
export function bindWsSocket(
  ws: WebSocket,
  req: IncomingMessage,
  runtime: ConnectionRuntime,
  keepAlive?: Required<KeepAliveOptions>,
): Connection {
  const socket: RpcSocket = {
    get protocol() {
      return ws.protocol
    },
    get bufferedAmount() {
      return ws.bufferedAmount
    },
    send(data) {
      if (ws.readyState === ws.OPEN) ws.send(data)
    },
    close(code, reason) {
      if (ws.readyState === ws.CLOSED) return
      ws.close(code, reason)
      // A peer that does not answer the close (it stopped reading: the very reason for a 1013) would keep
      // its socket and unsent buffer for ws's 30 s close timeout; a second is enough for any live peer.
      const cutOff = setTimeout(() => ws.terminate(), serverDefaults.closeTimeoutMs)
      cutOff.unref()
      ws.once('close', () => clearTimeout(cutOff))
    },
    terminate() {
      ws.terminate()
    },
    onDrain(listener) {
      // `ws` has no drain event of its own; its TCP socket (a documented-in-source, long-stable field) has.
      const raw = (ws as unknown as { _socket?: { on(e: 'drain', l: () => void): void; off(e: 'drain', l: () => void): void } })._socket
      if (raw === undefined) return () => {}
      raw.on('drain', listener)
      return () => raw.off('drain', listener)
    },
  }
  const connection = new Connection(socket, req, runtime)
  // Ping frames, not messages: every WebSocket client answers them, browsers included, without any code.
  const heartbeat =
    keepAlive === undefined
      ? undefined
      : new Heartbeat(
          keepAlive,
          () => {
            if (ws.readyState === ws.OPEN) ws.ping()
          },
          () => ws.terminate(),
        )
  ws.on('message', (data, isBinary) => {
    heartbeat?.heard()
    connection.receive(isBinary ? null : rawToString(data))
  })
  if (heartbeat !== undefined) ws.on('pong', () => heartbeat.heard())
  ws.on('close', () => {
    heartbeat?.stop()
    connection.closed()
  })
  // `ws` emits 'close' after 'error'; the listener only stops an unhandled 'error' event from crashing the process.
  ws.on('error', () => {})
  if (ws.readyState === ws.CLOSED) {
    heartbeat?.stop()
    connection.closed()
  }
  return connection
}

function rawToString(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8')
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8')
  return data.toString('utf8')
}
