/**
 * The `inflight` scale case: calls per second on one connection as the
 * number of echo calls in flight grows (1, 10, 100, 1,000), each answer
 * starting the next call, and the server's CPU per call. Every library with
 * its defaults: wirecall's server announces `maxInFlightCalls` (1,000) in
 * its `ack`, and its client queues what would go beyond it, which is the
 * product's behaviour and is measured as such.
 */
import type { ImplName } from '../../contract'
import type { Figure, ScaleCase, ScaleContext } from '../figure'
import { rotate } from '../../stats'
import { RepSamples } from '../rep-samples'
import { runPoint } from './run-point'
import { countsLine, inflightCounts } from './workloads'

const IMPLS = ['raw', 'wirecall', 'socketio', 'trpc'] as const satisfies readonly ImplName[]
const SIZES = { full: [1, 10, 100, 1_000], quick: [1, 100] }

export const inflight: ScaleCase = {
  name: 'inflight',
  impls: IMPLS,
  describe(quick) {
    const sizes = quick ? SIZES.quick : SIZES.full
    const runs = countsLine(sizes, (size) => inflightCounts(size, quick), (size) => size.toLocaleString('en-US'))
    return `1 connection, echo calls in flight; measured calls after warm-up calls: ${runs}; fresh server and client processes per size and repetition`
  },
  async run(context: ScaleContext): Promise<Figure[]> {
    const sizes = context.quick ? SIZES.quick : SIZES.full
    const lines = context.impls.map((impl) => ({ impl }))
    const rates = new RepSamples(lines)
    const cpu = new RepSamples(lines)
    for (let rep = 0; rep < context.reps; rep++) {
      for (const size of sizes) {
        for (const impl of rotate(context.impls, rep)) {
          const label = `inflight/${impl} ${size} in flight, rep ${rep + 1}`
          const result = await runPoint({ impl, mode: 'inflight', size, quick: context.quick, serve: {}, connect: {}, label })
          const perSecond = result.calls / (result.elapsedNs / 1e9)
          rates.add({ impl }, size, perSecond)
          cpu.add({ impl }, size, result.serverCpuUs / result.calls)
          context.log(`  ${label}: ${Math.round(perSecond).toLocaleString('en-US')} calls/s, server ${(result.serverCpuUs / result.calls).toFixed(1)} µs CPU per call`)
        }
      }
    }
    const limits =
      'wirecall runs with every default: its server announces maxInFlightCalls (1,000) and its client queues any call beyond it until an answer frees a slot, which is the product’s behaviour, measured as such (at 1,000 in flight the window just fits).'
    return [
      {
        id: 'inflight-calls',
        title: 'Calls per second vs calls in flight',
        x: { label: 'calls in flight', log: true },
        y: { label: 'calls/s', log: true },
        better: 'higher',
        series: rates.series(),
        note: `One connection, echo calls of about 90 bytes, each answer starting the next call; fresh server and client processes per point. ${limits}`,
      },
      {
        id: 'inflight-server-cpu',
        title: 'Server CPU per call vs calls in flight',
        x: { label: 'calls in flight', log: true },
        y: { label: 'server CPU µs per call', log: true, unit: 'us' },
        better: 'lower',
        series: cpu.series(),
        note: 'User + system CPU time of the server process over the measured calls, divided by their number.',
      },
    ]
  },
}
