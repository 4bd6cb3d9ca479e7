/**
 * The messages between the orchestrator (main.ts) and its two children per
 * run: the server process and the client process. Plain objects over Node's
 * IPC channel (JSON-serializable).
 */

import type { ProcessStatus } from './proc-status'

/** `process.memoryUsage()` minus what is not serializable. */
export interface MemorySample {
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
}

/** The orchestrator to the server process. */
export type ToServer = { type: 'cpu' } | { type: 'memory' } | { type: 'status' } | { type: 'close' }

/** The server process to the orchestrator. */
export type FromServer =
  | { type: 'ready'; port: number }
  | { type: 'cpu'; usage: NodeJS.CpuUsage }
  | { type: 'memory'; usage: MemorySample }
  /** Its pid, open-file limit and peak RSS (scale cases). */
  | { type: 'status'; status: ProcessStatus }
  | { type: 'failed'; error: string }

/** The orchestrator to the client process. */
export type ToClient = { type: 'start'; port: number } | { type: 'go' } | { type: 'close' }

/** What a client process reports after the measured part of a case. */
export interface ClientDone {
  type: 'done'
  /** Operations in the measured part (calls, events, deliveries, connections). */
  ops: number
  /** Length of the measured window in nanoseconds, as the case defines it. */
  elapsedNs: number
  /** `process.cpuUsage()` delta over the measured part, in microseconds. */
  cpu: NodeJS.CpuUsage
  /** Case-specific numbers (p50/p99 latency, ...). */
  extra: Record<string, number>
}

/** The client process to the orchestrator. */
export type FromClient = { type: 'listening' } | { type: 'ready' } | ClientDone | { type: 'closed' } | { type: 'failed'; error: string }

/** The message of any thrown value, with its stack when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`
  return String(error)
}

/**
 * Sends on the IPC channel and resolves once the message is handed over.
 * A child without IPC is a bug in how it was started.
 */
export function sendToParent(message: FromServer | FromClient): Promise<void> {
  const send = process.send?.bind(process)
  if (send === undefined) throw new Error('this process must be forked with an IPC channel (run main.ts)')
  return new Promise((resolve, reject) => {
    send(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()))
  })
}

/**
 * Makes the child exit when the orchestrator goes away (a crash, a kill -9),
 * so no child outlives it.
 */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(2))
}
