import type { ResyncReason } from '@wirecall/core'
import type { BackendEntry, ChannelBackend } from '@wirecall/server'
import { onTestFinished } from 'vitest'

/** Everything one {@link ChannelBackend.tail} told its listener, in order, with when each batch arrived. */
export interface RecordedTail {
  /** Resolves with the position the tail started after. */
  readonly started: Promise<string | undefined>
  readonly events: BackendEntry[]
  /** `performance.now()` when each event arrived, index for index with {@link events}. */
  readonly arrivals: number[]
  readonly resets: { reason: ResyncReason; position: string | undefined; afterEvents: number }[]
  close(): void
}

/** Tails `stream` on `backend`, recording every listener call; closed after the test. */
export function recordTail(backend: ChannelBackend, stream: string): RecordedTail {
  let resolveStarted!: (position: string | undefined) => void
  const started = new Promise<string | undefined>((resolve) => (resolveStarted = resolve))
  const events: BackendEntry[] = []
  const arrivals: number[] = []
  const resets: RecordedTail['resets'] = []
  const tail = backend.tail(stream, {
    started: (position) => resolveStarted(position),
    events: (entries) => {
      const at = performance.now()
      for (const entry of entries) {
        events.push(entry)
        arrivals.push(at)
      }
    },
    reset: (reason, position) => resets.push({ reason, position, afterEvents: events.length }),
  })
  let closed = false
  const close = () => {
    if (closed) return
    closed = true
    tail.close()
  }
  onTestFinished(close)
  return { started, events, arrivals, resets, close }
}
