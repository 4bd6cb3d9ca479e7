import { isResync, type ChannelEvent } from '@wirecall/core'
import { within } from '../../helpers/async'
import type { ConformanceChannel } from './types'
import { msg, type Msg } from './fixture'

/** What a subscriber saw, in order: event numbers, and `resync:<reason>` for each resync. */
export type Seen = number | `resync:${string}`

export const seen = (value: ChannelEvent<Msg>): Seen => (isResync(value) ? `resync:${value.reason ?? ''}` : value.data.n)

export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)

/** Publishes `msg(from)..msg(to)` one after the other; resolves to their ids, indexed by number. */
export async function publishRange(channel: ConformanceChannel<Msg>, from: number, to: number, ids: string[] = []): Promise<string[]> {
  for (let n = from; n <= to; n++) ids[n] = await channel.publish(msg(n))
  return ids
}

/**
 * Pulls from `iterator` until `last` says stop (checked after each value),
 * bounded by `timeoutMs`; resolves to what was seen. Does not end the
 * iteration: the caller returns it (or aborts its signal).
 */
export async function readUntil(
  iterator: AsyncIterator<ChannelEvent<Msg>>,
  last: (value: Seen, all: readonly Seen[]) => boolean,
  what: string,
  timeoutMs = 5_000,
): Promise<Seen[]> {
  const all: Seen[] = []
  await within(
    (async () => {
      for (;;) {
        const result = await iterator.next()
        if (result.done === true) throw new Error(`the iteration ended after ${JSON.stringify(all)} while waiting for ${what}`)
        const value = seen(result.value)
        all.push(value)
        if (last(value, all)) return
      }
    })(),
    what,
    timeoutMs,
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; seen so far: ${JSON.stringify(all)}`, { cause: error })
  })
  return all
}

/** Reads exactly `count` values. */
export const readCount = async (iterator: AsyncIterator<ChannelEvent<Msg>>, count: number, what: string, timeoutMs?: number) =>
  count === 0 ? [] : readUntil(iterator, (_, all) => all.length >= count, what, timeoutMs)

/** Ends every iteration (`return()`), as a subscriber that leaves does. */
export async function endAll(iterators: Iterable<AsyncIterator<unknown>>): Promise<void> {
  await Promise.all([...iterators].map(async (iterator) => void (await iterator.return?.())))
}

/** Resolves to whether `promise` settles within `ms` (it is left running either way): to show a `next()` is still waiting. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
  ])
  clearTimeout(timer)
  return settled
}
