import { z } from 'zod'
import { initRpc, stream, tracked } from '@wirecall/core'

/**
 * The procedures the stream tests call: stream inputs consumed at various
 * paces, and a duplex subscription. `hooks` lets a test see what a
 * resolver saw (its signal, the error its loop threw).
 */
export interface StreamProbe {
  /** The resolver's signal, once it started. */
  signal?: AbortSignal
  /** What the resolver's `for await` threw, if it did. */
  loopError?: unknown
  /** Chunks the resolver took, in order. */
  taken: unknown[]
  /** Set to make `stalled` read again. */
  resume?: () => void
}

export function streamProbe(): StreamProbe {
  return { taken: [] }
}

const rpc = initRpc.create()

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export function streamRouter(probe: StreamProbe) {
  /** Reads the whole stream, recording each chunk and what the loop threw; returns how many it read. */
  async function drain(input: AsyncIterable<unknown>, signal: AbortSignal, paceMs = 0): Promise<number> {
    probe.signal = signal
    let count = 0
    try {
      for await (const chunk of input) {
        probe.taken.push(chunk)
        count++
        if (paceMs > 0) await sleep(paceMs)
      }
    } catch (error) {
      probe.loopError = error
      throw error
    }
    return count
  }
  return rpc.router({
    ping: rpc.procedure.query(() => 'pong'),
    plain: rpc.procedure.input(z.number()).mutation(({ input }) => input),
    sum: rpc.procedure.input(stream(z.number())).mutation(async ({ input, signal }) => {
      await drain(input, signal)
      return (probe.taken as number[]).reduce((a, b) => a + b, 0)
    }),
    count: rpc.procedure.input(stream(z.number())).query(async ({ input, signal }) => drain(input, signal)),
    /** One chunk per millisecond. */
    paced: rpc.procedure.input(stream(z.string())).mutation(async ({ input, signal }) => drain(input, signal, 1)),
    /** Reads `n` chunks, then returns without reading more. */
    firstThree: rpc.procedure.input(stream(z.number())).mutation(async ({ input, signal }) => {
      probe.signal = signal
      for await (const chunk of input) {
        probe.taken.push(chunk)
        if (probe.taken.length === 3) return 'enough'
      }
      return 'short'
    }),
    /** Reads one chunk, then stops reading until `probe.resume()`. */
    stalled: rpc.procedure.input(stream(z.number())).mutation(async ({ input, signal }) => {
      probe.signal = signal
      const iterator = input[Symbol.asyncIterator]()
      const first = await iterator.next()
      probe.taken.push(first.value)
      await new Promise<void>((resolve) => {
        probe.resume = resolve
        signal.addEventListener('abort', () => resolve(), { once: true })
      })
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) probe.taken.push(next.value)
      return probe.taken.length
    }),
    /** Holds its stream open until cancelled. */
    hold: rpc.procedure.input(stream(z.number())).mutation(async ({ input, signal }) => drain(input, signal)),
    limited: rpc.procedure
      .input(stream(z.string(), { maxChunks: 5, maxBytes: 10_000, maxDurationMs: 300 }))
      .mutation(async ({ input, signal }) => drain(input, signal)),
    /** A duplex chat: every message in is answered by a tracked event out, numbered from `lastEventId`. */
    chat: rpc.procedure
      .input(stream(z.object({ text: z.string() })))
      .subscription(async function* ({ input, lastEventId, signal }) {
        probe.signal = signal
        let n = Number(lastEventId ?? 0)
        for await (const message of input) {
          probe.taken.push(message.text)
          n++
          yield tracked(String(n), { n, echo: message.text.toUpperCase() })
        }
      }),
    /** Sums the numbers in, then, 300 ms after the client's `end`, yields the total: time for a connection to drop in between. */
    tally: rpc.procedure.input(stream(z.number())).subscription(async function* ({ input }) {
      let total = 0
      for await (const n of input) total += n
      await sleep(300)
      yield total
    }),
  })
}

export type StreamRouter = ReturnType<typeof streamRouter>
