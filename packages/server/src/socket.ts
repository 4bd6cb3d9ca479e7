/**
 * The few things a connection needs from a WebSocket. The connection logic
 * is written against this, never against `ws` directly, so another runtime
 * (Bun, uWebSockets.js) needs only a short adapter file.
 */
export interface RpcSocket {
  /** The negotiated subprotocol; wirecall requires `wirecall.v1`. */
  readonly protocol: string
  /** Bytes queued by the socket but not yet written to the network. */
  readonly bufferedAmount: number
  /** Queues one text frame. Must not throw once the socket is closing. */
  send(data: string): void
  /** Starts the closing handshake. `reason` is at most 123 bytes of UTF-8. */
  close(code: number, reason: string): void
  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void
}

/** Most bytes a close frame's reason may hold (RFC 6455, 125 - 2 for the code). */
const MAX_CLOSE_REASON_BYTES = 123

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Cuts `reason` to what a close frame can carry, without splitting a character. */
export function truncateCloseReason(reason: string): string {
  const bytes = encoder.encode(reason)
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason
  let end = MAX_CLOSE_REASON_BYTES
  // Step back over UTF-8 continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return decoder.decode(bytes.subarray(0, end))
}
