/**
 * What one run of the `inflight` and `payload` cases does on its
 * connection, shared by the client process (which makes the calls) and the
 * cases (which describe them): how many calls, how many in flight, and the
 * call itself with its check.
 *
 * - `inflight`: `echo(echoInput(id))`, `size` calls in flight.
 * - `payload`: `echoText({ id, text })` with a text of `size` bytes,
 *   {@link PAYLOAD_IN_FLIGHT} in flight. The counts are set by bytes, so
 *   that every size moves tens of MiB, after a warm-up that spends a rate
 *   limit's burst, and none takes minutes.
 */
import { Mismatch, preview } from '../../cases/verify'
import { echoInput, isEcho, type BenchConnection } from '../../contract'
import { EchoTexts } from './echo-text'

export type CallsMode = 'inflight' | 'payload'

/** Calls in flight in the payload case: enough to keep a connection busy, few enough that one call's size is what is measured. */
export const PAYLOAD_IN_FLIGHT = 16

const MiB = 1_048_576

export interface Counts {
  warmup: number
  measured: number
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, Math.round(value)))

/**
 * The inflight case's counts: at 100 in flight the main calls case's; fewer
 * with fewer in flight (one call at a time goes at the speed of a round
 * trip), and at least 40 rounds of the window with more.
 */
export function inflightCounts(inFlight: number, quick: boolean): Counts {
  if (quick) return { warmup: Math.max(500, 2 * inFlight), measured: inFlight < 10 ? 1_000 : Math.max(3_000, 10 * inFlight) }
  return { warmup: Math.max(2_000, 2 * inFlight), measured: inFlight < 10 ? 5_000 : inFlight < 100 ? 10_000 : Math.max(20_000, 40 * inFlight) }
}

/**
 * The payload case's counts, each way: 32 MiB measured, within bounds,
 * after 8 MiB of warm-up where that takes at most 10,000 calls, so that a
 * rate limit's burst (wirecall's is 8 MiB) is spent before the measured
 * part, which then shows the sustained rate. A quick run: far fewer.
 */
export function payloadCounts(size: number, quick: boolean): Counts {
  return quick
    ? { warmup: clamp(MiB / size, 32, 500), measured: clamp((4 * MiB) / size, 64, 3_000) }
    : { warmup: clamp((8 * MiB) / size, PAYLOAD_IN_FLIGHT, 10_000), measured: clamp((32 * MiB) / size, 64, 20_000) }
}

/** One run's calls: counts, window, and one call with its check. */
/** `size: measured after warmup` for each size, as the cases' descriptions list them; `name` says how a size reads. */
export function countsLine(sizes: readonly number[], counts: (size: number) => Counts, name: (size: number) => string): string {
  const n = (value: number) => value.toLocaleString('en-US')
  return sizes
    .map((size) => {
      const { warmup, measured } = counts(size)
      return `${name(size)}: ${n(measured)} after ${n(warmup)}`
    })
    .join(', ')
}

export interface Workload extends Counts {
  inFlight: number
  /** Makes call `id` on `connection` and checks its answer; rejects with a {@link Mismatch} naming `label`. */
  call(connection: BenchConnection, id: number): Promise<void>
}

export function workload(mode: CallsMode, size: number, quick: boolean, label: string): Workload {
  if (mode === 'inflight') {
    return {
      ...inflightCounts(size, quick),
      inFlight: size,
      async call(connection, id) {
        const output = await connection.echo(echoInput(id))
        if (!isEcho(output, id)) throw new Mismatch(`${label}: echo ${id}: got ${preview(output)}`)
      },
    }
  }
  const texts = new EchoTexts(size)
  return {
    ...payloadCounts(size, quick),
    inFlight: PAYLOAD_IN_FLIGHT,
    async call(connection, id) {
      const output = await connection.echoText(texts.input(id))
      if (!texts.matches(output, id)) throw new Mismatch(`${label}: echoText ${id} (${size} bytes): got ${preview(output)}`)
    },
  }
}
