/**
 * socket.io v4 with default options, except that the client uses the
 * WebSocket transport only and one connection per client (see `connect`).
 * socket.io has no schema validation, no transformer and no backpressure, so
 * none is used: this is how its docs write such handlers.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server } from 'socket.io'
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client'
import { pushEvent, type BenchConnection, type BenchServer, type ConnectOptions, type Impl, type ServeOptions } from '../contract'
import { burstPacer, publishedEvent } from './publish-events'
import { FEED_ROOM, type ClientToServerEvents, type ServerToClientEvents } from './socketio-events'

/** Resolves on the next macrotask, so a burst of events goes out before the next one is made. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

async function serve(options: ServeOptions = {}): Promise<BenchServer> {
  const httpServer = createServer()
  // maxHttpBufferSize (1 MB by default) is raised only for a case whose messages it would refuse.
  const server = new Server<ClientToServerEvents, ServerToClientEvents>(httpServer, options.maxPayload === undefined ? {} : { maxHttpBufferSize: options.maxPayload })

  server.on('connection', (socket) => {
    socket.on('echo', (input, ack) => ack(input))
    socket.on('echoText', (input, ack) => ack(input))

    socket.on('stream', ({ id, count }) => {
      // One emit per event as fast as the loop goes: socket.io buffers what
      // the socket cannot take yet, it has no backpressure to wait for.
      for (let seq = 0; seq < count; seq++) socket.emit('stream-event', id, pushEvent(seq))
      socket.emit('stream-done', id)
    })

    socket.on('join', (ack) => {
      // With the default in-memory adapter, join() is synchronous: the socket
      // is in the room when the ack goes out.
      void socket.join(FEED_ROOM)
      ack()
    })
    socket.on('leave', () => void socket.leave(FEED_ROOM))

    socket.on('publish', (input, ack) => {
      const { count, burst } = input
      const paced = burstPacer(input)
      void (async () => {
        for (let seq = 0; seq < count; ) {
          const end = Math.min(count, seq + burst)
          for (; seq < end; seq++) server.to(FEED_ROOM).emit('feed-event', publishedEvent(seq, input))
          if (seq < count) await (paced?.(seq) ?? nextMacrotask())
        }
        ack({ published: count })
      })()
    })
  })

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject)
    httpServer.listen(options.port ?? 0, '127.0.0.1', resolve)
  })
  const { port } = httpServer.address() as AddressInfo

  return {
    port,
    close() {
      // Disconnects every socket, then closes the http server.
      return new Promise<void>((resolve, reject) => {
        void server.close((error) => (error ? reject(error) : resolve()))
      })
    },
  }
}

/** The client's options: its defaults, but for these two (and a source address when asked). */
export function socketOptions(options: ConnectOptions): Partial<ManagerOptions & SocketOptions> {
  const chosen: Partial<ManagerOptions & SocketOptions> & ConnectOptions = {
    // WebSocket only, no HTTP long-polling first and upgrade later: the
    // benchmark compares WebSocket paths, and polling would add HTTP requests
    // to every connection's start that the other libraries do not make.
    transports: ['websocket'],
    // socket.io-client shares one connection between every io() call to the
    // same URL by default (multiplexing namespaces). The benchmark needs one
    // real connection per client, as with every other library.
    forceNew: true,
    // engine.io-client hands `localAddress` to ws's WebSocket in Node, though its types do not list it.
    ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
  }
  return chosen
}

async function connect(port: number, options: ConnectOptions = {}): Promise<BenchConnection> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(`http://127.0.0.1:${port}`, socketOptions(options))

  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('connect_error', (error) => {
      // Stops the reconnection attempts socket.io would go on making.
      socket.close()
      reject(error)
    })
  })
  // Only the first connection attempt is of interest.
  socket.off('connect_error')

  // Streams in flight on this connection, by id.
  const streams = new Map<number, { onEvent(event: unknown): void; done(): void; fail(error: Error): void }>()
  let nextStreamId = 0
  socket.on('stream-event', (id, event) => streams.get(id)?.onEvent(event))
  socket.on('stream-done', (id) => {
    streams.get(id)?.done()
    streams.delete(id)
  })
  // Nothing would end a stream whose connection dropped: fail it instead.
  socket.on('disconnect', (reason) => {
    for (const stream of streams.values()) stream.fail(new Error(`socket.io: disconnected (${reason})`))
    streams.clear()
  })

  // `feed` subscribers on this connection; the socket leaves the room when
  // the last one stops.
  const feeds = new Set<(event: unknown) => void>()
  let joined: Promise<unknown> | null = null
  socket.on('feed-event', (event) => {
    for (const onEvent of feeds) onEvent(event)
  })

  return {
    echo: (input) => socket.emitWithAck('echo', input),
    echoText: (input) => socket.emitWithAck('echoText', input),

    stream(count, onEvent) {
      return new Promise<void>((resolve, reject) => {
        const id = nextStreamId++
        streams.set(id, { onEvent, done: resolve, fail: reject })
        socket.emit('stream', { id, count })
      })
    },

    async feed(onEvent) {
      feeds.add(onEvent)
      joined ??= socket.emitWithAck('join')
      await joined
      return {
        stop() {
          if (feeds.delete(onEvent) && feeds.size === 0) {
            joined = null
            socket.emit('leave')
          }
        },
      }
    },

    publish: (input) => socket.emitWithAck('publish', input),

    async close() {
      // With `forceNew`, the socket is the only one on its manager, so this
      // closes the WebSocket too.
      socket.disconnect()
    },
  }
}

/** socket.io v4, WebSocket transport only. */
export const socketio: Impl = { name: 'socketio', serve, connect }
