/**
 * What the storm case's orchestrator (scale/storm.ts) and its client
 * processes (storm/client.ts) say to each other.
 */

/** The orchestrator to a client process. */
export type ToStormClient =
  /** Start `count` subscribers of `port`'s feed, `CONNECT_CONCURRENCY` at a time, each until its subscription is acknowledged. */
  | { type: 'open'; port: number; count: number }
  /** From now on every subscriber expects exactly `events` events, seq 0 up (the last phase's must all have come). */
  | { type: 'expect'; events: number }
  /** The first subscriber publishes `count` events to all. */
  | { type: 'publish'; count: number }
  /** Waits until every subscriber has every expected event. */
  | { type: 'await-events' }
  /** The server is about to restart: report `resubscribed` once every subscriber's subscription has been acknowledged again. */
  | { type: 'arm' }
  /** How many subscribers have not resubscribed yet. */
  | { type: 'progress' }
  | { type: 'close' }
  | { type: 'exit' }

/** A client process to the orchestrator. */
export type FromStormClient =
  | { type: 'ready' }
  | { type: 'opened' }
  | { type: 'expecting' }
  | { type: 'published' }
  | { type: 'received'; events: number }
  | { type: 'armed' }
  /** Every subscriber is back: when the first and the last came back (Date.now()), and what happened on the way. */
  | ({ type: 'resubscribed'; firstAt: number; lastAt: number } & StormTally)
  | { type: 'progress'; pending: number; total: number }
  | { type: 'closed' }

/** What a client process saw between the restart's `arm` and its last subscriber's return. */
export interface StormTally {
  /** Subscriptions the server could not resume (wirecall's onResync). */
  resyncs: number
  /** Acknowledged subscriptions beyond one per subscriber (a subscriber that dropped again). */
  extraStarts: number
  /** Closed sockets and failed attempts, by reason (`close 1012`, `attempt failed`, `transport close`...). */
  drops: Record<string, number>
  /** Reconnect attempts scheduled (socket.io: made). */
  retries: number
  /** The longest wait scheduled before an attempt, ms (where the library says). */
  maxRetryDelayMs: number
}
