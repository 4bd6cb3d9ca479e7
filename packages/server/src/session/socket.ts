/**
 * The few things a session needs from a WebSocket. Sessions are written
 * against this, never against `ws`, so another socket library (Bun's
 * server, uWebSockets.js) needs only a short adapter: see
 * `RpcServer.opened`.
 */
export interface RpcSocket {
  /** The negotiated subprotocol; wirecall requires `wirecall.v1`. */
  readonly protocol: string
  /** Bytes queued by the socket but not yet written to the network; flow control reads it after every write. */
  readonly bufferedAmount: number
  /** Queues one text frame. Must not throw, even once the socket is closing. */
  send(data: string): void
  /** Starts the closing handshake. `reason` is at most 123 bytes of UTF-8. */
  close(code: number, reason: string): void
  /** Destroys the connection at once, without a closing handshake. */
  terminate(): void
  /**
   * Optional: sends a WebSocket ping frame. With it, the server's
   * `keepAlive` watches the socket (report pongs with `pong()` on the
   * session); without it, a silent peer is left to the client's own
   * keep-alive and to TCP.
   */
  ping?(): void
  /**
   * Optional: calls `listener` each time the socket's write buffer drains,
   * until the returned function is called. Flow control polls instead when
   * it is missing, which works but reacts later.
   */
  onDrain?(listener: () => void): () => void
  /**
   * Optional: stops reading frames from the network until `resume()`. The
   * session calls it while a peer is over its byte budget
   * (`rateLimit.bytesPerSecond`), so that the peer's TCP window slows it;
   * without it, frames keep arriving and wait in memory, and a peer that
   * sends twice the byte burst ahead is closed with 1008.
   */
  pause?(): void
  /** Optional, with `pause()`: reads frames again. */
  resume?(): void
}

/** What the server knows of a connection's HTTP upgrade, whatever socket library carried it. */
export interface UpgradeInfo {
  /** The upgrade request's headers, lower-case names as Node gives them. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>
  /** The peer's address, for `maxConnectionsPerIp` and logs. */
  remoteAddress?: string | undefined
  /** The request's path and query, e.g. `/rpc?v=2`. */
  url?: string | undefined
}

/**
 * A session as the socket adapter drives it: every frame the socket
 * receives goes to `receive`, and `closed` is called once when the socket
 * is gone, whoever closed it.
 */
export interface SocketEvents {
  /** One frame: a string for a text frame; anything else is a binary frame, refused with 4400. */
  receive(data: string | ArrayBuffer | ArrayBufferView): void
  /** A pong frame arrived (only for sockets with `ping()`). */
  pong(): void
  /**
   * The socket closed, whichever side closed it. Call it once, with the
   * close code and reason the socket reports when it has them (the
   * instrumentation's `onClose` gets them; 1006 without).
   */
  closed(code?: number, reason?: string): void
}
