import { sleep } from '../helpers/async'
import type { RedisClientInfo, RedisServer } from '../helpers/redis-server'
import type { NodeClient } from './feed-clients'

/**
 * What the scenarios read off Redis and the clients to check a bound:
 * connections per node, blocked readers, replication, presence lists and
 * how announced reconnect delays are spread.
 */

/** The prefix every node's Redis connections are named with (`createClient({ name })`, kept by `duplicate()`). */
const NODE_CONNECTION = 'wirecall-node-'

/** The Redis connections of node `name` (of every node when omitted), from `CLIENT LIST`. */
export async function nodeConnections(redis: RedisServer, name?: string): Promise<RedisClientInfo[]> {
  const clients = await redis.clients()
  return clients.filter((client) => (name === undefined ? client['name']?.startsWith(NODE_CONNECTION) : client['name'] === `${NODE_CONNECTION}${name}`))
}

/** The nodes' connections blocked in a command now (`flags` has `b`: an `XREAD BLOCK` waiting). */
export async function blockedConnections(redis: RedisServer): Promise<RedisClientInfo[]> {
  return (await nodeConnections(redis)).filter((client) => client['flags']?.includes('b'))
}

/** Resolves once `replica` has finished its first sync from `primary` (`master_link_status:up`). */
export async function untilReplicaSynced(primary: RedisServer, replica: RedisServer, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const info = String(await replica.command('INFO', 'replication'))
    if (info.includes('master_link_status:up') && info.includes(`master_port:${primary.port}`)) return
    if (Date.now() > deadline) throw new Error(`the replica on ${replica.port} did not sync from ${primary.port} within ${timeoutMs} ms:\n${info}`)
    await sleep(20)
  }
}

/** One client's presence subscription: every member list it was sent, in order. */
export interface PresenceWatcher {
  readonly lists: string[][]
  /** The newest list, or undefined before the first. */
  latest(): string[] | undefined
}

/** Subscribes `api` to the presence of `topic` (entering it under the client's name). */
export function presenceWatcher(api: NodeClient, topic: string): PresenceWatcher {
  const lists: string[][] = []
  api.presence.subscribe({ topic }, { onData: (members) => void lists.push(members), onError: () => {} })
  return { lists, latest: () => lists.at(-1) }
}

/**
 * How reconnect delays announced with a 1012 sit in `[0, windowMs]`: how
 * many fall outside, and whether each quarter of the window holds at least
 * a tenth of them (evenly spread, each would hold a quarter).
 */
export function spreadOver(delays: readonly number[], windowMs: number): { outside: number; quarters: boolean[] } {
  const outside = delays.filter((delay) => delay < 0 || delay > windowMs).length
  const quarters = [0, 1, 2, 3].map((q) => delays.filter((delay) => delay >= (q * windowMs) / 4 && delay <= ((q + 1) * windowMs) / 4).length >= delays.length / 10)
  return { outside, quarters }
}
