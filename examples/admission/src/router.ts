import { setTimeout as sleep } from 'node:timers/promises'
import { initRpc, tracked } from '@wirecall/core'
import { z } from 'zod'
import { judge, MAX_NUMBER, MIN_NUMBER } from './rule'

/** The bounds of the announcements' interval, in milliseconds. */
export const MIN_EVERY_MS = 100
export const MAX_EVERY_MS = 60_000

/** Counts the `announcements` generators: started, and ended (their `finally` ran). */
export interface AnnouncementStreams {
  started: number
  ended: number
}

export interface AppRouterOptions {
  /** Draws the next announced number, 1 to 100. Default: `Math.random()`. Tests pass a fixed sequence. */
  draw?: () => number
  /** Updated as announcement streams start and end. */
  streams?: AnnouncementStreams
}

const rpc = initRpc.create()

/** A whole number from 1 to 100: `0`, `101`, `1.5` and `"7"` are refused with `BAD_REQUEST`. */
const Lucky = z.number().int().min(MIN_NUMBER).max(MAX_NUMBER)

/** The router of the admission gate. */
export function createAppRouter(options: AppRouterOptions = {}) {
  const draw = options.draw ?? (() => MIN_NUMBER + Math.floor(Math.random() * (MAX_NUMBER - MIN_NUMBER + 1)))
  const streams = options.streams ?? { started: 0, ended: 0 }

  return rpc.router({
    /** Is this number admitted? */
    check: rpc.procedure.input(z.object({ number: Lucky })).query(({ input }) => judge(input.number)),

    /**
     * A verdict on a random draw at once, then every `everyMs`, until the
     * client unsubscribes. Each is tracked with its draw number, so a client
     * that reconnects resumes the numbering where it left off (draws are
     * random: the ones it missed are not replayed).
     */
    announcements: rpc.procedure
      .input(z.object({ everyMs: z.number().int().min(MIN_EVERY_MS).max(MAX_EVERY_MS) }))
      .subscription(async function* ({ input, signal, lastEventId }) {
        let n = parseDrawId(lastEventId) ?? 0
        streams.started++
        try {
          for (;;) {
            n++
            yield tracked(String(n), { draw: n, ...judge(draw()), at: new Date() })
            await sleep(input.everyMs, undefined, { signal }) // rejects as soon as the subscription ends
          }
        } finally {
          streams.ended++ // runs however it ends: unsubscribe, disconnect, server close
        }
      }),
  })
}

/** A resuming client's `lastEventId` as a draw number, or `undefined` when it is not one. It is untrusted input. */
export function parseDrawId(lastEventId: string | undefined): number | undefined {
  return lastEventId !== undefined && /^[1-9]\d{0,8}$/.test(lastEventId) ? Number(lastEventId) : undefined
}

/** The type a client imports: `import type { AppRouter } from './router'`. */
export type AppRouter = ReturnType<typeof createAppRouter>
