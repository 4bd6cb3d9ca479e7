/**
 * The resume case's socket.io client: `io()` with the WebSocket transport
 * only and a connection of its own (`forceNew`), as impls/socketio.ts; the
 * feed is the room it joins. socket.io-client keeps the session id and the
 * offset of the last broadcast it received, and sends them when it
 * connects again: the server restores its rooms and sends the missed
 * packets before it confirms the connection (`socket.recovered`).
 *
 * The drop terminates the socket under engine.io (`ws`'s, in Node): to
 * both sides a network failure ("transport close", a reason the server
 * keeps the session for). The reconnect is held by turning the manager's
 * automatic reconnection off for the drop, and let go with
 * `socket.connect()`, the documented manual reconnect.
 */
import { io, type Socket } from 'socket.io-client'
import { Mismatch } from '../../cases/verify'
import { failLater } from '../../impls/util'
import type { Resumer } from './resumer'
import type { FeedClientEvents, FeedServerEvents } from './socketio-feed'

/** engine.io-client's WebSocket transport keeps its socket as `ws`; its types do not show it. */
interface WithSocket {
  ws?: { terminate(): void }
}

export function socketioResumer(): Resumer {
  let socket: Socket<FeedServerEvents, FeedClientEvents> | undefined
  let dropping = false

  return {
    async start(port, onEvent) {
      const s: Socket<FeedServerEvents, FeedClientEvents> = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true })
      socket = s
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve)
        s.once('connect_error', (error) => {
          s.close()
          reject(error)
        })
      })
      s.off('connect_error')
      // The offset comes as a second argument; the event is the first.
      s.on('feed-event', (event) => onEvent(event))
      s.on('disconnect', (reason) => {
        if (!dropping) failLater(new Mismatch(`resume/socketio: disconnected unasked (${reason})`))
      })
      await s.emitWithAck('join')
    },

    async drop() {
      const s = socket!
      dropping = true
      s.io.reconnection(false)
      const lost = new Promise<void>((resolve, reject) => {
        s.once('disconnect', (reason) => {
          if (reason === 'transport close') resolve()
          else reject(new Mismatch(`resume/socketio: the drop was seen as "${reason}", not "transport close"`))
        })
      })
      const ws = (s.io.engine.transport as unknown as WithSocket).ws
      if (ws === undefined) throw new Error('resume/socketio: no WebSocket under the engine')
      ws.terminate()
      await lost
    },

    resume() {
      const s = socket!
      const resumed = new Promise<void>((resolve, reject) => {
        s.once('connect', () => {
          dropping = false
          s.io.reconnection(true)
          if (s.recovered) resolve()
          else reject(new Mismatch('resume/socketio: connected again without recovering the session (socket.recovered is false)'))
        })
      })
      s.connect()
      return resumed
    },

    async close() {
      dropping = true
      socket?.disconnect()
    },
  }
}
