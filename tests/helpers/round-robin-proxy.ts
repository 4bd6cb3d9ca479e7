import { onTestFinished } from 'vitest'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { listenOnLoopback, resetSocket } from './sockets'

/**
 * A TCP load balancer on 127.0.0.1 for tests that run several server
 * processes: each new client connection goes to the next target port in
 * turn. A target that refuses the connection (its process was killed or has
 * closed) is skipped for that same client connection, which goes on to the
 * next target, so after one node dies every reconnect lands on a live one,
 * as behind a real balancer with health checks. Only when every target
 * refuses is the client reset. Existing pipes are never moved: when a node
 * dies, its pipes end with it and the clients reconnect through the proxy.
 *
 * It forwards raw bytes with backpressure, passes a FIN on as a FIN and a
 * reset or error as a close of the other side, so neither peer can tell it
 * is there.
 */
export interface RoundRobinProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number
  /** `ws://127.0.0.1:<port><path>` */
  url(path: string): string
  /** The target ports on 127.0.0.1, in the order they are used. */
  readonly targets: readonly number[]
  /** Replaces the targets for new connections (the turn goes on from where it was); current pipes stay. An empty list resets every new client. */
  setTargets(ports: readonly number[]): void
  /** Number of live pipes: connected to a target, and not yet closed on both sides. A client still waiting for a target is not counted. */
  readonly connections: number
  /** Number of live pipes to target `port`. */
  connectionsTo(port: number): number
  /** Client connections reset because no target accepted them, since the start. */
  readonly rejected: number
  /** Destroys every pipe and pending connection and closes the listener. Idempotent; also run after the test. */
  close(): Promise<void>
}

const HOST = '127.0.0.1'
/** A connect on loopback is refused or accepted at once; this only bounds a target that never answers (a stopped process). */
const CONNECT_TIMEOUT_MS = 2_000

/** One accepted client socket and its upstream socket, once connected. */
interface Pipe {
  client: Socket
  upstream: Socket | undefined
  target: number | undefined
  closedSockets: number
}

/** Connects to 127.0.0.1:`port`; resolves with the socket, or `undefined` when the connect fails or times out. */
function tryConnect(port: number, pending: Set<Socket>): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port, allowHalfOpen: true })
    pending.add(socket)
    const timer = setTimeout(() => fail(), CONNECT_TIMEOUT_MS)
    function settle(result: Socket | undefined): void {
      clearTimeout(timer)
      pending.delete(socket)
      socket.off('connect', succeed)
      socket.off('error', fail)
      socket.off('close', fail)
      resolve(result)
    }
    function succeed(): void {
      settle(socket)
    }
    function fail(): void {
      socket.destroy()
      settle(undefined)
    }
    socket.once('connect', succeed)
    socket.once('error', fail)
    // Destroyed by close() while connecting.
    socket.once('close', fail)
  })
}

/** Forwards `from` into `to` with backpressure; an end is passed on as an end. */
function forward(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk)) from.pause()
  })
  to.on('drain', () => from.resume())
  from.on('end', () => to.end())
}

/**
 * Starts a round-robin proxy on 127.0.0.1 and a free port over `targets`
 * (ports on 127.0.0.1); closed after the test when started inside one,
 * otherwise the caller's to close.
 */
export async function startRoundRobinProxy(targets: readonly number[]): Promise<RoundRobinProxy> {
  let ports = [...targets]
  let turn = 0
  let rejected = 0
  let closed = false
  const pipes = new Set<Pipe>()
  const pending = new Set<Socket>()

  /** The targets to try for one new connection: all of them, starting with the one whose turn it is. */
  function order(): number[] {
    if (ports.length === 0) return []
    const start = turn % ports.length
    turn = (start + 1) % ports.length
    return [...ports.slice(start), ...ports.slice(0, start)]
  }

  function join(pipe: Pipe, upstream: Socket, target: number): void {
    pipe.upstream = upstream
    pipe.target = target
    upstream.on('error', () => {})
    for (const [self, other] of [
      [pipe.client, upstream],
      [upstream, pipe.client],
    ] as const) {
      self.on('close', () => {
        // A socket that closed without ending cleanly (reset, error) takes
        // its partner down; after a clean end the partner may finish flushing.
        if (!other.writableEnded) other.destroy()
        pipe.closedSockets += 1
        if (pipe.closedSockets === 2) pipes.delete(pipe)
      })
    }
    forward(pipe.client, upstream)
    forward(upstream, pipe.client)
  }

  async function onConnection(client: Socket): Promise<void> {
    // A listener first, so that no socket error can become an uncaught exception.
    client.on('error', () => {})
    const pipe: Pipe = { client, upstream: undefined, target: undefined, closedSockets: 0 }
    pipes.add(pipe)
    let clientGone = false
    const onEarlyClose = () => {
      clientGone = true
      pipes.delete(pipe)
    }
    client.once('close', onEarlyClose)
    // Nothing reads the client until upstream is connected: its bytes wait in the socket.
    for (const target of order()) {
      if (clientGone || closed) break
      const upstream = await tryConnect(target, pending)
      if (upstream === undefined) continue
      if (clientGone || closed) {
        upstream.destroy()
        return
      }
      client.off('close', onEarlyClose)
      join(pipe, upstream, target)
      return
    }
    pipes.delete(pipe)
    client.off('close', onEarlyClose)
    if (!clientGone) {
      rejected += 1
      resetSocket(client)
    }
  }

  // Half-open on both sides: a peer's FIN closes only that direction, as without the proxy, and the other keeps flowing.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => void onConnection(client))
  server.on('error', () => {})
  const port = await listenOnLoopback(server)

  let closing: Promise<void> | undefined
  const proxy: RoundRobinProxy = {
    port,
    url: (path) => `ws://${HOST}:${port}${path}`,
    get targets() {
      return [...ports]
    },
    setTargets(newPorts) {
      ports = [...newPorts]
    },
    get connections() {
      let count = 0
      for (const pipe of pipes) if (pipe.upstream !== undefined) count += 1
      return count
    },
    connectionsTo(target) {
      let count = 0
      for (const pipe of pipes) if (pipe.target === target) count += 1
      return count
    },
    get rejected() {
      return rejected
    },
    close() {
      closing ??= (async () => {
        closed = true
        const listenerClosed = new Promise<void>((resolve) => server.close(() => resolve()))
        const sockets = [...pending]
        for (const pipe of pipes) sockets.push(pipe.client, ...(pipe.upstream ? [pipe.upstream] : []))
        // destroy() closes at once; its 'close' comes a tick later, and then nothing is left to count.
        const socketsClosed = sockets.map((socket) => (socket.closed ? undefined : new Promise((resolve) => socket.once('close', resolve))))
        for (const socket of sockets) socket.destroy()
        await Promise.all([listenerClosed, ...socketsClosed])
        pipes.clear()
      })()
      return closing
    },
  }
  try {
    onTestFinished(() => proxy.close())
  } catch {
    // Started outside a test (beforeAll): the caller closes it.
  }
  return proxy
}
