import { startRedis, type RedisServer, type RedisServerOptions } from '../helpers/redis-server'
import { startRoundRobinProxy, type RoundRobinProxy } from '../helpers/round-robin-proxy'
import { startNode, type NodeProcess, type Publisher, type PublisherProcess } from './processes'

/**
 * The cluster every multi-node scenario starts from: one real redis-server,
 * wirecall nodes in child processes, a round-robin TCP proxy in front of
 * them (what the clients connect to), and the publisher process. All of it
 * on 127.0.0.1, and all of it stopped after the test (each helper registers
 * its own cleanup).
 */
export interface Cluster {
  readonly redis: RedisServer
  readonly nodes: NodeProcess[]
  readonly proxy: RoundRobinProxy
  readonly publisher: Publisher
  /** `ws://127.0.0.1:<proxy>/rpc` */
  readonly url: string
}

/** The bundled node fixture, and the publisher process every run shares. */
export interface ClusterScripts {
  node: string
  publisher: PublisherProcess
}

export interface ClusterOptions {
  /** @default 2 */
  nodes?: number
  /** The feed's history on every node and the publisher. @default 1_000 */
  history?: number
  /** Environment of every node (see fixtures/node.ts). */
  env?: Record<string, string>
  /** How to start the cluster's Redis; or the running one to use. */
  redis?: RedisServerOptions | RedisServer
  /** Where the nodes and the publisher reach Redis, when not straight (a proxy in front of it). @default redis.url */
  redisUrl?: string
}

export async function startCluster(scripts: ClusterScripts, options: ClusterOptions = {}): Promise<Cluster> {
  // Redis first, on a port it picks itself (startRedis retries a port someone took meanwhile), then the nodes side by side.
  const redis = options.redis !== undefined && 'pid' in options.redis ? options.redis : await startRedis(options.redis)
  const redisUrl = options.redisUrl ?? redis.url
  const history = options.history ?? 1_000
  const env = options.env === undefined ? {} : { env: options.env }
  const nodes = await Promise.all(Array.from({ length: options.nodes ?? 2 }, (_, i) => startNode(scripts.node, { name: String.fromCharCode(97 + i), redisUrl, history, ...env })))
  const proxy = await startRoundRobinProxy(nodes.map((node) => node.port))
  const publisher = scripts.publisher.for(redisUrl, history)
  return { redis, nodes, proxy, publisher, url: proxy.url('/rpc') }
}
