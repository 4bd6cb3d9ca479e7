/**
 * Sequential calls, one at a time, on one connection: the round trip of one
 * `echo`. Result: p50 in µs (p99 as a second row).
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
  full: { warmup: 500, measured: 3_000 },
  quick: { warmup: 100, measured: 500 },
}

export const latency: BenchCase = {
  name: 'latency',
  label: 'p50 latency µs',
  better: 'lower',
  describe: (quick) => {
    const { warmup, measured } = quick ? COUNTS.quick : COUNTS.full
    return `1 connection, one echo call at a time; ${measured.toLocaleString('en-US')} measured after ${warmup.toLocaleString('en-US')} warm-up`
  },
  async prepare({ impl, port, quick }) {
    const { warmup, measured } = quick ? COUNTS.quick : COUNTS.full
    const connection = await impl.connect(port)
    const call = async (id: number) => {
      const output = await connection.echo(echoInput(id))
      if (!isEcho(output, id)) throw new Mismatch(`echo ${id}: got ${preview(output)}`)
    }
    for (let id = 0; id < warmup; id++) await call(id)
    return {
      async run() {
        const micros = new Float64Array(measured)
        for (let i = 0; i < measured; i++) {
          const start = hrtime.bigint()
          await call(warmup + i)
          micros[i] = Number(hrtime.bigint() - start) / 1_000
        }
        micros.sort()
        return { ops: measured, extra: { p50Us: percentile(micros, 0.5), p99Us: percentile(micros, 0.99), maxUs: micros[measured - 1] ?? 0 } }
      },
      close: () => connection.close(),
    }
  },
  value: (sample) => sample.extra.p50Us ?? NaN,
  extraRows: [{ label: 'p99 latency µs', better: 'lower', value: (sample) => sample.extra.p99Us ?? NaN }],
}
