/**
 * Server memory per idle connection: the orchestrator asks the server for
 * its gc-settled memory, the client opens the connections (handshakes done),
 * and the server is measured again. Result: the RSS delta per connection
 * (the heap delta as a second row).
 */
import type { BenchCase, RunSample } from './case'
import { closeAll, connectMany } from './connections'

const COUNTS = {
  full: { connections: 1_000, warmup: 20 },
  quick: { connections: 200, warmup: 10 },
}

const kb = (bytes: number) => bytes / 1024

/** Bytes per connection of one `process.memoryUsage()` field, from the sample's extras. */
function perConnection(sample: RunSample, field: 'rss' | 'heapUsed'): number {
  const before = sample.extra[`${field}Before`] ?? NaN
  const after = sample.extra[`${field}After`] ?? NaN
  return (after - before) / sample.ops
}

export const memory: BenchCase = {
  name: 'memory',
  label: 'RSS per idle connection KB',
  better: 'lower',
  serverMemory: true,
  describe: (quick) => {
    const { connections, warmup } = quick ? COUNTS.quick : COUNTS.full
    return `server RSS (and heap) after gc, before and after ${connections.toLocaleString('en-US')} idle connections, per connection; ${warmup} connections opened and closed first`
  },
  async prepare({ impl, port, quick }) {
    const { connections: count, warmup } = quick ? COUNTS.quick : COUNTS.full
    // Opened and closed before the baseline, so that code and pools every
    // connection shares are in it, not in the per-connection figure.
    await closeAll(await connectMany(impl, port, warmup))
    let connections: Awaited<ReturnType<typeof connectMany>> = []
    return {
      async run() {
        connections = await connectMany(impl, port, count)
        return { ops: count }
      },
      close: () => closeAll(connections),
    }
  },
  value: (sample) => kb(perConnection(sample, 'rss')),
  extraRows: [{ label: 'heap per idle connection KB', better: 'lower', value: (sample) => kb(perConnection(sample, 'heapUsed')) }],
}
