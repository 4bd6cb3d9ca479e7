/**
 * A resuming client of one library, as client.ts drives it: subscribe,
 * lose the connection, come back and resume.
 */

export interface Resumer {
  /** Connects and subscribes to the feed; resolves once the server has the subscription in place. */
  start(port: number, onEvent: (event: unknown) => void): Promise<void>
  /**
   * Cuts the connection from the client side (the socket is terminated, as
   * a network failure would) and holds the reconnect; resolves once the
   * client has seen the loss and waits to reconnect.
   */
  drop(): Promise<void>
  /**
   * Lets the reconnect go. The promise resolves once the library says the
   * feed resumed where it stopped, and rejects if it says it could not
   * (wirecall: `resumed: false` or a resync; socket.io: not `recovered`).
   */
  resume(): Promise<void>
  close(): Promise<void>
}
