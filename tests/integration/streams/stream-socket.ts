import WebSocket from 'ws'
import type { WebSocketConstructor } from '@wirecall/client'

/**
 * What a client's socket carried for its streams, seen from outside the
 * client: the size of every `chunk` message it wrote, and the credit the
 * server granted. The chunks written and not yet credited back are what
 * the client holds for the server; {@link uncreditedBytes} sums them.
 */
export interface StreamWire {
  /** UTF-16 length of each chunk message written, oldest first, not yet credited back. */
  readonly uncredited: number[]
  /** Chunk messages written, in all. */
  chunksSent: number
  /** Largest chunk message written, in UTF-16 code units (bytes, for ASCII). */
  largestChunk: number
  /** Every `credit` received, in order. */
  readonly credits: number[]
  /** Every message written, parsed. */
  readonly sent: Record<string, unknown>[]
  /** The sockets the client opened (the last is the current one). */
  readonly sockets: WebSocket[]
  uncreditedBytes(): number
}

/** A `ws` WebSocket class that records what {@link StreamWire} describes. */
export function recordingWebSocket(): { WebSocket: WebSocketConstructor; wire: StreamWire } {
  const wire: StreamWire = {
    uncredited: [],
    chunksSent: 0,
    largestChunk: 0,
    credits: [],
    sent: [],
    sockets: [],
    uncreditedBytes: () => wire.uncredited.reduce((a, b) => a + b, 0),
  }
  class StreamRecordingWebSocket extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args)
      wire.sockets.push(this)
      // Every credit after the first on a socket returns chunks; the first is the window.
      const granted = new Set<unknown>()
      this.on('message', (data) => {
        for (const message of messagesOf(String(data))) {
          if (message.type !== 'credit') continue
          const n = message.n as number
          wire.credits.push(n)
          if (granted.has(message.id)) wire.uncredited.splice(0, n)
          else granted.add(message.id)
        }
      })
    }

    override send(data: unknown, ...rest: unknown[]): void {
      for (const message of messagesOf(String(data))) {
        wire.sent.push(message)
        if (message.type !== 'chunk') continue
        const size = JSON.stringify(message).length
        wire.uncredited.push(size)
        wire.chunksSent++
        wire.largestChunk = Math.max(wire.largestChunk, size)
      }
      ;(super.send as (...args: unknown[]) => void)(data, ...rest)
    }
  }
  return { WebSocket: StreamRecordingWebSocket, wire }
}

function messagesOf(frame: string): Record<string, unknown>[] {
  const parsed = JSON.parse(frame) as unknown
  return (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[]
}
