/**
 * The `resume` scale case: what it costs a client to get back what it
 * missed while its connection was down, as the number of missed events
 * grows (100 to 100,000).
 *
 * wirecall: a channel with `history: N` (its only bound on a replay; a
 * `lastEventId` within the history is replayed in full, never resynced),
 * the client resubscribing by itself with its `lastEventId`. socket.io: its
 * connection state recovery, which keeps every broadcast for two minutes.
 * raw ws has no resume (an app would write its own), so it has no line.
 *
 * One run, in fresh server and client processes: the client subscribes
 * and receives 100 live events; one drop and resume of 100 events warms
 * the path up; then the measured one: the client terminates its socket,
 * the server (told by the orchestrator, no other client connected)
 * publishes N events once it has seen the client go, and the client's
 * reconnect is let go. Measured: from letting it go to the N-th replayed
 * event, and the server's CPU over that time. Every event is checked, in
 * order, none twice; the library must say it resumed (wirecall
 * `resumed: true` and no resync, socket.io `recovered`); one live event
 * published afterwards must come next.
 */
import { fileURLToPath } from 'node:url'
import type { Child } from '../child'
import type { Figure, ScaleCase, ScaleContext } from './figure'
import { forkChild, STEP_TIMEOUT_MS } from './processes'
import { rotate } from '../stats'
import { RepSamples } from './rep-samples'
import { RESUME_IMPLS, type FromResumeClient, type FromResumeServer, type ResumeImpl, type ToResumeClient, type ToResumeServer } from './resume/messages'

const SERVER = fileURLToPath(new URL('./resume/server.ts', import.meta.url))
const CLIENT = fileURLToPath(new URL('./resume/client.ts', import.meta.url))

const SIZES = { full: [100, 1_000, 10_000, 100_000], quick: [100, 1_000] }
/** Live events before the first drop. */
const LIVE = 100
/** Events missed in the warm-up drop (within the smallest history). */
const WARMUP_MISSED = 100
/** How long the server may take to see the dropped client go. */
const GONE_TIMEOUT_MS = 10_000
/** A replay of 100,000 events takes seconds; a stuck one fails after this. */
const RESUME_TIMEOUT_MS = 150_000

interface ResumeResult {
  elapsedNs: number
  serverCpuUs: number
}

type Server = Child<ToResumeServer, FromResumeServer>
type Client = Child<ToResumeClient, FromResumeClient>

/** Waits until the server has no feed subscriber left: it has seen the dropped client go. */
async function untilGone(server: Server, label: string): Promise<void> {
  const deadline = Date.now() + GONE_TIMEOUT_MS
  while ((await server.request({ type: 'subscribers' }, 'subscribers', STEP_TIMEOUT_MS)).count > 0) {
    if (Date.now() > deadline) throw new Error(`${label}: the server still counts the dropped client after ${GONE_TIMEOUT_MS / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Drops the client, publishes `missed` events while it is away, and resumes it; the time and server CPU of the resume. */
async function dropAndResume(server: Server, client: Client, missed: number, label: string): Promise<ResumeResult> {
  await client.request({ type: 'drop' }, 'dropped', STEP_TIMEOUT_MS)
  await untilGone(server, label)
  const { total } = await server.request({ type: 'publish', count: missed }, 'published', STEP_TIMEOUT_MS)
  const cpuBefore = (await server.request({ type: 'cpu' }, 'cpu', STEP_TIMEOUT_MS)).us
  const { elapsedNs } = await client.request({ type: 'resume', total }, 'resumed', RESUME_TIMEOUT_MS)
  const cpuAfter = (await server.request({ type: 'cpu' }, 'cpu', STEP_TIMEOUT_MS)).us
  return { elapsedNs, serverCpuUs: cpuAfter - cpuBefore }
}

/** One run at history `size`, in fresh processes killed whatever happens. */
async function runOnce(impl: ResumeImpl, size: number, label: string): Promise<ResumeResult> {
  const server: Server = forkChild(`${label} server`, SERVER, [impl, String(size)])
  let client: Client | undefined
  try {
    const { port } = await server.next('ready', STEP_TIMEOUT_MS)
    const c: Client = forkChild(`${label} client`, CLIENT, [impl, String(port)])
    client = c
    // A server that dies mid-run fails the run at once, not when a client wait times out.
    const whileServerLives = <T>(wait: Promise<T>) => Promise.race([wait, server.failed])
    await whileServerLives(c.next('ready', STEP_TIMEOUT_MS))
    const live = await server.request({ type: 'publish', count: LIVE }, 'published', STEP_TIMEOUT_MS)
    await whileServerLives(c.request({ type: 'expect', total: live.total }, 'received', STEP_TIMEOUT_MS))
    await whileServerLives(dropAndResume(server, c, WARMUP_MISSED, label))
    const result = await whileServerLives(dropAndResume(server, c, size, label))
    // Live again, and nothing between the replay and the next event: it must be the very next seq.
    const next = await server.request({ type: 'publish', count: 1 }, 'published', STEP_TIMEOUT_MS)
    await whileServerLives(c.request({ type: 'expect', total: next.total }, 'received', STEP_TIMEOUT_MS))
    await whileServerLives(c.request({ type: 'close' }, 'closed', STEP_TIMEOUT_MS))
    c.send({ type: 'exit' })
    await c.exit(STEP_TIMEOUT_MS)
    server.send({ type: 'close' })
    await server.exit(STEP_TIMEOUT_MS)
    return result
  } finally {
    client?.kill()
    server.kill()
  }
}

export const resume: ScaleCase = {
  name: 'resume',
  impls: RESUME_IMPLS,
  describe(quick) {
    const sizes = (quick ? SIZES.quick : SIZES.full).map((size) => size.toLocaleString('en-US')).join(', ')
    return `1 client subscribed to a feed (${LIVE} live events), its socket terminated, ${sizes} events published while it is away, then its reconnect: time from reconnect to the last replayed event, after one warm-up drop of ${WARMUP_MISSED}; fresh server and client processes per size and repetition`
  },
  async run(context: ScaleContext): Promise<Figure[]> {
    const sizes = context.quick ? SIZES.quick : SIZES.full
    const impls = RESUME_IMPLS.filter((impl) => context.impls.includes(impl))
    const lines = impls.map((impl) => ({ impl }))
    const times = new RepSamples(lines)
    const cpu = new RepSamples(lines)
    for (let rep = 0; rep < context.reps; rep++) {
      for (const size of sizes) {
        for (const impl of rotate(impls, rep)) {
          const label = `resume/${impl} ${size.toLocaleString('en-US')} missed, rep ${rep + 1}`
          const result = await runOnce(impl, size, label)
          const ms = result.elapsedNs / 1e6
          times.add({ impl }, size, ms)
          cpu.add({ impl }, size, result.serverCpuUs / size)
          context.log(`  ${label}: ${ms.toFixed(1)} ms, server ${(result.serverCpuUs / size).toFixed(2)} µs CPU per replayed event`)
        }
      }
    }
    const how =
      'The client terminates its socket (a network failure to both sides); while it is away the server publishes N events; then its reconnect goes. One point: from the reconnect (new socket, handshake, resubscribe) to the N-th replayed event, every event checked in order with no duplicate, and the next live event right after. wirecall: createChannel({ history: N }), every other default, the client resubscribing by itself with its lastEventId (onStarted says resumed: true; no resync: a channel replays all its history holds, maxLag never lower than history). socket.io: connectionStateRecovery with its defaults (every broadcast kept 2 minutes, however many). raw ws has no resume.'
    return [
      {
        id: 'resume-time',
        title: 'Resume: time to replay the missed events vs events missed',
        x: { label: 'events missed (= wirecall history)', log: true },
        y: { label: 'ms to the last replayed event', log: true },
        better: 'lower',
        series: times.series(),
        note: how,
      },
      {
        id: 'resume-server-cpu',
        title: 'Resume: server CPU per replayed event vs events missed',
        x: { label: 'events missed (= wirecall history)', log: true },
        y: { label: 'server CPU µs per replayed event', log: true, unit: 'us' },
        better: 'lower',
        series: cpu.series(),
        note: 'User + system CPU time of the server process from the reconnect to the last replayed event (the handshake included), divided by the events replayed.',
      },
    ]
  },
}
