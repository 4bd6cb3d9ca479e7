/**
 * Pipelined calls: one connection, a window of 100 calls in flight (each
 * answer starts the next call), `echo(echoInput(i))` with every `i` unique.
 * Result: calls per second.
 */
import { echoInput, isEcho, type BenchConnection } from '../contract'
import { perSecond, type BenchCase } from './case'
import { pipeline } from './pipeline'
import { Mismatch, preview } from './verify'

const IN_FLIGHT = 100

/** 20,000 calls take about 0.5 s at raw ws speed on a 2-core machine: the shortest window worth timing. */
const COUNTS = {
  full: { warmup: 2_000, measured: 20_000 },
  quick: { warmup: 500, measured: 3_000 },
}

/** The calls `first` .. `first + count - 1`, `inFlight` at a time, every answer checked. */
function echoes(connection: BenchConnection, first: number, count: number, inFlight: number): Promise<void> {
  return pipeline(first, count, inFlight, async (id) => {
    const output = await connection.echo(echoInput(id))
    if (!isEcho(output, id)) throw new Mismatch(`echo ${id}: got ${preview(output)}`)
  })
}

export const calls: BenchCase = {
  name: 'calls',
  label: 'pipelined calls/s',
  better: 'higher',
  describe: (quick) => {
    const { warmup, measured } = quick ? COUNTS.quick : COUNTS.full
    return `1 connection, ${IN_FLIGHT} echo calls in flight; ${measured.toLocaleString('en-US')} measured after ${warmup.toLocaleString('en-US')} warm-up`
  },
  async prepare({ impl, port, quick }) {
    const { warmup, measured } = quick ? COUNTS.quick : COUNTS.full
    const connection = await impl.connect(port)
    await echoes(connection, 0, warmup, IN_FLIGHT)
    return {
      async run() {
        await echoes(connection, warmup, measured, IN_FLIGHT)
        return { ops: measured }
      },
      close: () => connection.close(),
    }
  },
  value: perSecond,
}
