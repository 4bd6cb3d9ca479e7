/**
 * What the scale-out case runs: the configurations side by side (one
 * process with the in-memory channel; Redis with 1, 2 and 4 processes), the
 * subscribers and client processes, and the counts of each phase.
 */

/** Where a node keeps its channel. */
export type NodeBackend = 'memory' | 'redis'

/** One line of the report: a backend on a number of server processes. */
export interface Config {
  id: string
  label: string
  backend: NodeBackend
  nodes: number
}

/** In report order; the first is the base of every ratio. */
export const CONFIGS: readonly Config[] = [
  { id: 'memory', label: 'in-memory, 1 process', backend: 'memory', nodes: 1 },
  { id: 'redis-1', label: 'Redis, 1 process', backend: 'redis', nodes: 1 },
  { id: 'redis-2', label: 'Redis, 2 processes', backend: 'redis', nodes: 2 },
  { id: 'redis-4', label: 'Redis, 4 processes', backend: 'redis', nodes: 4 },
]

/** The configuration every ratio divides by. */
export const BASE_CONFIG = CONFIGS[0]!

/** The channel's key in Redis (one stream, one meta hash). */
export const CHANNEL_NAME = 'bench-feed'

/** Subscribers of the channel, spread round-robin over the nodes: subscriber i on node i mod nodes. */
export const SUBSCRIBERS = 200

/**
 * Subscribers of the latency-only run: at 1,000 events/s, 10,000
 * deliveries/s, the pace of the fan-out scale case's latency figure, where
 * the figure is one event's path. At 200 subscribers the same pace is
 * 200,000 deliveries/s, each event a frame and a write per subscriber, and
 * the last of 200 sockets waits for the 199 writes before it: that latency
 * is reported too, and it is the fan-out's, not the backend's.
 */
export const LATENCY_SUBSCRIBERS = 10

/**
 * Client processes holding them, whatever the node count: the client side
 * costs the same in every configuration, and two processes can use both
 * cores of the machine the figures were measured on.
 */
export const CLIENT_PROCESSES = 2

/** The channel's `history` (Redis: `MAXLEN ~ history`). */
export const HISTORY = 1_000

/** Publishes a node has sent to Redis and not yet seen stored, at most (the unpaced publish awaits each burst). */
export const MAX_PUBLISHES_IN_FLIGHT = 100

/** The counts of one run. */
export interface Plan {
  /** Events of the unmeasured warm-up publish (JIT, buffers, the reader's first XREAD). */
  warmup: number
  /** Events of the measured publish, as fast as the node accepts. */
  measured: number
  /** Events per burst of both: the most publishes in flight. */
  burst: number
  /** The paced, stamped publish whose deliveries give p50 and p99. */
  latency: { events: number; perSecond: number; burst: number }
}

/** The counts: a few seconds per run in full, a smoke run with `quick`. */
export function planFor(quick: boolean): Plan {
  return quick
    ? { warmup: 50, measured: 300, burst: MAX_PUBLISHES_IN_FLIGHT, latency: { events: 1_000, perSecond: 1_000, burst: 1 } }
    : { warmup: 200, measured: 2_000, burst: MAX_PUBLISHES_IN_FLIGHT, latency: { events: 3_000, perSecond: 1_000, burst: 1 } }
}
