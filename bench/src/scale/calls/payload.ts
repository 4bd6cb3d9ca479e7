/**
 * The `payload` scale case: calls per second, and payload MB/s, on one
 * connection with 16 `echoText` calls in flight as the text grows from
 * 100 B to 1 MiB, and the server's CPU per call.
 *
 * Every library keeps its defaults wherever they accept the size. Where a
 * default refuses it, the limit is raised for that size only, and the note
 * says so: at 1 MiB, wirecall's `maxPayload` (1 MiB, refused before the
 * envelope is counted) and socket.io's `maxHttpBufferSize` (1 MB) become
 * 2 MiB, wirecall's client queue of unwritten calls (4 MiB, which 16
 * calls of 1 MiB outgrow) becomes 32 MiB, and wirecall's
 * `backpressure.maxBufferedAmount` (8 MiB: past it the server cuts the
 * reader off with 1013, which 16 answers of 1 MiB waiting for a busy client
 * can reach) becomes 4 times the answers in flight. raw ws and tRPC take up
 * to ws's 100 MiB.
 *
 * wirecall's default rate limit lets a client send 8 MiB/s of frames (8 MiB
 * at once): from 1 KiB up it, not the library's work, sets wirecall's
 * figure. A second wirecall line, `rateLimit: false`, shows what is left
 * without it.
 */
import type { ConnectOptions, ImplName, ServeOptions } from '../../contract'
import type { Figure, ScaleCase, ScaleContext } from '../figure'
import { tickLabel } from '../../charts/tick-labels'
import { rotate } from '../../stats'
import { RepSamples, type LineKey } from '../rep-samples'
import { runPoint } from './run-point'
import { countsLine, PAYLOAD_IN_FLIGHT, payloadCounts } from './workloads'

const IMPLS = ['raw', 'wirecall', 'socketio', 'trpc'] as const satisfies readonly ImplName[]
const KiB = 1_024
const MiB = 1_048_576
const SIZES = { full: [100, KiB, 10 * KiB, 100 * KiB, MiB], quick: [100, 10 * KiB] }

/** What a library's envelope may add to a text: id, path or event name, JSON quotes (a generous bound). */
const ENVELOPE_BYTES = 1_024
/** The smallest default frame limit among the libraries: socket.io's maxHttpBufferSize (wirecall's maxPayload is 1 MiB). */
const SMALLEST_DEFAULT_FRAME = 1_000_000
/** wirecall's client: default bound on bytes of calls waiting to be written. */
const DEFAULT_QUEUED_BYTES = 4 * MiB
/** wirecall's server: default unsent bytes past which a reader is cut off (backpressure.maxBufferedAmount). */
const DEFAULT_MAX_BUFFERED = 8 * MiB

/** The second wirecall line: its limits on what a client sends lifted. */
const UNLIMITED: LineKey = { impl: 'wirecall', label: 'wirecall, rateLimit: false' }

/**
 * The server's options at `size`: larger limits only where a default
 * refuses the size, the same for every library, each taking the fields it
 * has (socket.io reads `maxPayload` as `maxHttpBufferSize`; raw ws and tRPC
 * keep ws's 100 MiB); for {@link UNLIMITED}, no rate limit.
 */
function serveOptions(size: number, line: LineKey): ServeOptions {
  const frames: ServeOptions = size + ENVELOPE_BYTES > SMALLEST_DEFAULT_FRAME ? { maxPayload: 2 * MiB } : {}
  // Every answer in flight can be unsent at once while the client is busy with its own calls: room for them all, twice over.
  const answers = PAYLOAD_IN_FLIGHT * (size + ENVELOPE_BYTES)
  const buffered: ServeOptions = 2 * answers > DEFAULT_MAX_BUFFERED ? { maxBufferedAmount: 4 * answers } : {}
  return line === UNLIMITED ? { ...frames, ...buffered, rateLimit: false } : { ...frames, ...buffered }
}

/** The client's options at `size`: a larger queue only where the calls in flight outgrow the default. */
function connectOptions(size: number): ConnectOptions {
  return PAYLOAD_IN_FLIGHT * (size + ENVELOPE_BYTES) > DEFAULT_QUEUED_BYTES ? { maxQueuedBytes: 32 * MiB } : {}
}

/** A size as the chart's byte axis names it: 100 B, 1 KiB, 1 MiB. */
const bytes = (size: number) => tickLabel(size, 'bytes')

export const payload: ScaleCase = {
  name: 'payload',
  impls: IMPLS,
  describe(quick) {
    const sizes = quick ? SIZES.quick : SIZES.full
    const runs = countsLine(sizes, (size) => payloadCounts(size, quick), bytes)
    return `1 connection, ${PAYLOAD_IN_FLIGHT} echoText calls in flight, text of ${sizes.map(bytes).join(', ')}; measured calls after warm-up calls: ${runs}; fresh server and client processes per size and repetition`
  },
  async run(context: ScaleContext): Promise<Figure[]> {
    const sizes = context.quick ? SIZES.quick : SIZES.full
    const lines = context.impls.flatMap((impl): LineKey[] => (impl === 'wirecall' ? [{ impl }, UNLIMITED] : [{ impl }]))
    const rates = new RepSamples(lines)
    const throughput = new RepSamples(lines)
    const cpu = new RepSamples(lines)
    for (let rep = 0; rep < context.reps; rep++) {
      for (const size of sizes) {
        for (const line of rotate(lines, rep)) {
          const { impl } = line
          const label = `payload/${line.label ?? impl} ${bytes(size)}, rep ${rep + 1}`
          const result = await runPoint({ impl, mode: 'payload', size, quick: context.quick, serve: serveOptions(size, line), connect: connectOptions(size), label })
          const perSecond = result.calls / (result.elapsedNs / 1e9)
          rates.add(line, size, perSecond)
          // The text both ways: the payload the app moves, whatever each library wraps it in.
          throughput.add(line, size, (perSecond * 2 * size) / 1e6)
          cpu.add(line, size, result.serverCpuUs / result.calls)
          context.log(`  ${label}: ${Math.round(perSecond).toLocaleString('en-US')} calls/s, server ${(result.serverCpuUs / result.calls).toFixed(1)} µs CPU per call`)
        }
      }
    }
    const setup = `One connection, ${PAYLOAD_IN_FLIGHT} echoText({ id, text }) calls in flight, each answer checked (id, length, a sampled character); fresh server and client processes per point.`
    const limits =
      'Defaults everywhere they accept the size; at 1 MiB only, wirecall’s maxPayload (1 MiB: PAYLOAD_TOO_LARGE) and socket.io’s maxHttpBufferSize (1 MB) are raised to 2 MiB, wirecall’s client offlineQueue.maxBytes (4 MiB, which 16 queued calls of 1 MiB outgrow: OVERLOADED) to 32 MiB, and wirecall’s backpressure.maxBufferedAmount (8 MiB, which 16 answers of 1 MiB waiting for a busy client can pass: the server cuts the reader off with 1013 “slow consumer”) to 64 MiB. wirecall’s default rateLimit (8 MiB/s of frames from each client, 8 MiB burst) is kept on its main line: once the burst is spent (the warm-up, 8 MiB each way from 1 KiB up, spends it) it holds the client’s frames back, and from 1 KiB up (16 calls of 1 KiB in flight move more than 8 MiB/s) it sets the figure. The line “wirecall, rateLimit: false” turns it off, to show the library’s own cost.'
    return [
      {
        id: 'payload-calls',
        title: 'Calls per second vs payload size',
        x: { label: 'payload bytes', log: true, unit: 'bytes' },
        y: { label: 'calls/s', log: true },
        better: 'higher',
        series: rates.series(),
        note: `${setup} ${limits}`,
      },
      {
        id: 'payload-throughput',
        title: 'Payload throughput vs payload size',
        x: { label: 'payload bytes', log: true, unit: 'bytes' },
        y: { label: 'MB/s', log: true },
        better: 'higher',
        series: throughput.series(),
        note: 'The text’s bytes both ways (request and answer), per second, in MB (10^6 bytes); each library’s envelope is not counted.',
      },
      {
        id: 'payload-server-cpu',
        title: 'Server CPU per call vs payload size',
        x: { label: 'payload bytes', log: true, unit: 'bytes' },
        y: { label: 'server CPU µs per call', log: true, unit: 'us' },
        better: 'lower',
        series: cpu.series(),
        note: 'User + system CPU time of the server process over the measured calls, divided by their number.',
      },
    ]
  },
}
