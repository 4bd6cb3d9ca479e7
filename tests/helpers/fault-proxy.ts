import { onTestFinished } from 'vitest'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { listenOnLoopback, resetSocket } from './sockets'

/**
 * A TCP proxy on 127.0.0.1 that sits between a WebSocket client and its server
 * and can simulate network faults: a dropped link (`cut`), a silent link that
 * keeps the sockets open but forwards nothing (`stall`), an unreachable server
 * (`refuse`) and a server that came back on another port (`setTarget`).
 *
 * It works below WebSocket, on raw bytes, so neither peer can tell it is there
 * and faults look like the network's: no close frames, no HTTP errors.
 */
export interface FaultProxy {
  /** The port the proxy listens on (127.0.0.1). */
  readonly port: number
  /** `ws://127.0.0.1:<port><path>` */
  url(path: string): string
  /**
   * Drops every current pipe both ways at once, like a network drop: both
   * sockets are reset (TCP RST), so the peers see ECONNRESET/EOF and no close
   * frame (a `ws` client reports close code 1006). New connections still pass.
   */
  cut(): void
  /**
   * Stops forwarding on every current pipe in both directions without closing
   * anything (a half-open link or a silent proxy). Bytes are held, not dropped:
   * both sockets are paused, so data waits in the socket and kernel buffers (and
   * TCP flow control pushes back on the senders) and is delivered, in order, on
   * `restore()`. Because nothing is read, a peer closing its socket while stalled
   * goes unnoticed until `restore()` too (as on a dead link), so `connections`
   * does not drop meanwhile. New connections made while stalled are stalled too
   * when `stallNew` is true (they are accepted and connected upstream, but
   * nothing flows, not even the HTTP upgrade); by default they pass.
   */
  stall(options?: { stallNew?: boolean }): void
  /** Resumes forwarding on stalled pipes and for new connections, and ends `refuse(true)`. */
  restore(): void
  /**
   * While true, new incoming connections are reset at once (server
   * unreachable: the client sees ECONNRESET before any HTTP response).
   * Existing pipes are left alone.
   */
  refuse(on: boolean): void
  /** Number of live pipes (a pipe is gone once both of its sockets have closed). */
  readonly connections: number
  /** Points new connections at another upstream port on 127.0.0.1 (server restarted elsewhere); current pipes stay. */
  setTarget(port: number): void
  /** Destroys every pipe and closes the listener. Idempotent; also run after the test. */
  close(): Promise<void>
}

const HOST = '127.0.0.1'

/** One accepted client socket and its upstream socket. */
interface Pipe {
  client: Socket
  upstream: Socket
  stalled: boolean
  closedSockets: number
}

/**
 * Starts a fault proxy on 127.0.0.1 and a free port, forwarding to
 * 127.0.0.1:`targetPort`; closed after the test (register it after the server
 * it fronts, or not: closing either first is fine).
 */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let target = targetPort
  let refusing = false
  let stallNew = false
  const pipes = new Set<Pipe>()

  /**
   * Whether `from` may flow into `to`: not while the pipe is stalled, and not
   * while `to` has a full write buffer (ordinary backpressure, so a fast sender
   * cannot make the proxy buffer without bound).
   */
  function mayFlow(pipe: Pipe, to: Socket): boolean {
    return !pipe.stalled && !to.writableNeedDrain
  }

  function forward(pipe: Pipe, from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      // pause() stops 'data' synchronously, so nothing should arrive while
      // stalled; if a chunk ever does, put it back rather than forward it.
      if (pipe.stalled) {
        from.pause()
        from.unshift(chunk)
        return
      }
      if (!to.write(chunk)) from.pause()
    })
    to.on('drain', () => {
      if (mayFlow(pipe, to)) from.resume()
    })
    // A FIN is passed on as a FIN, so orderly closes (after a close frame) stay orderly.
    from.on('end', () => {
      to.end()
    })
  }

  function onConnection(client: Socket): void {
    // A listener first, so that no socket error can become an uncaught exception.
    client.on('error', () => {})
    if (refusing) {
      resetSocket(client)
      return
    }
    const upstream = connect({ host: HOST, port: target })
    upstream.on('error', () => {})
    const pipe: Pipe = { client, upstream, stalled: stallNew, closedSockets: 0 }
    pipes.add(pipe)
    for (const [self, other] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      self.on('close', () => {
        // A socket that closed without ending cleanly (reset, error, upstream
        // connect failure) takes its partner down; after a clean end the
        // partner was already ended and may finish flushing.
        if (!other.writableEnded) other.destroy()
        pipe.closedSockets += 1
        if (pipe.closedSockets === 2) pipes.delete(pipe)
      })
    }
    forward(pipe, client, upstream)
    forward(pipe, upstream, client)
    if (pipe.stalled) {
      client.pause()
      upstream.pause()
    }
  }

  const server: Server = createServer(onConnection)
  server.on('error', () => {})
  const port = await listenOnLoopback(server)

  let closing: Promise<void> | undefined
  const proxy: FaultProxy = {
    port,
    url: (path) => `ws://${HOST}:${port}${path}`,
    cut() {
      for (const pipe of [...pipes]) {
        resetSocket(pipe.client)
        resetSocket(pipe.upstream)
      }
    },
    stall(options) {
      stallNew = options?.stallNew ?? false
      for (const pipe of pipes) {
        pipe.stalled = true
        pipe.client.pause()
        pipe.upstream.pause()
      }
    },
    restore() {
      stallNew = false
      refusing = false
      for (const pipe of pipes) {
        pipe.stalled = false
        if (mayFlow(pipe, pipe.upstream)) pipe.client.resume()
        if (mayFlow(pipe, pipe.client)) pipe.upstream.resume()
      }
    },
    refuse(on) {
      refusing = on
    },
    get connections() {
      return pipes.size
    },
    setTarget(newPort) {
      target = newPort
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const pipe of pipes) {
          pipe.client.destroy()
          pipe.upstream.destroy()
        }
      })
      return closing
    },
  }
  onTestFinished(() => proxy.close())
  return proxy
}
