import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { RpcError } from '@wirecall/client'
import { waitUntil } from '../helpers/async'
import { startFaultProxy } from '../helpers/fault-proxy'
import { startRedis } from '../helpers/redis-server'
import { startRoundRobinProxy } from '../helpers/round-robin-proxy'
import { bundleFixture } from './bundle-fixture'
import { startCluster, type ClusterScripts } from './cluster'
import { feedSubscribers, nodeClient, range, subscribeFeed, untilAllReceived, type FeedSubscriber } from './feed-clients'
import { startNode, startPublisherProcess } from './processes'
import { blockedConnections, nodeConnections, presenceWatcher, spreadOver, untilReplicaSynced } from './probes'

/**
 * The scale-out scenarios of issue 16, each run ten times in a row: two
 * wirecall server processes on one real redis-server, behind a round-robin
 * TCP proxy written in the tests, with real clients and a publisher
 * process, all on 127.0.0.1. Each run starts its own Redis, nodes and
 * proxy, so no run leans on what the one before it left; only the
 * publisher process serves the whole file (each run names its Redis).
 * docs/scale-out.md cites each scenario by its number.
 */

const RUNS = Array.from({ length: 10 }, (_, i) => i + 1)
const here = dirname(fileURLToPath(import.meta.url))
let fixtures: ClusterScripts | undefined
const disposals: (() => void)[] = []
/** Wall time of each run, per scenario, and other figures the runs measured: printed after the file, for the docs. */
const timings = new Map<string, number[]>()
const figures = new Map<string, number[]>()
const record = (figure: string, value: number) => figures.set(figure, [...(figures.get(figure) ?? []), value])

beforeAll(async () => {
  const [node, publisher] = await Promise.all([bundleFixture(join(here, 'fixtures/node.ts')), bundleFixture(join(here, 'fixtures/publisher.ts'))])
  disposals.push(node.dispose, publisher.dispose)
  fixtures = { node: node.file, publisher: await startPublisherProcess(publisher.file) }
}, 60_000)

afterAll(async () => {
  await fixtures?.publisher.close()
  for (const dispose of disposals) dispose()
  for (const [scenario, times] of timings) {
    const total = times.reduce((sum, ms) => sum + ms, 0)
    console.log(`scale-out scenario ${scenario}: ${times.length} runs in ${total} ms (${Math.min(...times)}–${Math.max(...times)} ms per run)`)
  }
  for (const [figure, values] of figures) console.log(`scale-out ${figure}: ${values.join(', ')}`)
})

function scripts(): ClusterScripts {
  if (fixtures === undefined) throw new Error('the fixtures were not bundled (beforeAll failed)')
  return fixtures
}

/** Runs `body` as one run of `scenario`, and records its wall time. */
async function timed(scenario: string, body: () => Promise<void>): Promise<void> {
  const started = Date.now()
  await body()
  timings.set(scenario, [...(timings.get(scenario) ?? []), Date.now() - started])
}

/** Events in the sequences the live scenarios publish, and subscribers where the issue says 100. */
const N = 100
const CLIENTS = 100

/** Every client's log is exactly `expected`. */
function expectLogs(clients: readonly FeedSubscriber[], expected: readonly (number | string)[]): void {
  for (const [i, client] of clients.entries()) expect(client.log, `client ${i}`).toEqual(expected)
}

describe('scale-out on Redis Streams: nodes in child processes, one real Redis, 127.0.0.1', () => {
  test.each(RUNS)('1. kill -9 one node mid-stream: every client moves to the other and receives exactly 1..N (run %i)', { timeout: 20_000 }, (run) =>
    timed('1 (kill -9)', async () => {
      const cluster = await startCluster(scripts())
      const clients = await feedSubscribers(cluster.url, CLIENTS)
      const victim = cluster.nodes[run % 2]!
      const onVictim = cluster.proxy.connectionsTo(victim.port)
      expect(onVictim).toBeGreaterThan(0)
      const publishing = cluster.publisher.publish(1, N, 2)
      await cluster.publisher.published(N / 2)
      await victim.kill()
      await publishing
      await untilAllReceived(clients, N)
      expectLogs(clients, range(1, N))
      // The victim's clients really moved: each subscription was started again, on the survivor.
      expect(clients.filter((client) => client.starts > 1)).toHaveLength(onVictim)
      expect(cluster.proxy.connectionsTo(victim.port)).toBe(0)
    }),
  )

  test.each(RUNS)('2. graceful deploy, close A then B: every client receives exactly 1..N, and reconnects spread over the announced window (run %i)', { timeout: 20_000 }, () =>
    timed('2 (deploy)', async () => {
      const windowMs = 300
      const cluster = await startCluster(scripts(), { env: { CLOSE_WINDOW_MS: String(windowMs), CLOSE_GRACE_MS: '1000' } })
      const announced: number[] = []
      const clients = await Promise.all(Array.from({ length: CLIENTS }, () => subscribeFeed(nodeClient(cluster.url, { delays: announced }))))
      // Slow enough that both closes and the start between them happen mid-stream.
      const publishing = cluster.publisher.publish(1, N, 12)
      await cluster.publisher.published(20)
      // A rolling deploy: each node in turn is closed (a restart notice with a delay per client, then 1012), A's successor starting in between.
      for (const [i, old] of cluster.nodes.entries()) {
        // As a deploy waits for health: every client is back, past its handshake, before the next node goes.
        await waitUntil(() => clients.every((client) => client.api.$connection.state === 'open' && client.subscription.state === 'started'), 'every client to be connected', 5_000)
        const before = announced.length
        const moving = cluster.proxy.connectionsTo(old.port)
        await old.stop()
        // Each client reads the notice in its own time; the expect below says how many did if some never do.
        await waitUntil(() => announced.length - before >= moving, 'every client to be told when to come back').catch(() => {})
        expect(announced.length - before, `clients of node ${old.name} told when to come back`).toBe(moving)
        expect(spreadOver(announced.slice(before), windowMs)).toEqual({ outside: 0, quarters: [true, true, true, true] })
        // A's successor joins the balancer and takes B's clients; B's own successor would change nothing the scenario checks.
        if (i === 0) {
          cluster.nodes[i] = await startNode(scripts().node, { name: `${old.name}2`, redisUrl: cluster.redis.url, env: { CLOSE_WINDOW_MS: String(windowMs) } })
          cluster.proxy.setTargets(cluster.nodes.map((node) => node.port))
        }
      }
      await publishing
      await untilAllReceived(clients, N)
      expectLogs(clients, range(1, N))
    }),
  )

  test.each(RUNS)('3. Redis restarted without persistence: every client gets a stream-reset resync within one reconnect, never a silent gap (run %i)', { timeout: 20_000 }, () =>
    timed('3 (Redis lost)', async () => {
      const cluster = await startCluster(scripts())
      const clients = await feedSubscribers(cluster.url, CLIENTS - 1)
      // One more client loses its own connection while Redis is down, and resubscribes from an id of the lost stream.
      const link = await startFaultProxy(cluster.proxy.port)
      const reconnecting = await subscribeFeed(nodeClient(link.url('/rpc')))
      const everyone = [...clients, reconnecting]
      await cluster.publisher.publish(1, N / 2)
      await untilAllReceived(everyone, N / 2)
      await cluster.redis.stop()
      link.cut()
      await waitUntil(() => reconnecting.api.$connection.state === 'open', 'the cut client to reconnect')
      await cluster.redis.restart()
      await waitUntil(() => everyone.every((client) => client.log.length > N / 2), 'every client to be told of the lost stream', 10_000)
      await cluster.publisher.publish(N / 2 + 1, N)
      await untilAllReceived(everyone, N)
      expectLogs(everyone, [...range(1, N / 2), 'resync:stream-reset', ...range(N / 2 + 1, N)])
      // The others were told on the connection they had: each node's reader found the new epoch when it reconnected to Redis.
      expect(clients.filter((client) => client.starts !== 1)).toEqual([])
      expect(reconnecting.starts).toBe(2)
    }),
  )

  test.each(RUNS)('4. Redis restarted with AOF on: clients resume with no resync (run %i)', { timeout: 20_000 }, () =>
    timed('4 (Redis AOF restart)', async () => {
      const cluster = await startCluster(scripts(), { redis: { appendonly: true } })
      const clients = await feedSubscribers(cluster.url, CLIENTS)
      await cluster.publisher.publish(1, N / 2)
      await untilAllReceived(clients, N / 2)
      await cluster.redis.restart()
      await cluster.publisher.publish(N / 2 + 1, N)
      await untilAllReceived(clients, N)
      expectLogs(clients, range(1, N))
      expect(clients.filter((client) => client.starts !== 1)).toEqual([])
    }),
  )

  test.each(RUNS)('5. trim: with history 10, the one client paused while 100 events are published alone gets `trimmed` (run %i)', { timeout: 20_000 }, () =>
    timed('5 (trim)', async () => {
      const cluster = await startCluster(scripts(), { history: 10 })
      const others = await feedSubscribers(cluster.url, 10)
      // The paused client reaches the cluster through a proxy of its own, which the test cuts and refuses: a laptop asleep.
      const link = await startFaultProxy(cluster.proxy.port)
      const paused = await subscribeFeed(nodeClient(link.url('/rpc')))
      await cluster.publisher.publish(1, 5)
      await untilAllReceived([...others, paused], 5)
      link.refuse(true)
      link.cut()
      await waitUntil(() => paused.api.$connection.state !== 'open', 'the paused client to notice the drop')
      await cluster.publisher.publish(6, 105)
      await untilAllReceived(others, 105)
      link.refuse(false)
      await waitUntil(() => paused.log.includes('resync:trimmed'), 'the paused client to resume', 10_000)
      await cluster.publisher.publish(106, 110)
      await untilAllReceived([...others, paused], 110)
      expectLogs(others, range(1, 110))
      expect(paused.log).toEqual([...range(1, 5), 'resync:trimmed', ...range(106, 110)])
      expect(paused.starts).toBe(2)
    }),
  )

  test.each(RUNS)('6. failover loss: a replica promoted without the last writes: clients ahead of it get `position-lost`, also when it took newer writes first (run %i)', { timeout: 20_000 }, (run) =>
    timed('6 (failover loss)', async () => {
      const primary = await startRedis()
      const replica = await startRedis({ replicaOf: { port: primary.port } })
      // The nodes and the publisher reach Redis through a proxy: the failover points it at the replica.
      const redisLink = await startRoundRobinProxy([primary.port])
      const cluster = await startCluster(scripts(), { redis: primary, redisUrl: `redis://127.0.0.1:${redisLink.port}` })
      const clients = await feedSubscribers(cluster.url, 20)
      await untilReplicaSynced(primary, replica)
      await cluster.publisher.publish(1, 50)
      expect(await primary.command('WAIT', '1', '5000')).toBe(1)
      // The replica stops following (a partition), then the primary takes writes it will never have.
      await replica.command('REPLICAOF', 'NO', 'ONE')
      await cluster.publisher.publish(51, 80)
      await untilAllReceived(clients, 80)
      // Even runs: another publisher writes to the promoted replica before the nodes reconnect, so its newest id is
      // later than any the clients saw, and only the missing entry gives the loss away.
      const early = run % 2 === 0 ? 5 : 0
      if (early > 0) await scripts().publisher.for(replica.url).publish(81, 80 + early)
      redisLink.setTargets([replica.port])
      await primary.kill()
      await waitUntil(() => clients.every((client) => client.log.includes('resync:position-lost')), 'every client to be told its position was lost', 10_000)
      await cluster.publisher.publish(81 + early, 100)
      await untilAllReceived(clients, 100)
      // The nodes go on from the replica's newest entry: what it took before they came back is behind the resync.
      expectLogs(clients, [...range(1, 80), 'resync:position-lost', ...range(81 + early, 100)])
    }),
  )

  test.each(RUNS)('7. a Redis blip (odd runs: CLIENT KILL of the nodes’ connections; even runs: DEBUG SLEEP 2): no gap, no resync (run %i)', { timeout: 20_000 }, (run) =>
    timed('7 (Redis blip)', async () => {
      const cluster = await startCluster(scripts())
      const clients = await feedSubscribers(cluster.url, CLIENTS)
      const publishing = cluster.publisher.publish(1, N, 2)
      await cluster.publisher.published(N / 4)
      if (run % 2 === 1) {
        const killed = await Promise.all((await nodeConnections(cluster.redis)).map((client) => cluster.redis.command('CLIENT', 'KILL', 'ID', client['id']!)))
        expect(killed.length).toBeGreaterThanOrEqual(4)
      } else {
        await cluster.redis.command('DEBUG', 'SLEEP', '2')
      }
      await publishing
      await untilAllReceived(clients, N)
      expectLogs(clients, range(1, N))
      expect(clients.filter((client) => client.starts !== 1)).toEqual([])
    }),
  )

  test.each(RUNS)('8. an idempotent mutation runs exactly once: replayed on the other node after a drop, CONFLICT (outcome unknown) when its node is killed mid-call (run %i)', { timeout: 20_000 }, (run) =>
    timed('8 (exactly once)', async () => {
      const cluster = await startCluster(scripts(), { env: { LEASE_MS: '300' } })
      const [first, second] = run % 2 === 0 ? [cluster.nodes[0]!, cluster.nodes[1]!] : [cluster.nodes[1]!, cluster.nodes[0]!]
      const runs = async (key: string) => Number(await cluster.redis.command('GET', `runs:${key}`))
      const started = (key: string) => waitUntilAsync(async () => (await runs(key)) === 1, `mutation ${key} to start`)

      // A dropped connection: the retry lands on the other node, which waits for the first run and replays its outcome.
      const link = await startFaultProxy(cluster.proxy.port)
      cluster.proxy.setTargets([first.port])
      const replayed = nodeClient(link.url('/rpc')).slowOnce.mutate({ key: `drop-${run}`, ms: 400 })
      await started(`drop-${run}`)
      cluster.proxy.setTargets([second.port])
      link.cut()
      await waitUntil(() => cluster.proxy.connectionsTo(second.port) === 1, `the retry to reach node ${second.name}`)
      expect(await replayed).toEqual({ runs: 1, node: first.name })
      expect(await runs(`drop-${run}`)).toBe(1)

      // Its node killed mid-call: the retry cannot know whether the mutation took effect, and says so rather than run it again.
      cluster.proxy.setTargets([first.port])
      const lost = nodeClient(cluster.url)
        .slowOnce.mutate({ key: `kill-${run}`, ms: 5_000 })
        .then(() => undefined, (error: unknown) => error)
      await started(`kill-${run}`)
      cluster.proxy.setTargets([second.port])
      await first.kill()
      const error = await lost
      expect(error).toBeInstanceOf(RpcError)
      expect(error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/outcome is unknown/) })
      expect(await runs(`kill-${run}`)).toBe(1)
    }),
  )

  test.each(RUNS)('9. presence: a killed node\'s members disappear within the TTL plus one sweep (run %i)', { timeout: 20_000 }, () =>
    timed('9 (presence)', async () => {
      const ttlMs = 600
      const sweepMs = ttlMs / 3
      const cluster = await startCluster(scripts(), { env: { PRESENCE_TTL_MS: String(ttlMs) } })
      const [a, b] = [cluster.nodes[0]!, cluster.nodes[1]!]
      // Straight to each node, and no reconnect: a member of the killed node must not come back through the other.
      const direct = (node: typeof a) => `ws://127.0.0.1:${node.port}/rpc`
      for (let i = 1; i <= 5; i++) presenceWatcher(nodeClient(direct(a), { name: `a${i}`, reconnect: false }), 'room')
      for (let i = 2; i <= 5; i++) presenceWatcher(nodeClient(direct(b), { name: `b${i}`, reconnect: false }), 'room')
      const watcher = presenceWatcher(nodeClient(direct(b), { name: 'b1', reconnect: false }), 'room')
      const everyone = ['a1', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3', 'b4', 'b5']
      await waitUntil(() => JSON.stringify(watcher.latest()) === JSON.stringify(everyone), 'the watcher to see all ten members', 5_000)
      const killedAt = Date.now()
      await a.kill()
      await waitUntil(() => JSON.stringify(watcher.latest()) === JSON.stringify(everyone.slice(5)), 'node a\'s members to disappear', 5_000)
      const goneAfterMs = Date.now() - killedAt
      // The bound the docs state, plus what a busy 2-core machine adds to a timer and a round trip.
      expect(goneAfterMs).toBeLessThanOrEqual(ttlMs + sweepMs + 250)
      record('9: members of a killed node gone after (ms)', goneAfterMs)
      // Node b's members never left the list meanwhile.
      const shown = watcher.lists.slice(watcher.lists.findIndex((list) => list.length === everyone.length))
      for (const list of shown) expect(list).toEqual(expect.arrayContaining(everyone.slice(5)))
    }),
  )

  test.each(RUNS)('10. bounds: at most readers + 2 Redis connections per node whatever the channel count, nothing tailed 1 s after the last client leaves, XLEN under history + 100 after 10,000 publishes (run %i)', { timeout: 20_000 }, (run) =>
    timed('10 (bounds)', async () => {
      const readers = run % 2 === 0 ? 2 : 1
      const history = 100
      const cluster = await startCluster(scripts(), { history, env: { READERS: String(readers) } })
      // One observer per node, straight to it, that subscribes to nothing.
      const observers = cluster.nodes.map((node) => nodeClient(`ws://127.0.0.1:${node.port}/rpc`))
      const debugAll = () => Promise.all(observers.map((observer) => observer.debug.query()))
      // One channel, then 200 topics (two per client, over both nodes).
      const clients = await feedSubscribers(cluster.url, CLIENTS)
      for (const node of cluster.nodes) expect((await nodeConnections(cluster.redis, node.name)).length).toBeLessThanOrEqual(readers + 2)
      await Promise.all(clients.flatMap((client, i) => [subscribeFeed(client.api, { topic: `t${2 * i}` }), subscribeFeed(client.api, { topic: `t${2 * i + 1}` })]))
      const tailed = await debugAll()
      expect(tailed.reduce((sum, node) => sum + node.tailedStreams, 0)).toBeGreaterThanOrEqual(200)
      for (const node of cluster.nodes) {
        const connections = (await nodeConnections(cluster.redis, node.name)).length
        expect(connections).toBeLessThanOrEqual(readers + 2)
        record(`10: Redis connections of a node with readers: ${readers}, tailing ${tailed.find((debug) => debug.node === node.name)?.tailedStreams} streams`, connections)
      }
      // Every client leaves: within a second no node tails anything, and no reader is blocked in Redis.
      await Promise.all(clients.map((client) => client.api.$connection.close()))
      const leftAt = Date.now()
      await waitUntilAsync(async () => (await debugAll()).every((node) => node.tailedStreams === 0) && (await blockedConnections(cluster.redis)).length === 0, 'the nodes to stop tailing', 5_000)
      expect(Date.now() - leftAt).toBeLessThanOrEqual(1_000)
      record('10: nothing tailed after the last client left (ms)', Date.now() - leftAt)
      // Trimmed as it grows: MAXLEN ~ overshoots by at most a macro node (100 entries).
      await cluster.publisher.burst(10_000)
      const length = Number(await cluster.redis.command('XLEN', 'wirecall:{feed}:s'))
      expect(length).toBeLessThan(history + 100)
      record(`10: XLEN after 10,000 publishes with history ${history}`, length)
    }),
  )
})

async function waitUntilAsync(predicate: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
