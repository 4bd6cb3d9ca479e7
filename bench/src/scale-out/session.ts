/**
 * The processes of one scale-out run, started and stopped together: a
 * fresh redis-server (Redis configurations), N fresh node processes, and
 * fresh subscriber processes (each from its own source address) whose
 * subscribers are spread round-robin over the nodes. `publish` goes through
 * subscriber 0, on node 1, and waits until every subscriber of every
 * process had every event (checked there, in order). `close` stops every
 * process, Redis included; call it in a `finally`.
 */
import { fileURLToPath } from 'node:url'
import type { Child } from '../child'
import type { PublishInput } from '../contract'
import type { FromServer, ToServer } from '../ipc'
import { nextSourceAddress, shares } from '../scale/fleet'
import { forkChild, STEP_TIMEOUT_MS } from '../scale/processes'
import type { FromNodeSubscribers, ToNodeSubscribers } from './messages'
import { HISTORY, type Config } from './plan'
import { startRedis, type BenchRedis } from './redis-server'

const NODE_PROCESS = fileURLToPath(new URL('./node-process.ts', import.meta.url))
const SUBSCRIBER_PROCESS = fileURLToPath(new URL('./subscriber-process.ts', import.meta.url))

/** Longer than a subscriber process's own delivery timeout (60 s), so that its message comes first. */
const DELIVERY_WAIT_MS = 90_000

type NodeChild = Child<ToServer, FromServer>
type SubscriberChild = Child<ToNodeSubscribers, FromNodeSubscribers>

/** What one publish made, seen from every subscriber process. */
export interface Published {
  /** From the publish call to the last delivery on any subscriber. */
  elapsedNs: number
  /** With `stamp`: receipt minus the server's stamp, per delivery. */
  latenciesNs: number[]
}

/** The running processes of one run. */
export interface Session {
  /** Publishes through subscriber 0 and resolves once every subscriber had every event. */
  publish(input: PublishInput): Promise<Published>
  /** Redis CPU µs (user + system) so far; undefined without Redis. */
  redisCpuUs(): Promise<number | undefined>
  /** CPU µs of every node process together so far. */
  nodesCpuUs(): Promise<number>
  /** Closes subscribers, then nodes, then Redis; kills what does not go by itself. Idempotent. */
  close(): Promise<void>
}

const usUsed = (cpu: NodeJS.CpuUsage) => cpu.user + cpu.system

/** Starts the processes of `config` with `subscribers` subscribers over `clientProcesses` processes, connected and subscribed. */
export async function openSession(config: Config, subscribers: number, clientProcesses: number, label: string, profileDir?: string): Promise<Session> {
  let redis: BenchRedis | undefined
  const nodes: NodeChild[] = []
  const clients: SubscriberChild[] = []
  let closed = false
  const kill = async () => {
    closed = true
    for (const child of [...clients, ...nodes]) child.kill()
    await redis?.stop()
  }
  try {
    if (config.backend === 'redis') redis = await startRedis()
    const url = redis?.url ?? '-'
    for (let i = 0; i < config.nodes; i++) {
      // A directory per process: tsx's loader thread writes a profile of its own (see ../run.ts).
      const profile = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', `${profileDir}/${config.id}-${subscribers}-node${i + 1}`]
      nodes.push(forkChild<ToServer, FromServer>(`${label} node ${i + 1}/${config.nodes}`, NODE_PROCESS, [config.backend, url, String(HISTORY)], profile))
    }
    let first = 0
    for (const [i, count] of shares(subscribers, clientProcesses).entries()) {
      const args = [String(count), String(first), nextSourceAddress()]
      clients.push(forkChild<ToNodeSubscribers, FromNodeSubscribers>(`${label} subscribers ${i + 1}/${clientProcesses}`, SUBSCRIBER_PROCESS, args))
      first += count
    }
    const nodesFail = Promise.race(nodes.map((node) => node.failed))
    const anyFails = Promise.race([nodesFail, ...clients.map((child) => child.failed)])
    /** `wait`, or the first failure of any process of the run: a dead node fails the run at once. */
    const guard = <T>(wait: Promise<T>) => Promise.race([wait, anyFails])
    const all = <T>(each: (child: SubscriberChild) => Promise<T>) => guard(Promise.all(clients.map(each)))

    const ports = (await guard(Promise.all(nodes.map((node) => node.next('ready', STEP_TIMEOUT_MS))))).map(({ port }) => port)
    await all((child) => child.next('listening', STEP_TIMEOUT_MS))
    await all((child) => child.request({ type: 'connect', ports }, 'connected', STEP_TIMEOUT_MS))

    return {
      async publish(input) {
        await all((child) => child.request({ type: 'expect', count: input.count, stamped: input.stamp === true }, 'expecting', STEP_TIMEOUT_MS))
        const delivered = Promise.all(clients.map((child) => child.next('delivered', DELIVERY_WAIT_MS)))
        const published = clients[0]!.request({ type: 'publish', input }, 'published', DELIVERY_WAIT_MS)
        const [deliveries, { startNs }] = await guard(Promise.all([delivered, published]))
        const lastNs = deliveries.map((delivery) => BigInt(delivery.lastNs)).reduce((a, b) => (a > b ? a : b))
        return { elapsedNs: Number(lastNs - BigInt(startNs)), latenciesNs: deliveries.flatMap((delivery) => delivery.latenciesNs) }
      },
      redisCpuUs: async () => redis?.cpuUs(),
      async nodesCpuUs() {
        const answers = await guard(Promise.all(nodes.map((node) => node.request({ type: 'cpu' }, 'cpu', STEP_TIMEOUT_MS))))
        return answers.reduce((sum, { usage }) => sum + usUsed(usage), 0)
      },
      async close() {
        if (closed) return
        try {
          // Subscribers close before the nodes go, so that no client sees a server-side close. Each exits once
          // closed, which its siblings' wait must not take for a failure: only a node's failure is raced.
          await Promise.race([Promise.all(clients.map((child) => child.request({ type: 'close' }, 'closed', STEP_TIMEOUT_MS))), nodesFail])
          // Not guarded: an exit is what `failed` reports.
          await Promise.all(clients.map((child) => child.exit(STEP_TIMEOUT_MS)))
          await Promise.all(
            nodes.map((node) => {
              node.send({ type: 'close' })
              return node.exit(STEP_TIMEOUT_MS)
            }),
          )
        } finally {
          await kill()
        }
      },
    }
  } catch (error) {
    await kill()
    throw error
  }
}
