/**
 * Sequential calls, one at a time, on one connection: the round trip of one
 * `echo`. Result: p50 in µs (p99 as a second row), once the process is
 * warm: V8 optimises a function only after it has run many times, and a
 * library that runs forty functions per call is still partly in its
 * interpreter and baseline tiers after a few hundred calls (issue 23: with
 * 500 warm-up calls wirecall measured 1.6–1.9× raw's p50, with 20,000 about
 * 1.4×, while raw ws barely changes). So the warm-up runs for at least
 * {@link WARM_MS}, and the p50 of calls 500 to 2,500 — what the first
 * seconds of a fresh process feel like — is reported as its own row.
 */
import { hrtime } from 'node:process'
import { echoInput, isEcho } from '../contract'
import { percentile } from '../stats'
import type { BenchCase } from './case'
import { Mismatch, preview } from './verify'

/**
 * tRPC's ws client waits a timer tick (about 1 ms) before it sends, so its
 * runs take seconds: 3,000 calls is as many as the default run affords.
 */
const COUNTS = {
  full: { warmup: 500, cold: 2_000, measured: 3_000 },
  quick: { warmup: 100, cold: 200, measured: 500 },
}

/** How long the warm-up lasts at least (after `warmup + cold` calls): 30,000 calls or more at raw ws's speed. */
const WARM_MS = { full: 2_500, quick: 300 }

export const latency: BenchCase = {
  name: 'latency',
  label: 'p50 latency µs',
  better: 'lower',
  describe: (quick) => {
    const { warmup, cold, measured } = quick ? COUNTS.quick : COUNTS.full
    const warmMs = quick ? WARM_MS.quick : WARM_MS.full
    return `1 connection, one echo call at a time; ${measured.toLocaleString('en-US')} measured after a warm-up of at least ${warmMs / 1000} s; the cold row: calls ${warmup} to ${(warmup + cold).toLocaleString('en-US')} of a fresh process`
  },
  async prepare({ impl, port, quick }) {
    const { warmup, cold, measured } = quick ? COUNTS.quick : COUNTS.full
    const connection = await impl.connect(port)
    const call = async (id: number) => {
      const output = await connection.echo(echoInput(id))
      if (!isEcho(output, id)) throw new Mismatch(`echo ${id}: got ${preview(output)}`)
    }
    /** `count` calls from id `first`, timed: µs each, sorted. */
    const timed = async (first: number, count: number) => {
      const micros = new Float64Array(count)
      for (let i = 0; i < count; i++) {
        const start = hrtime.bigint()
        await call(first + i)
        micros[i] = Number(hrtime.bigint() - start) / 1_000
      }
      return micros.sort()
    }
    const warmStart = Date.now()
    for (let id = 0; id < warmup; id++) await call(id)
    const coldMicros = await timed(warmup, cold)
    let next = warmup + cold
    while (Date.now() - warmStart < (quick ? WARM_MS.quick : WARM_MS.full)) await call(next++)
    return {
      async run() {
        const micros = await timed(next, measured)
        return {
          ops: measured,
          extra: {
            p50Us: percentile(micros, 0.5),
            p99Us: percentile(micros, 0.99),
            maxUs: micros[measured - 1] ?? 0,
            coldP50Us: percentile(coldMicros, 0.5),
            coldP99Us: percentile(coldMicros, 0.99),
            warmupCalls: next,
          },
        }
      },
      close: () => connection.close(),
    }
  },
  value: (sample) => sample.extra.p50Us ?? NaN,
  extraRows: [
    { label: 'p99 latency µs', better: 'lower', value: (sample) => sample.extra.p99Us ?? NaN },
    { label: 'p50 latency µs, cold (calls 500–2,500)', better: 'lower', value: (sample) => sample.extra.coldP50Us ?? NaN },
  ],
}
