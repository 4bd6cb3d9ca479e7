/**
 * The resume case's socket.io server: connection state recovery
 * (`connectionStateRecovery`, socket.io 4.6+) with its defaults, as
 * socket.io's docs enable it: the server keeps every packet broadcast to a
 * room for `maxDisconnectionDuration` (2 minutes), whatever their number,
 * and a client that comes back within it gets its rooms back and the
 * packets it missed. The feed is a room, joined with an acknowledged
 * `join`, published to with `io.to(room).emit` (a broadcast: only those are
 * kept for recovery).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { pushEvent, type PushEvent } from '../../contract'
import type { FeedServer } from './feed-server'

export const FEED_ROOM = 'feed'

export interface FeedClientEvents {
  join: (ack: () => void) => void
}

export interface FeedServerEvents {
  'feed-event': (event: PushEvent) => void
}

export async function serveSocketioFeed(): Promise<FeedServer> {
  const httpServer = createServer()
  const io = new Server<FeedClientEvents, FeedServerEvents>(httpServer, { connectionStateRecovery: {} })
  io.on('connection', (socket) => {
    socket.on('join', (ack) => {
      // The default in-memory adapter joins synchronously: the socket is in the room when the ack goes.
      void socket.join(FEED_ROOM)
      ack()
    })
  })
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(0, '127.0.0.1', resolve)
  })
  const { port } = httpServer.address() as AddressInfo
  return {
    port,
    publish: (seq) => void io.to(FEED_ROOM).emit('feed-event', pushEvent(seq)),
    subscribers: () => io.of('/').adapter.rooms.get(FEED_ROOM)?.size ?? 0,
    close: () =>
      new Promise<void>((resolve, reject) => {
        void io.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
