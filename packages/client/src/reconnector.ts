import { backoffDelay } from './backoff'
import { isOffline } from './environment'
import type { ReconnectOptions } from './options'
import { clampDelay, unref } from './timers'

/** A scheduled reconnect attempt, as `api.$connection.on('reconnect')` reports it. */
export interface ReconnectAttempt {
  /** 1 for the first attempt after a drop, then 2, 3... until a connection is stable again. */
  attempt: number
  /** How long the client waits before this attempt. */
  delayMs: number
}

/**
 * When to try connecting again. Owns the backoff counter and the one retry
 * timer; knows nothing of sockets.
 *
 * - Consecutive failures grow the wait (full jitter, capped); a connection
 *   that stays open for `stableAfterMs` resets them.
 * - A restart the server announced replaces the next wait with the delay the
 *   server assigned, so the clients of one server spread their reconnects.
 * - While the runtime says it is offline, the timer is not armed at all:
 *   the attempt waits for {@link now} (the `online` event).
 */
export class Reconnector {
  private failures = 0
  private declare timer: ReturnType<typeof setTimeout> | undefined
  private declare stableTimer: ReturnType<typeof setTimeout> | undefined
  private declare pending: (() => void) | undefined
  private declare announcedDelayMs: number | undefined

  constructor(private readonly options: Required<ReconnectOptions> | false) {}

  /**
   * Schedules `attempt` after the next wait. Returns what was scheduled, or
   * `undefined` when the client should give up (reconnect off, or
   * `maxRetries` consecutive failures).
   *
   * `holdProcess`: the client has work waiting for the connection (calls,
   * subscriptions). The wait then keeps a Node process alive, as the open
   * socket did, so a script whose only work is a subscription does not exit
   * in the middle of a reconnect. Otherwise the timer is unref'd.
   */
  schedule(attempt: () => void, holdProcess: boolean): ReconnectAttempt | undefined {
    this.cancel()
    if (this.options === false) return undefined
    let delayMs: number
    if (this.announcedDelayMs !== undefined) {
      delayMs = this.announcedDelayMs
      this.announcedDelayMs = undefined
      this.failures = 0
    } else {
      if (this.failures >= this.options.maxRetries) return undefined
      delayMs = backoffDelay(this.failures, this.options)
    }
    // setTimeout fires at once for anything above ~24.8 days: `maxDelayMs: Infinity` must not become a tight loop.
    delayMs = clampDelay(delayMs)
    this.failures++
    this.pending = attempt
    this.timer = setTimeout(() => this.fire(), delayMs)
    if (!holdProcess) unref(this.timer)
    return { attempt: this.failures, delayMs }
  }

  /** Runs the scheduled attempt at once (back online, page visible again). */
  now(): void {
    if (this.pending === undefined) return
    clearTimeout(this.timer)
    this.fire()
  }

  /** The server announced a restart: the next wait is `delayMs`, whatever the backoff says. */
  announced(delayMs: number): void {
    this.announcedDelayMs = delayMs
  }

  /** A connection is open: once it has lasted `stableAfterMs`, failures are forgotten. */
  connected(): void {
    clearTimeout(this.stableTimer)
    if (this.options === false) return
    this.stableTimer = setTimeout(() => {
      this.stableTimer = undefined
      this.failures = 0
    }, this.options.stableAfterMs)
    unref(this.stableTimer)
  }

  /** The connection dropped before it was stable: its failure still counts. */
  disconnected(): void {
    clearTimeout(this.stableTimer)
    this.stableTimer = undefined
  }

  /** Forgets the scheduled attempt and every timer. */
  cancel(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.pending = undefined
    this.disconnected()
  }

  private fire(): void {
    this.timer = undefined
    // Offline: no point dialling; the `online` event calls now().
    if (isOffline()) return
    const attempt = this.pending
    this.pending = undefined
    attempt?.()
  }
}

/** Resolves `reconnect` options against the defaults; `false` stays off. */
export function reconnectOptions(
  option: ReconnectOptions | false | undefined,
  defaults: Required<ReconnectOptions>,
): Required<ReconnectOptions> | false {
  if (option === false) return false
  return { ...defaults, ...definedOnly(option) }
}

/** Drops keys set to `undefined`, so they do not override defaults in a spread. */
export function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  const out: Partial<T> = {}
  if (value === undefined) return out
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] !== undefined) out[key] = value[key]
  return out
}
