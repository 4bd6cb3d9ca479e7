/**
 * Server push to one client: one `stream(count)` subscription, every event
 * checked in order. Result: events per second, from the subscribe to the
 * last event.
 */
import { hrtime } from 'node:process'
import type { BenchConnection } from '../contract'
import { perSecond, type BenchCase } from './case'
import { SeqChecker } from './verify'

/** 100,000 events: well over 0.5 s at raw ws speed. */
const COUNTS = {
  full: { warmup: 5_000, measured: 100_000 },
  quick: { warmup: 1_000, measured: 10_000 },
}

/** Runs one stream of `count` events, checks it, and returns ns from subscribe to its last event. */
async function timedStream(connection: BenchConnection, count: number): Promise<number> {
  const checker = new SeqChecker(`stream(${count})`, count)
  let lastAt = 0n
  checker.onComplete = () => {
    lastAt = hrtime.bigint()
  }
  const start = hrtime.bigint()
  await connection.stream(count, checker.onEvent)
  checker.checkComplete()
  return Number(lastAt - start)
}

export const push: BenchCase = {
  name: 'push',
  label: 'push events/s',
  better: 'higher',
  describe: (quick) => {
    const { warmup, measured } = quick ? COUNTS.quick : COUNTS.full
    return `1 connection, stream(${measured.toLocaleString('en-US')}) after a stream(${warmup.toLocaleString('en-US')}) warm-up`
  },
  async prepare({ impl, port, quick }) {
    const { warmup, measured } = quick ? COUNTS.quick : COUNTS.full
    const connection = await impl.connect(port)
    await timedStream(connection, warmup)
    return {
      async run() {
        return { ops: measured, elapsedNs: await timedStream(connection, measured) }
      },
      close: () => connection.close(),
    }
  },
  value: perSecond,
}
