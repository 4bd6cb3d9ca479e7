/**
 * The storm's socket.io subscriber: `io()` with its defaults (reconnection
 * on, 1 s doubling to 5 s, ±50 % randomized), the WebSocket transport only
 * as everywhere in the bench (impls/socketio.ts), and the room joined again
 * on every `connect`, as socket.io's docs say to (rooms are server state,
 * lost with the server).
 */
import { io, type Socket } from 'socket.io-client'
import type { ClientToServerEvents, ServerToClientEvents } from '../../impls/socketio-events'
import { socketOptions } from '../../impls/socketio'
import { checkPublished, type OpenSubscriber } from './subscriber'

export const openSocketioSubscriber: OpenSubscriber = (port, localAddress, hooks) => {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(`http://127.0.0.1:${port}`, socketOptions({ localAddress }))
  // The join's ack says the socket is in the room.
  socket.on('connect', () => socket.emit('join', () => hooks.started()))
  socket.on('feed-event', (event) => hooks.event(event))
  socket.on('connect_error', () => hooks.dropped('connect_error'))
  socket.io.on('reconnect_attempt', () => hooks.retry(undefined))
  socket.on('disconnect', (reason) => {
    hooks.dropped(reason)
    // The one reason socket.io does not reconnect by itself: a client lost for good.
    if (reason === 'io server disconnect') hooks.failed(new Error('storm/socketio: the server disconnected the socket (no automatic reconnect)'))
  })
  return {
    async publish(count) {
      checkPublished('socketio', await socket.emitWithAck('publish', { count, burst: count }), count)
    },
    async close() {
      socket.disconnect()
    },
  }
}
