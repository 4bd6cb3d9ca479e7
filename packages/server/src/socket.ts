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
  /**
   * Optional: calls `listener` each time the socket's write buffer drains,
   * until the returned function is called. Flow control polls instead when
   * it is missing, which works but reacts later.
   */
  onDrain?(listener: () => void): () => void
}
