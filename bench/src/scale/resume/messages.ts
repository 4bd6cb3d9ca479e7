/**
 * What the orchestrator of the `resume` case (scale/resume.ts) says to its
 * server process (resume/server.ts) and its client process
 * (resume/client.ts), and what they answer.
 */

/** The implementations that can resume a feed: wirecall's channel, socket.io's connection state recovery. */
export type ResumeImpl = 'wirecall' | 'socketio'

export const RESUME_IMPLS: readonly ResumeImpl[] = ['wirecall', 'socketio']

/** The orchestrator to the server process. */
export type ToResumeServer =
  /** Publish the next `count` events of the feed (seq numbers go on from the last publish). */
  | { type: 'publish'; count: number }
  /** How many feed subscribers are connected now. */
  | { type: 'subscribers' }
  | { type: 'cpu' }
  | { type: 'close' }

/** The server process to the orchestrator. */
export type FromResumeServer =
  | { type: 'ready'; port: number }
  /** Published; `total` events so far. */
  | { type: 'published'; total: number }
  | { type: 'subscribers'; count: number }
  /** CPU µs (user + system) used since the process started. */
  | { type: 'cpu'; us: number }

/** The orchestrator to the client process. */
export type ToResumeClient =
  /** Wait until `total` events have arrived (every one checked). */
  | { type: 'expect'; total: number }
  /** Cut the connection from the client side and hold the reconnect. */
  | { type: 'drop' }
  /** Let the reconnect go, and time it until `total` events have arrived. */
  | { type: 'resume'; total: number }
  | { type: 'close' }
  | { type: 'exit' }

/** The client process to the orchestrator. */
export type FromResumeClient =
  /** Connected and subscribed to the feed. */
  | { type: 'ready' }
  | { type: 'received'; total: number }
  /** The connection is gone, the client knows it, and its reconnect waits. */
  | { type: 'dropped' }
  /** From letting the reconnect go to the last replayed event. */
  | { type: 'resumed'; elapsedNs: number }
  | { type: 'closed' }
