/**
 * The IPC messages between the fan-out scale case (orchestrator side,
 * run.ts) and its subscriber processes (subscriber-process.ts). Times are
 * `process.hrtime.bigint()` values as decimal strings: IPC is JSON, and
 * every process reads the same monotonic clock.
 */
import type { PublishInput } from '../../contract'

/** The orchestrator to a subscriber process. */
export type ToSubscribers =
  /** Connect every subscriber to the server on `port` and subscribe each to `feed`. */
  | { type: 'connect'; port: number }
  /** The next publish sends `count` events (seq 0..count-1): expect them on every subscriber, with `at` if `stamped`. */
  | { type: 'expect'; count: number; stamped: boolean }
  /** The publisher's process only: call `publish(input)` and tell when it was called. */
  | { type: 'publish'; input: PublishInput }
  /** Unsubscribe, close every connection, check that nothing more arrived, exit. */
  | { type: 'close' }

/** A subscriber process to the orchestrator. */
export type FromSubscribers =
  /** Its IPC listener is installed: messages sent from now on are not lost. */
  | { type: 'listening' }
  | { type: 'connected' }
  | { type: 'expecting' }
  /** `publish` answered; `startNs` is when it was called. */
  | { type: 'published'; startNs: string }
  /**
   * Every subscriber of the process has the expected events: `lastNs` is
   * when the last one arrived; with `stamped`, `latenciesNs` holds each
   * delivery's receipt time minus its `at`.
   */
  | { type: 'delivered'; lastNs: string; latenciesNs: number[] }
  | { type: 'closed' }
  | { type: 'failed'; error: string }
