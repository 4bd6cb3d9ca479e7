/**
 * The server side of the resume case, as each library would serve a feed
 * that survives a dropped connection: what server.ts drives.
 */

export interface FeedServer {
  port: number
  /** Publishes `pushEvent(seq)` to the feed. */
  publish(seq: number): void
  /** Feed subscribers connected now: 0 once the server has seen a dropped client go. */
  subscribers(): number
  close(): Promise<void>
}
