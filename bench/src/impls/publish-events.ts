/**
 * What every implementation's `publish` sends and when: one module, so that
 * raw ws, wirecall, tRPC and socket.io stamp and pace their events alike by
 * construction. Without `stamp` and `perSecond` (the main cases), `publish`
 * sends `pushEvent(seq)` and goes on at the next macrotask, as before.
 */
import { hrtime } from 'node:process'
import { pushEvent, type PushEvent } from '../contract'

/**
 * The `seq`-th event of a publish; with `stamp`, it carries `at`: the
 * server's monotonic clock as it is published, which a client in any
 * process of the machine can subtract from its own at receipt.
 */
export function publishedEvent(seq: number, input: { stamp?: boolean | undefined }): PushEvent {
  return input.stamp === true ? { ...pushEvent(seq), at: Number(hrtime.bigint()) } : pushEvent(seq)
}

/**
 * With `perSecond`, what `publish` awaits between bursts: a timer until the
 * next burst is due on a fixed schedule (the event numbered `published` at
 * `published / perSecond` s after the first), so lateness never accumulates
 * into a faster or slower rate. `undefined` without `perSecond`: the
 * implementation goes on at its next macrotask, as the main cases measure it.
 */
export function burstPacer(input: { perSecond?: number | undefined }): ((published: number) => Promise<void>) | undefined {
  const perSecond = input.perSecond
  if (perSecond === undefined) return undefined
  const startMs = performance.now()
  return (published) => {
    const waitMs = startMs + (published * 1000) / perSecond - performance.now()
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, waitMs)))
  }
}
