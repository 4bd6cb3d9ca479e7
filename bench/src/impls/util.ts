/**
 * Small helpers shared by the hand-written parts of the implementations.
 */
import type WebSocket from 'ws'

/** Resolves with `socket` once it is open; rejects if it fails or closes first. */
export function openWebSocket(socket: WebSocket): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    socket.once('error', onError)
    socket.once('close', (code) => reject(new Error(`WebSocket closed with ${code} before it opened`)))
    socket.once('open', () => {
      socket.off('error', onError)
      socket.on('error', (error) => failLater(error))
      resolve(socket)
    })
  })
}

/**
 * Throws `error` outside any promise chain: the client process reports an
 * uncaught exception as a failed run. For errors that arrive where no caller
 * waits (a subscription that fails after it started, an answer to nothing).
 */
export function failLater(error: Error): void {
  setImmediate(() => {
    throw error
  })
}
