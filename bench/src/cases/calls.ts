/**
 * Pipelined calls: one connection, a window of 100 calls in flight (each
 * answer starts the next call), `echo(echoInput(i))` with every `i` unique.
 * Result: calls per second.
 */
import { echoInput, isEcho, type BenchConnection } from '../contract'
import { perSecond, type BenchCase } from './case'
import { Mismatch, preview } from './verify'

const IN_FLIGHT = 100

/** 20,000 calls take about 0.5 s at raw ws speed on a 2-core machine: the shortest window worth timing. */
const COUNTS = {
  full: { warmup: 2_000, measured: 20_000 },
  quick: { warmup: 500, measured: 3_000 },
}

/**
 * Makes the calls `first` .. `first + count - 1`, `inFlight` at a time, and
 * checks every answer.
 */
export function pipeline(connection: BenchConnection, first: number, count: number, inFlight: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const end = first + count
    let next = first
    let answered = 0
    let failed = false
    const fail = (error: unknown) => {
      if (failed) return
      failed = true
      reject(error)
    }
    const launch = (): void => {
      const id = next++
      connection.echo(echoInput(id)).then((output) => {
        if (failed) return
        if (!isEcho(output, id)) return fail(new Mismatch(`echo ${id}: got ${preview(output)}`))
        answered++
        if (next < end) launch()
        else if (answered === count) resolve()
      }, fail)
    }
    for (let i = 0; i < Math.min(inFlight, count); i++) launch()
    if (count === 0) resolve()
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
    await pipeline(connection, 0, warmup, IN_FLIGHT)
    return {
      async run() {
        await pipeline(connection, warmup, measured, IN_FLIGHT)
        return { ops: measured }
      },
      close: () => connection.close(),
    }
  },
  value: perSecond,
}
