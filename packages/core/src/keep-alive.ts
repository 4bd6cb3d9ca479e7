/** Options of `keepAlive`: both the server's and the client's take this shape, with their own defaults. */
export interface KeepAliveOptions {
  /**
   * How long the line may be quiet (nothing received) before a ping is sent.
   */
  intervalMs?: number
  /**
   * How long to wait for anything at all after a ping before the peer is
   * declared dead. A half-open connection is detected within
   * `intervalMs + timeoutMs`.
   */
  timeoutMs?: number
}
