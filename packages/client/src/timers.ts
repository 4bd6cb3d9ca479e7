/** Longest delay `setTimeout` honours; longer ones (and Infinity) would fire at once. About 24.8 days. */
const MAX_TIMER_MS = 2_147_483_647

/** A delay `setTimeout` honours: `Infinity` means "as long as a timer can wait"; negative and NaN mean "at once". */
export function clampDelay(ms: number): number {
  return ms > MAX_TIMER_MS ? MAX_TIMER_MS : ms >= 0 ? ms : 0
}

/**
 * Lets a Node process exit while this timer is pending. Browsers have no
 * such notion, so the call is a no-op there.
 */
export function unref(timer: ReturnType<typeof setTimeout>): void {
  ;(timer as { unref?: () => void }).unref?.()
}
