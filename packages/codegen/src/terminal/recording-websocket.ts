import type { WebSocketConstructor } from '@wirecall/client'
import WebSocket from 'ws'

/**
 * `ws`'s WebSocket (Node 20 has no global one), reporting each socket's
 * `error` event to `onError`. The client sees only the close that follows
 * (1006, no reason); the error says why: `connect ECONNREFUSED
 * 127.0.0.1:4000`, `getaddrinfo ENOTFOUND`, `Unexpected server response: 404`.
 */
export function recordingWebSocket(onError: (error: Error) => void): WebSocketConstructor {
  return class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      this.on('error', onError)
    }
  }
}
