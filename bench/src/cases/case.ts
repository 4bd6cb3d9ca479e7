/**
 * What a benchmark case is: how the client process runs it, and how the
 * orchestrator turns its samples into the table's numbers.
 */
import type { Impl } from '../contract'

/** The case names, in the table's row order. */
export const CASE_NAMES = ['calls', 'latency', 'push', 'fanout', 'memory'] as const
export type CaseName = (typeof CASE_NAMES)[number]

/** What a case gets in the client process. */
export interface CaseContext {
  impl: Impl
  port: number
  /** `--quick`: small counts, a smoke run. */
  quick: boolean
}

/** What the measured part of a case reports. */
export interface Measured {
  /** Operations done: calls, events, deliveries, connections. */
  ops: number
  /**
   * The measured window in nanoseconds when the case times a narrower one
   * than its whole `run()` (from a subscribe to its last event, say).
   */
  elapsedNs?: number
  /** Case-specific numbers, kept in the results file. */
  extra?: Record<string, number>
}

/** A case after its set-up and warm-up, ready for the measured part. */
export interface PreparedCase {
  /** The measured part. Throws a {@link Mismatch} on anything unexpected. */
  run(): Promise<Measured>
  /** Closes every connection the case opened; throws if verification failed late. */
  close(): Promise<void>
}

/** One run of a case with one implementation, as the orchestrator records it. */
export interface RunSample {
  ops: number
  elapsedNs: number
  /** CPU time of the client process over the measured part, µs. */
  clientCpuUs: number
  /** CPU time of the server process between 'go' and 'done', µs. */
  serverCpuUs: number
  extra: Record<string, number>
}

/** A benchmark case. */
export interface BenchCase {
  name: CaseName
  /** The row label in the table, with its unit. */
  label: string
  /** Which way is better, for the table's arrows. */
  better: 'higher' | 'lower'
  /** How the counts look, for the legend under the table. */
  describe(quick: boolean): string
  /** The orchestrator measures the server's memory before 'go' and after 'done'. */
  serverMemory?: true
  /** Runs in the client process: connects, warms up, and returns the measured part. */
  prepare(context: CaseContext): Promise<PreparedCase>
  /** The table's number for one sample. */
  value(sample: RunSample): number
  /** Further rows derived from the same samples (p99 latency, say). */
  extraRows?: ExtraRow[]
}

/** A row of the table computed from another case's samples. */
export interface ExtraRow {
  label: string
  better: 'higher' | 'lower'
  value(sample: RunSample): number
}

/** Operations per second over a sample's window. */
export function perSecond(sample: RunSample): number {
  return sample.ops / (sample.elapsedNs / 1e9)
}
