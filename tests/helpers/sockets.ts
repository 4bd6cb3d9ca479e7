import type { AddressInfo, Server, Socket } from 'node:net'

/**
 * Resets a socket (RST rather than FIN, as a dropped link would), falling back
 * to a plain destroy. Errors this raises land on the socket's own 'error'
 * listener, which every socket of the proxies has.
 */
export function resetSocket(socket: Socket): void {
  if (socket.destroyed) return
  if (socket.connecting) {
    socket.destroy()
    return
  }
  try {
    socket.resetAndDestroy()
  } catch {
    socket.destroy()
  }
}

/** Listens on a free port of 127.0.0.1 (a net or http server); resolves to the port, rejects with a listen error. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return (server.address() as AddressInfo).port
}
