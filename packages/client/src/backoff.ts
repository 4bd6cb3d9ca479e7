import type { ReconnectOptions } from './options'

/**
 * How long to wait before reconnect attempt number `failures + 1`: "full
 * jitter" — a uniformly random wait between 0 and the exponential ceiling
 * `min(maxDelayMs, minDelayMs * factor ** failures)`. Randomising the whole
 * wait (not just a few percent of it) is what keeps thousands of clients
 * that lost the same server from coming back in step.
 *
 * @example
 * ```ts
 * backoffDelay(3, { minDelayMs: 500, maxDelayMs: 30_000, factor: 2 }) // somewhere in [0, 4_000)
 * ```
 */
export function backoffDelay(
  failures: number,
  options: Required<Pick<ReconnectOptions, 'minDelayMs' | 'maxDelayMs' | 'factor'>>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.minDelayMs * options.factor ** Math.max(0, failures))
  return Math.floor(random() * Math.max(0, ceiling))
}
