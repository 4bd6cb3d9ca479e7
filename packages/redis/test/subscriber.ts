import { isResync, type ChannelEvent, type ResyncReason } from '@wirecall/core'
import { onTestFinished } from 'vitest'

/** What one channel subscriber received: the events' data and ids, and each resync with how many events came before it. */
export interface Subscriber<T> {
  readonly data: T[]
  readonly ids: string[]
  readonly resyncs: { reason: ResyncReason | undefined; afterEvents: number }[]
  /** Set when the iteration threw. */
  readonly failure: unknown
  /** Resolves once the channel knows where this subscriber starts (what the server awaits before it sends `started`). */
  readonly ready: Promise<void>
  /** Ends the iteration (aborts its signal) and waits for it to finish. */
  stop(): Promise<void>
}

/**
 * Iterates `subscribe(signal)` in the background, recording what arrives,
 * until the test ends (or `stop()`): the subscription's signal is aborted
 * then and the loop awaited, so no iterator outlives the test.
 */
export function subscriber<T>(subscribe: (signal: AbortSignal) => AsyncIterable<ChannelEvent<T>>): Subscriber<T> {
  const controller = new AbortController()
  const record = {
    data: [] as T[],
    ids: [] as string[],
    resyncs: [] as Subscriber<T>['resyncs'],
    failure: undefined as unknown,
  }
  const iterator = subscribe(controller.signal)[Symbol.asyncIterator]()
  // The channel marks its iterators with this promise (server/src/channel/encoded-envelope.ts `withReady`).
  const marked = (iterator as unknown as Partial<Record<symbol, Promise<unknown>>>)[Symbol.for('wirecall.ready')]
  const ready = Promise.resolve(marked).then(() => {})
  const loop = (async () => {
    try {
      for (;;) {
        const step = await iterator.next()
        if (step.done === true) break
        const item = step.value
        if (isResync(item)) record.resyncs.push({ reason: item.reason, afterEvents: record.data.length })
        else {
          record.data.push(item.data)
          // A volatile event has no id.
          if (item.id !== undefined) record.ids.push(item.id)
        }
      }
    } catch (error) {
      record.failure = error
    }
  })()
  const stop = async () => {
    controller.abort()
    await loop
  }
  onTestFinished(stop)
  return Object.assign(record, { stop, ready })
}

/** 1..n, the sequence a publisher of numbered events sends. */
export function sequence(n: number, from = 1): number[] {
  return Array.from({ length: n }, (_, i) => from + i)
}
