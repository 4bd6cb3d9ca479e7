/**
 * The IPC messages between the scale-out case (run.ts) and its subscriber
 * processes (subscriber-process.ts): the fan-out scale case's, except that
 * `connect` names every node, since a process's subscribers are spread
 * round-robin over them.
 */
import type { FromSubscribers, ToSubscribers } from '../scale/fanout/messages'

/** The orchestrator to a subscriber process. */
export type ToNodeSubscribers =
  | Exclude<ToSubscribers, { type: 'connect' }>
  /** Connect subscriber i (numbered across processes) to the node on `ports[i % ports.length]` and subscribe each to `feed`. */
  | { type: 'connect'; ports: number[] }

/** A subscriber process to the orchestrator: as in the fan-out scale case. */
export type FromNodeSubscribers = FromSubscribers
