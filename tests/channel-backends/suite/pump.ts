import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'
import { within } from '../../helpers/async'
import { msg, type Msg } from './fixture'
import type { ConformanceChannel } from './types'

/** A publisher running beside the test: a few events per turn of the event loop, numbered after `from`, bounded by `max`. */
export interface Pump {
  /** Number of the newest event published so far. */
  readonly last: number
  /** Ids by number, filled as the pump publishes. */
  readonly ids: string[]
  /** Stops it; resolves to the number of the last event once its publish has resolved. */
  stop(): Promise<number>
}

/**
 * `perTurn` events per turn of the event loop, or per `pauseMs` when it is
 * set: a pump beside a client that reconnects must not outrun it (nor
 * publish its whole `max` before the test is done with it).
 */
export function startPump(channel: ConformanceChannel<Msg>, from: number, ids: string[] = [], { perTurn = 3, max = from + 20_000, pauseMs = 0 } = {}): Pump {
  let last = from
  let running = true
  const done = (async () => {
    while (running && last < max) {
      for (let i = 0; i < perTurn && last < max; i++) {
        const n = last + 1
        ids[n] = await channel.publish(msg(n))
        last = n
      }
      await (pauseMs > 0 ? sleep(pauseMs) : nextTurn())
    }
  })()
  return {
    get last() {
      return last
    },
    ids,
    async stop() {
      running = false
      await within(done, 'the pump to stop')
      return last
    },
  }
}
