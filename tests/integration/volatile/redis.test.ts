import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initRpc } from '@wirecall/core'
import { createChannel, type BackedChannel } from '@wirecall/server'
import { redisChannelBackend } from '@wirecall/redis'
// The package's own test fixture: a node-redis v5 client resolved from packages/redis, where `redis` is installed.
import { connect } from '../../../packages/redis/test/fixture'
import { startRedis, type RedisServer } from '../../helpers/redis-server'
import { connectClient, rpcErrorOf, sleep, startServer, waitUntil } from '../../helpers/harness'

/**
 * Volatile publishes on `redisChannelBackend()`, with two wirecall servers
 * (two nodes) on one real redis-server (Debian's, on 127.0.0.1): a
 * volatile event published on one node reaches a subscriber on the other,
 * after the tracked events its publisher published before it, is never stored
 * (a resume replays tracked events only), and is dropped, not queued and
 * not an error, while Redis is down; once Redis is back they flow again.
 */

interface Ev {
  kind: 't' | 'v'
  n: number
}

const rpc = initRpc.create()
const routerOf = (channel: BackedChannel<Ev>) =>
  rpc.router({ feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })) })

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.close()
})

async function twoNodes() {
  const clientA = await connect(redis, 'volatile-node-a')
  const clientB = await connect(redis, 'volatile-node-b')
  const backendA = redisChannelBackend({ client: clientA })
  const backendB = redisChannelBackend({ client: clientB })
  const nodeA = createChannel<Ev>({ backend: backendA, name: 'typing', history: 100 })
  const nodeB = createChannel<Ev>({ backend: backendB, name: 'typing', history: 100 })
  const serverA = await startServer({ router: routerOf(nodeA) })
  const cleanup = async () => {
    nodeA.close()
    nodeB.close()
    await Promise.all([backendA.close(), backendB.close()])
  }
  return { clientA, clientB, backendA, backendB, nodeA, nodeB, serverA, cleanup }
}

const label = (event: Ev) => `${event.kind}${event.n}`

/** Like `waitUntil`, for a predicate that has to ask Redis (or publish) each time. */
async function eventually(predicate: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

const subscribersOf = async (channel: string): Promise<number> => ((await redis.command('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]

/** A client of node A subscribed to the feed, once node A receives volatile events; with what it gets, labelled. */
async function subscribedOnNodeA(nodes: Awaited<ReturnType<typeof twoNodes>>) {
  const api = connectClient<ReturnType<typeof routerOf>>(nodes.serverA.url)
  const got: string[] = []
  let started = false
  api.feed.subscribe(undefined, { onStarted: () => (started = true), onData: (event) => void got.push(label(event)) })
  // The node receives volatile events once Redis confirmed its pub/sub subscription (one connection for the node).
  await waitUntil(() => started && nodes.backendA.volatileStreams === 1, 'node A to subscribe to the volatile events')
  return { api, got }
}

describe('volatile events on redisChannelBackend()', () => {
  it('reach a subscriber on another node in publish order, and a resume replays the tracked ones only', async () => {
    const nodes = await twoNodes()
    try {
      const { api, got } = await subscribedOnNodeA(nodes)

      const published: string[] = []
      const ids = new Map<number, string>()
      for (let n = 1; n <= 60; n++) {
        const event: Ev = { kind: n % 3 === 0 ? 't' : 'v', n }
        if (event.kind === 't') ids.set(n, await nodes.nodeB.publish(event))
        else expect(await nodes.nodeB.publish(event, { volatile: true })).toBeUndefined()
        published.push(label(event))
      }
      await waitUntil(() => got.length === published.length, 'every event on the other node')
      // Each kind in publish order; and a volatile event never before a tracked one its publisher awaited before it.
      // (A tracked event published after a volatile one may overtake it: they reach the node on two Redis connections.)
      expect(got.filter((e) => e.startsWith('t'))).toEqual(published.filter((e) => e.startsWith('t')))
      expect(got.filter((e) => e.startsWith('v'))).toEqual(published.filter((e) => e.startsWith('v')))
      got.forEach((event, i) => {
        if (!event.startsWith('v')) return
        const n = Number(event.slice(1))
        const trackedBefore = published.filter((e) => e.startsWith('t') && Number(e.slice(1)) < n)
        expect(got.slice(0, i), `the tracked events before ${event}`).toEqual(expect.arrayContaining(trackedBefore))
      })
      expect(nodes.nodeB.lastEventId).toBe(ids.get(60))

      // Nothing volatile was stored: the stream holds the tracked events only.
      expect(await redis.command('XLEN', 'wirecall:{typing}:s')).toBe(20)
      const resumed: string[] = []
      let resumedStarted = false
      api.feed.subscribe(undefined, { lastEventId: ids.get(30)!, onStarted: () => (resumedStarted = true), onData: (event) => void resumed.push(label(event)) })
      await waitUntil(() => resumedStarted && resumed.length === 10, 'the replay after t30')
      expect(resumed).toEqual([33, 36, 39, 42, 45, 48, 51, 54, 57, 60].map((n) => `t${n}`))
    } finally {
      await nodes.cleanup()
    }
    // Closed: the node's pub/sub subscriptions are gone from Redis.
    await eventually(async () => (await subscribersOf('wirecall:{typing}:v')) === 0, 'the pub/sub subscription to go')
  })

  it('the node unsubscribes from a stream when its last subscriber leaves', async () => {
    const nodes = await twoNodes()
    try {
      const api = connectClient<ReturnType<typeof routerOf>>(nodes.serverA.url)
      let started = false
      const sub = api.feed.subscribe(undefined, { onStarted: () => (started = true) })
      await waitUntil(() => started && nodes.backendA.volatileStreams === 1, 'the pub/sub subscription')
      expect(await subscribersOf('wirecall:{typing}:v')).toBe(1)
      sub.unsubscribe()
      await waitUntil(() => nodes.backendA.volatileStreams === 0, 'the node to let the stream go')
      await eventually(async () => (await subscribersOf('wirecall:{typing}:v')) === 0, 'Redis to see the unsubscribe')
    } finally {
      await nodes.cleanup()
    }
  })

  it('with volatile: false the node keeps no pub/sub connection and a volatile publish rejects with NOT_IMPLEMENTED', async () => {
    const client = await connect(redis, 'volatile-off')
    const backend = redisChannelBackend({ client, volatile: false })
    const channel = createChannel<Ev>({ backend, name: 'quiet' })
    try {
      const server = await startServer({ router: routerOf(channel) })
      const api = connectClient<ReturnType<typeof routerOf>>(server.url)
      let started = false
      api.feed.subscribe(undefined, { onStarted: () => (started = true) })
      await waitUntil(() => started && backend.tailedStreams === 1, 'the subscription')
      expect((await rpcErrorOf(channel.publish({ kind: 'v', n: 1 }, { volatile: true }))).code).toBe('NOT_IMPLEMENTED')
      expect(backend.volatileStreams).toBe(0)
      expect(await subscribersOf('wirecall:{quiet}:v')).toBe(0)
    } finally {
      channel.close()
      await backend.close()
    }
  })

  it('while Redis is down a volatile publish is dropped (resolves, no error, nothing queued); once it is back they reach the other node again', async () => {
    const nodes = await twoNodes()
    try {
      const { got } = await subscribedOnNodeA(nodes)
      await nodes.nodeB.publish({ kind: 'v', n: 1 }, { volatile: true })
      await waitUntil(() => got.length === 1, 'a first volatile event')

      await redis.stop()
      await waitUntil(() => !nodes.clientB.isReady, "node B's client to see Redis gone")
      // Dropped at once: no error, no wait for Redis to come back.
      const started0 = Date.now()
      await expect(nodes.nodeB.publish({ kind: 'v', n: 2 }, { volatile: true })).resolves.toBeUndefined()
      expect(Date.now() - started0).toBeLessThan(100)
      // A tracked publish, which must be stored, fails instead.
      expect((await rpcErrorOf(nodes.nodeB.publish({ kind: 't', n: 3 }))).code).toBe('OVERLOADED')

      redis = await redis.restart()
      await waitUntil(() => nodes.clientA.isReady && nodes.clientB.isReady, 'both clients to reconnect', 10_000)
      // The subscriber resubscribes after the restart (its stream came back empty: a resync); then volatile events flow again.
      let n = 100
      await eventually(
        async () => {
          await nodes.nodeB.publish({ kind: 'v', n: ++n }, { volatile: true })
          await sleep(20)
          return got.some((label) => label.startsWith('v1') && label !== 'v1')
        },
        'a volatile event after the restart',
        10_000,
      )
      // The one published while Redis was down never arrives, not even late.
      await sleep(100)
      expect(got).not.toContain('v2')
      expect(got).not.toContain('t3')
    } finally {
      await nodes.cleanup()
    }
  })
})
