/**
 * One run of the `inflight` or `payload` case at one size: a fresh server
 * process and a fresh client process, the client warmed up, then the
 * server's CPU read around the measured calls. Both processes are killed
 * whatever happens.
 */
import { fileURLToPath } from 'node:url'
import type { ConnectOptions, ImplName, ServeOptions } from '../../contract'
import { forkChild, startServer, STEP_TIMEOUT_MS } from '../processes'
import type { FromCallsClient, ToCallsClient } from './messages'
import type { CallsMode } from './workloads'

const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url))

/** The measured calls can take longer than one step at the largest payloads under a rate limit. */
const MEASURE_TIMEOUT_MS = 180_000

export interface PointRun {
  impl: ImplName
  mode: CallsMode
  size: number
  quick: boolean
  serve: ServeOptions
  connect: ConnectOptions
  /** Names the processes in progress lines and errors: case, line, size, repetition. */
  label: string
}

export interface PointResult {
  calls: number
  elapsedNs: number
  /** Server CPU (user + system) over the measured calls, µs. */
  serverCpuUs: number
  clientCpuUs: number
}

export async function runPoint(run: PointRun): Promise<PointResult> {
  const server = await startServer(run.impl, run.serve, `${run.label} server`)
  const client = forkChild<ToCallsClient, FromCallsClient>(`${run.label} client`, CLIENT, [
    run.impl,
    run.mode,
    String(run.size),
    run.quick ? 'quick' : 'full',
    String(server.port),
    JSON.stringify(run.connect),
  ])
  // A server that dies mid-run fails the run at once, not when a client wait times out.
  const whileServerLives = <T>(wait: Promise<T>) => Promise.race([wait, server.child.failed])
  try {
    await whileServerLives(client.next('ready', MEASURE_TIMEOUT_MS))
    const cpuBefore = await server.cpuUs()
    client.send({ type: 'go' })
    const done = await whileServerLives(client.next('done', MEASURE_TIMEOUT_MS))
    const cpuAfter = await server.cpuUs()
    // The client closes first, so that no library sees its server go away.
    client.send({ type: 'close' })
    await whileServerLives(client.next('closed', STEP_TIMEOUT_MS))
    client.send({ type: 'exit' })
    await client.exit(STEP_TIMEOUT_MS)
    await server.close()
    return { calls: done.calls, elapsedNs: done.elapsedNs, serverCpuUs: cpuAfter - cpuBefore, clientCpuUs: done.cpuUs }
  } finally {
    client.kill()
    server.kill()
  }
}
