import { initRpc, resync, tracked, withPosition } from '@wirecall/core'
import { z } from 'zod'

/**
 * Ticks are a pure function of the clock: tick `n` happens at `n * tickMs`
 * (epoch milliseconds) and its id is `String(n)`. So any server process with
 * the same `tickMs` can replay the ticks a resuming client missed, even
 * ticks from before it started: there is nothing to store.
 */
export const Tick = z.object({ n: z.number().int(), at: z.date() })
export type Tick = z.infer<typeof Tick>

/** How far back (and forward) a resuming client's `lastEventId` may be; further, it gets a resync. */
export const MAX_REPLAY_TICKS = 1_000

const rpc = initRpc.create()

/** The router for ticks every `tickMs` milliseconds. */
export function createAppRouter(options: { tickMs: number }) {
  const { tickMs } = options
  const tickAt = (n: number): Tick => ({ n, at: new Date(n * tickMs) })
  const currentTick = () => Math.floor(Date.now() / tickMs)

  /**
   * The ticks after `after`, forever: those already due at once (the
   * replay), then each one at its boundary. Replay and live are the same
   * loop, so there is no gap and no duplicate between them.
   */
  async function* ticksAfter(after: number, missed: boolean, signal: AbortSignal) {
    if (missed) yield resync() // the client's id is too old (or not ours): what it missed is not replayed
    for (let n = after + 1; ; ) {
      const wait = n * tickMs - Date.now()
      if (wait > 0) {
        await sleep(wait, signal) // rejects when the subscription ends; timers can fire early, so loop and check again
      } else {
        yield tracked(String(n), tickAt(n))
        n++
      }
    }
  }

  return rpc.router({
    ticks: rpc.procedure.output(Tick).subscription(({ lastEventId, signal }) => {
      const now = currentTick()
      const resumeAfter = parseTickId(lastEventId, now)
      const after = resumeAfter ?? now // fresh, or unusable id: start with the next tick
      const stream = ticksAfter(after, lastEventId !== undefined && resumeAfter === undefined, signal)
      // The stream's position, sent in `started`: a client that drops before its first tick
      // resumes after `after` and still misses nothing. (It marks the generator object itself,
      // which is also its own iterator.)
      withPosition(stream, () => String(after))
      return stream
    }),
  })
}

/**
 * A resuming client's `lastEventId` as a tick number, when it is one within
 * {@link MAX_REPLAY_TICKS} of `now`. An id a little ahead of `now` (a server
 * whose clock ran ahead) is honoured too: the stream waits for the next tick
 * after it, so the client gets no duplicates. Anything else is `undefined`.
 */
export function parseTickId(lastEventId: string | undefined, now: number): number | undefined {
  if (lastEventId === undefined || !/^\d{1,16}$/.test(lastEventId)) return undefined
  const n = Number(lastEventId)
  return Number.isSafeInteger(n) && Math.abs(now - n) <= MAX_REPLAY_TICKS ? n : undefined
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts (and clears the timer). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    function onAbort() {
      clearTimeout(timer)
      reject(signal.reason as Error)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** The type a client imports: `import type { AppRouter } from './router'`. */
export type AppRouter = ReturnType<typeof createAppRouter>
