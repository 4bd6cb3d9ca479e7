/**
 * What the orchestrator of the `inflight` and `payload` cases (run-point.ts)
 * and their client process (client.ts) say to each other.
 */

/** The orchestrator to the client process. */
export type ToCallsClient =
  /** Run the measured calls. */
  | { type: 'go' }
  /** Close the connection. */
  | { type: 'close' }
  | { type: 'exit' }

/** The client process to the orchestrator. */
export type FromCallsClient =
  /** Connected and warmed up. */
  | { type: 'ready' }
  /** The measured part: `calls` in `elapsedNs`, every answer checked; the client's CPU over it. */
  | { type: 'done'; calls: number; elapsedNs: number; cpuUs: number }
  | { type: 'closed' }
