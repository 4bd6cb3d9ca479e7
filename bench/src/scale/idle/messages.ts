/**
 * What the idle case's orchestrator (scale/idle.ts) and its client
 * processes (idle/client.ts) say to each other.
 */
import type { OpenFilesLimit } from '../../proc-status'

/** The orchestrator to a client process. */
export type ToIdleClient =
  /** Open `count` more connections to `port` (handshakes done), `concurrency` at a time. */
  | { type: 'open'; port: number; count: number }
  /** Echo once on every open connection and check each answer: every one is live and served. */
  | { type: 'check' }
  /** Close every open connection. */
  | { type: 'close' }
  | { type: 'exit' }

/** A client process to the orchestrator. */
export type FromIdleClient =
  | { type: 'ready'; openFiles: OpenFilesLimit }
  | { type: 'opened'; open: number }
  | { type: 'checked'; echoes: number }
  | { type: 'closed' }
