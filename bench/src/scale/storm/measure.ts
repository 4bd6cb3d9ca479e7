/**
 * One run of the storm case: `size` clients subscribed to server A's feed,
 * A restarted gracefully (B on the same port once A has exited), and the
 * time until every client is subscribed again on B, with B's peak CPU and
 * peak RSS meanwhile. Events are published and checked before the restart
 * and after it, so a resubscription that only looks done fails the run.
 */
import { fileURLToPath } from 'node:url'
import type { ServeOptions } from '../../contract'
import { ClientFleet } from '../client-fleet'
import { shares } from '../fleet'
import { startServer, STEP_TIMEOUT_MS, type ServerProcess } from '../processes'
import type { FromStormClient, StormTally, ToStormClient } from './messages'
import { PeakCpuSampler } from './sampler'
import type { StormImpl } from './subscriber'

const CLIENT = fileURLToPath(new URL('./client.ts', import.meta.url))

/** Events published (and checked at every client) before the restart, and after it. */
const EVENTS_BEFORE = 3
const EVENTS_AFTER = 5

/** How long every client may take to come back; far more than any library's backoff needs. */
export const RESUBSCRIBE_TIMEOUT_MS = 180_000

/** One series of the storm: an implementation and how its server restarts. */
export interface StormVariant {
  impl: StormImpl
  /** The legend, when the implementation runs more than once. */
  label?: string
  restart: NonNullable<ServeOptions['restart']>
}

export interface StormSample {
  /** From A's close to the last client resubscribed on B. */
  seconds: number
  /** From A's close to A's exit: its graceful close. */
  closeSeconds: number
  /** From A's close to B listening: the floor of `seconds`, start-up of a fresh process included. */
  listeningSeconds: number
  peakCpuPercent: number
  /** B's VmHWM, bytes. */
  peakRssBytes: number
  /** What the clients went through, summed over the client processes. */
  tally: StormTally
}

type Fleet = ClientFleet<ToStormClient, FromStormClient>

/** Connecting thousands of clients on a busy 2-core machine can take a while; no step may hang forever. */
const timeoutFor = (clients: number) => STEP_TIMEOUT_MS + clients * 10

/** Publishes `count` events through the first client and checks that every client gets exactly them. */
async function checkDelivery(fleet: Fleet, server: ServerProcess, count: number, clients: number): Promise<void> {
  const timeout = timeoutFor(clients)
  await fleet.all((child) => child.request({ type: 'expect', events: count }, 'expecting', STEP_TIMEOUT_MS), server.child.failed)
  await fleet.children[0]!.request({ type: 'publish', count }, 'published', timeout)
  const received = await fleet.all((child) => child.request({ type: 'await-events' }, 'received', timeout), server.child.failed)
  const total = received.reduce((sum, message) => sum + message.events, 0)
  if (total !== count * clients) throw new Error(`${total} events arrived, not ${count} at each of ${clients} clients`)
}

/** The client processes' tallies, summed (the longest wait: the longest of any). */
function sumTallies(tallies: readonly StormTally[]): StormTally {
  const sum: StormTally = { resyncs: 0, extraStarts: 0, drops: {}, retries: 0, maxRetryDelayMs: 0 }
  for (const tally of tallies) {
    sum.resyncs += tally.resyncs
    sum.extraStarts += tally.extraStarts
    sum.retries += tally.retries
    sum.maxRetryDelayMs = Math.max(sum.maxRetryDelayMs, tally.maxRetryDelayMs)
    for (const [reason, n] of Object.entries(tally.drops)) sum.drops[reason] = (sum.drops[reason] ?? 0) + n
  }
  return sum
}

/** Waits for every client process's `resubscribed`; on a timeout, fails saying how many clients were lost. */
async function awaitResubscribed(fleet: Fleet, server: ServerProcess, size: number): Promise<Extract<FromStormClient, { type: 'resubscribed' }>[]> {
  try {
    return await fleet.all((child) => child.next('resubscribed', RESUBSCRIBE_TIMEOUT_MS), server.child.failed)
  } catch (error) {
    const progress = await Promise.allSettled(fleet.children.map((child) => child.request({ type: 'progress' }, 'progress', 5_000)))
    const pending = progress.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.pending : NaN))
    const lost = pending.reduce((sum, n) => sum + n, 0)
    throw new Error(
      `${Number.isNaN(lost) ? 'some' : lost.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} clients were not resubscribed ` +
        `(per client process: ${pending.join(', ')}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    )
  }
}

export async function measureStorm(variant: StormVariant, size: number, processes: number): Promise<StormSample> {
  const { impl } = variant
  const label = `storm/${variant.label ?? impl} ${size.toLocaleString('en-US')}`
  const options: ServeOptions = { restart: variant.restart }
  const serverA = await startServer(impl, options, `${label} server A`)
  const fleet: Fleet = new ClientFleet(label, CLIENT, processes, (address) => [impl, address])
  let serverB: ServerProcess | undefined
  try {
    await fleet.all((child) => child.next('ready', STEP_TIMEOUT_MS), serverA.child.failed)
    const counts = shares(size, processes)
    await fleet.all((child, i) => child.request({ type: 'open', port: serverA.port, count: counts[i]! }, 'opened', timeoutFor(size)), serverA.child.failed)
    await checkDelivery(fleet, serverA, EVENTS_BEFORE, size)

    await fleet.all((child) => child.request({ type: 'arm' }, 'armed', STEP_TIMEOUT_MS), serverA.child.failed)
    const closedAt = Date.now()
    await serverA.close()
    const closeSeconds = (Date.now() - closedAt) / 1000
    serverB = await startServer(impl, { ...options, port: serverA.port }, `${label} server B`)
    const listeningSeconds = (Date.now() - closedAt) / 1000
    if (serverB.port !== serverA.port) throw new Error(`server B listens on ${serverB.port}, not on A's port ${serverA.port}`)
    const sampler = new PeakCpuSampler(serverB)
    const back = await awaitResubscribed(fleet, serverB, size)
    const peakCpuPercent = await sampler.stop()
    const { peakRss } = await serverB.status()

    await checkDelivery(fleet, serverB, EVENTS_AFTER, size)
    await fleet.all((child) => child.request({ type: 'close' }, 'closed', timeoutFor(size)), serverB.child.failed)
    await fleet.exit({ type: 'exit' })
    await serverB.close()
    return {
      seconds: (Math.max(...back.map((message) => message.lastAt)) - closedAt) / 1000,
      closeSeconds,
      listeningSeconds,
      peakCpuPercent,
      peakRssBytes: peakRss,
      tally: sumTallies(back),
    }
  } catch (error) {
    throw new Error(`${label}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  } finally {
    fleet.kill()
    serverA.kill()
    serverB?.kill()
  }
}
