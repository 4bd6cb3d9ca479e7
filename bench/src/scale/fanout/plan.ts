/**
 * What the fan-out scale case does at each size: how many subscriber
 * processes, how many events each phase publishes, in what bursts and at
 * what pace. Counts scale with the size so that every run delivers about
 * the same total and takes seconds, whatever the number of subscribers.
 */

/** Subscribers of the one channel. */
export const SIZES = { full: [10, 100, 1_000, 10_000], quick: [10, 100] } as const

/** Deliveries the measured deliveries/s phase makes, whatever the size: a few seconds at raw ws's pace. */
const MEASURED_DELIVERIES = 200_000
/** Deliveries of the warm-up before it (JIT, buffers, the libraries' caches). */
const WARMUP_DELIVERIES = 20_000
/** Deliveries per burst (one macrotask of publishing), as the main fanout case's 100 events × 200 subscribers does roughly. */
const DELIVERIES_PER_BURST = 20_000
/** The main fanout case's burst, the most events one macrotask publishes. */
const MAX_BURST = 100

/**
 * The latency phase's pace: a fixed total of deliveries per second, well
 * below what any library delivers (tRPC, the slowest, about 24,000/s at 200
 * subscribers on 2 cores), so that the figure is the path of one event,
 * not a queue.
 */
export const LATENCY_DELIVERIES_PER_SECOND = 10_000
/**
 * Never fewer events per second: 2 at 10,000 subscribers (20,000
 * deliveries/s there, where tRPC does not run). One event's fan-out to
 * 10,000 sockets takes a library a good part of a second; more events per
 * second would queue behind one another.
 */
export const MIN_EVENTS_PER_SECOND = 2
/** The paced publish lasts this long at least... */
const MIN_LATENCY_SECONDS = 1
/** ...and as long as this many events take (4 s at 10,000 subscribers): p99 over a few events would be one event's. */
const MIN_LATENCY_EVENTS = 8
/** Timer ticks per second at most: several events share a tick above this rate (timers fire no finer than 1 ms). */
const MAX_TICKS_PER_SECOND = 500

/** A client process holds at most this many subscribers: 10,000 go over 4 processes. */
const SUBSCRIBERS_PER_PROCESS = 2_500

/** One size's plan. */
export interface SizePlan {
  subscribers: number
  /** Client processes the subscribers are split over. */
  processes: number
  /** Events of the warm-up publish. */
  warmup: number
  /** Events of the measured deliveries/s publish. */
  measured: number
  /** Events per macrotask in both. */
  burst: number
  /** The paced, stamped publish whose deliveries give p50 and p99. */
  latency: { events: number; perSecond: number; burst: number; seconds: number }
}

export function planFor(subscribers: number, quick: boolean): SizePlan {
  const perSecond = Math.max(MIN_EVENTS_PER_SECOND, Math.round(LATENCY_DELIVERIES_PER_SECOND / subscribers))
  const latencyBurst = Math.ceil(perSecond / MAX_TICKS_PER_SECOND)
  const seconds = Math.max(MIN_LATENCY_SECONDS, MIN_LATENCY_EVENTS / perSecond)
  // A smoke run needs the path exercised, not a stable figure.
  const scale = quick ? 0.3 : 1
  return {
    subscribers,
    processes: Math.ceil(subscribers / SUBSCRIBERS_PER_PROCESS),
    warmup: Math.ceil((WARMUP_DELIVERIES * scale) / subscribers),
    measured: Math.ceil((MEASURED_DELIVERIES * scale) / subscribers),
    burst: Math.min(MAX_BURST, Math.max(1, Math.floor(DELIVERIES_PER_BURST / subscribers))),
    latency: { events: Math.ceil((perSecond * seconds) / latencyBurst) * latencyBurst, perSecond, burst: latencyBurst, seconds },
  }
}
