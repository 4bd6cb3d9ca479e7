import { connect, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/** Options of {@link startRoundRobinProxy}. */
export interface RoundRobinProxyOptions {
  /** Ports of the chat processes on `host`. */
  upstreams: readonly number[]
  /** Where the proxy listens; 0 picks a free port. */
  port: number
  /** @default '127.0.0.1' (for the proxy and the upstreams) */
  host?: string | undefined
}

/** A running proxy. */
export interface RoundRobinProxy {
  readonly port: number
  /** Connections open now, per upstream, in the order of `upstreams`. */
  open(): number[]
  /** Stops listening and cuts every connection. */
  close(): Promise<void>
}

/**
 * A TCP load balancer in a few lines, as a stand-in for the real one in
 * front of a deployment: each new connection (a page load, a WebSocket)
 * goes to the next upstream in turn, and to the one after if that one
 * refuses (a process that died), so pages reconnect to whichever process
 * is alive. Bytes are piped both ways untouched; when one side closes,
 * so does the other, so a killed process drops its pages' connections.
 */
export async function startRoundRobinProxy(options: RoundRobinProxyOptions): Promise<RoundRobinProxy> {
  const { upstreams } = options
  const host = options.host ?? '127.0.0.1'
  const open = upstreams.map(() => 0)
  const sockets = new Set<Socket>()
  let next = 0

  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }

  /** Tries the upstreams from `first` on, each once; cuts the client when none answers. */
  const dial = (client: Socket, first: number, tried = 0): void => {
    if (tried === upstreams.length || client.destroyed) return void client.destroy()
    const index = (first + tried) % upstreams.length
    const upstream = connect({ port: upstreams[index]!, host })
    track(upstream)
    let connected = false
    // Refused (the process is gone): the next one gets this connection.
    upstream.once('error', () => {
      if (!connected) dial(client, first, tried + 1)
    })
    upstream.once('connect', () => {
      connected = true
      open[index]!++
      upstream.once('close', () => open[index]!--)
      client.pipe(upstream).pipe(client)
      client.resume()
      // Either side going away takes the other with it; errors are just a close here.
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
      client.once('close', () => upstream.destroy())
      upstream.once('close', () => client.destroy())
    })
  }

  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    track(client)
    client.on('error', () => client.destroy())
    dial(client, next)
    next = (next + 1) % upstreams.length
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as AddressInfo).port,
    open: () => [...open],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
  }
}
