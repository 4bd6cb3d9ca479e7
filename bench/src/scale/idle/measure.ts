/**
 * One run of the idle case: a fresh server of one implementation, its
 * memory after gc before and after `size` idle connections (handshakes
 * done) opened from the client processes, and how long opening them took.
 */
import { fileURLToPath } from 'node:url'
import type { ImplName } from '../../contract'
import type { OpenFilesLimit } from '../../proc-status'
import { ClientFleet } from '../client-fleet'
import { shares } from '../fleet'
import { startServer, STEP_TIMEOUT_MS } from '../processes'
import type { FromIdleClient, ToIdleClient } from './messages'

const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url))

/**
 * Opened and closed by each client process before the baseline, so that
 * what every connection shares (code, pools) is in it.
 */
export const WARMUP_PER_PROCESS = 10

/** What the server process tries to raise its open-file limit to: more than any size here needs. */
export const WANTED_OPEN_FILES = 65_536

/** What one run measured. */
export interface IdleSample {
  /** Server heap used after gc, connections open minus before, bytes. */
  heapBytes: number
  /** Server RSS after gc, connections open minus before, bytes. */
  rssBytes: number
  /** From asking the clients to open every connection to the last handshake done. */
  openSeconds: number
  /** The server process's open-file limit after its attempt to raise it. */
  openFiles: OpenFilesLimit
}

/** Opening thousands of connections on a busy 2-core machine can take a while; no step may hang forever. */
const timeoutFor = (connections: number) => STEP_TIMEOUT_MS + connections * 10

export async function measureIdle(impl: ImplName, size: number, processes: number): Promise<IdleSample> {
  const label = `idle/${impl} ${size.toLocaleString('en-US')}`
  // wirecall caps connections at 10,000 by default; the cap is not what this case measures.
  const server = await startServer(impl, { maxConnections: 100_000, openFiles: WANTED_OPEN_FILES }, `${label} server`)
  const fleet = new ClientFleet<ToIdleClient, FromIdleClient>(label, CLIENT, processes, (address) => [impl, address])
  const { port } = server
  const timeout = timeoutFor(size)
  try {
    const { openFiles } = await server.status()
    if (openFiles.soft !== 'unlimited' && openFiles.soft < size + 100) {
      throw new Error(`idle: ${size.toLocaleString('en-US')} connections need an open-file limit above it; the server process has ${openFiles.soft.toLocaleString('en-US')}`)
    }
    await fleet.all((child) => child.next('ready', STEP_TIMEOUT_MS), server.child.failed)

    // Every client process warms up too, so that the timed part does not include a cold client's first connections.
    await fleet.all((child) => child.request({ type: 'open', port, count: WARMUP_PER_PROCESS }, 'opened', STEP_TIMEOUT_MS), server.child.failed)
    await fleet.all((child) => child.request({ type: 'close' }, 'closed', STEP_TIMEOUT_MS), server.child.failed)

    const before = await server.memory()
    const counts = shares(size, processes)
    const started = performance.now()
    await fleet.all((child, i) => child.request({ type: 'open', port, count: counts[i]! }, 'opened', timeout), server.child.failed)
    const openSeconds = (performance.now() - started) / 1000
    const after = await server.memory()

    // Every connection must be live and served, not only opened: one checked echo each.
    const echoes = await fleet.all((child) => child.request({ type: 'check' }, 'checked', timeout), server.child.failed)
    const answered = echoes.reduce((sum, message) => sum + message.echoes, 0)
    if (answered !== size) throw new Error(`idle/${impl}: ${answered} of ${size} connections answered their echo`)

    // The clients close first, so that no library sees its server go away.
    await fleet.all((child) => child.request({ type: 'close' }, 'closed', timeout), server.child.failed)
    await fleet.exit({ type: 'exit' })
    await server.close()
    return { heapBytes: after.heapUsed - before.heapUsed, rssBytes: after.rss - before.rss, openSeconds, openFiles }
  } finally {
    fleet.kill()
    server.kill()
  }
}
