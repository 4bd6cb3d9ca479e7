import { isRpcError } from '@wirecall/core'
import { redisPresence, type RedisPresence } from '@wirecall/redis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { sleep, waitUntil, within } from '../../../tests/helpers/async'
import { connect, startRedis, type RedisServer, type TestClient } from './fixture'

/**
 * Presence across nodes: two `redisPresence` instances, each on its own
 * node-redis client (two server processes), sharing one real redis-server
 * on 127.0.0.1. A node "dies" by losing its client: it stops refreshing.
 */

/** presenceTtlMs of these tests: a sweep (refresh and watch poll) every 200 ms. */
const TTL_MS = 600
const SWEEP_MS = TTL_MS / 3

interface Node {
  client: TestClient
  presence: RedisPresence
}

async function presenceNode(redis: RedisServer, name: string, presenceTtlMs: number): Promise<Node> {
  const client = await connect(redis, name)
  const presence = redisPresence({ client, presenceTtlMs })
  onTestFinished(() => within(presence.close(), `${name}'s presence to close`))
  return { client, presence }
}

async function twoNodes(presenceTtlMs = TTL_MS) {
  const redis = await startRedis()
  return { redis, a: await presenceNode(redis, 'A', presenceTtlMs), b: await presenceNode(redis, 'B', presenceTtlMs) }
}

/** Polls the async `probe` every 5 ms until it holds; rejects after `timeoutMs` naming `what`. */
async function eventually(probe: () => Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(5)
  }
}

const same = (a: readonly string[], b: readonly string[]) => JSON.stringify(a) === JSON.stringify(b)

/** Iterates `watch()` in the background, recording each list with when it came; ended after the test. */
function watcher(node: Node, topic: string) {
  const controller = new AbortController()
  const lists: { members: string[]; at: number }[] = []
  const loop = (async () => {
    for await (const members of node.presence.topic(topic).watch({ signal: controller.signal })) lists.push({ members, at: performance.now() })
  })()
  const stop = async () => {
    controller.abort()
    await within(loop, 'the watch loop to end')
  }
  onTestFinished(stop)
  return {
    lists,
    stop,
    /** Resolves with when a list equal to `members` came, waiting for it if need be. */
    async until(members: string[], timeoutMs = 3_000): Promise<number> {
      await waitUntil(() => lists.some((list) => same(list.members, members)), `the list ${JSON.stringify(members)}`, timeoutMs)
      return lists.find((list) => same(list.members, members))!.at
    },
  }
}

describe('redisPresence across two nodes', () => {
  it('lists the members of both nodes, sorted, each once', async () => {
    const { a, b } = await twoNodes()
    a.presence.topic('lobby').enter('bob')
    a.presence.topic('lobby').enter('ann')
    b.presence.topic('lobby').enter('cat')
    b.presence.topic('lobby').enter('ann')
    b.presence.topic('other').enter('dan')

    const everyone = ['ann', 'bob', 'cat']
    await eventually(async () => same(await a.presence.topic('lobby').members(), everyone), 'A to list every member')
    expect(await b.presence.topic('lobby').members()).toEqual(everyone)
    expect(await a.presence.topic('other').members()).toEqual(['dan'])
  })

  it('keeps a member entered twice until both have left', async () => {
    const { a, b } = await twoNodes()
    const lobby = a.presence.topic('lobby')
    const firstTab = lobby.enter('bob')
    const secondTab = lobby.enter('bob')
    await eventually(async () => same(await b.presence.topic('lobby').members(), ['bob']), 'bob listed')

    firstTab()
    // Leaving twice from one tab counts once.
    firstTab()
    await sleep(SWEEP_MS)
    expect(await b.presence.topic('lobby').members()).toEqual(['bob'])

    secondTab()
    await eventually(async () => same(await b.presence.topic('lobby').members(), []), 'bob gone')
  })

  it('keeps a live node’s members listed past the ttl: the node refreshes them', async () => {
    const { a, b } = await twoNodes()
    b.presence.topic('lobby').enter('bob')
    await eventually(async () => same(await a.presence.topic('lobby').members(), ['bob']), 'bob listed')
    await sleep(TTL_MS * 3)
    expect(await a.presence.topic('lobby').members()).toEqual(['bob'])
  })

  it('watch yields the list at once, again at once on a change on its node, and within one sweep on a change on another', async () => {
    // Sweeps of 600 ms, so that "at once" (a round trip) and "within a sweep" stay apart on a busy 2-core machine.
    const sweepMs = 600
    const { a, b } = await twoNodes(sweepMs * 3)
    const watched = watcher(a, 'lobby')
    await watched.until([])

    const enteredHere = performance.now()
    const leave = a.presence.topic('lobby').enter('ann')
    expect((await watched.until(['ann'])) - enteredHere).toBeLessThan(sweepMs / 2)

    const enteredThere = performance.now()
    b.presence.topic('lobby').enter('bob')
    expect((await watched.until(['ann', 'bob'])) - enteredThere).toBeLessThan(sweepMs + 300)

    const left = performance.now()
    leave()
    expect((await watched.until(['bob'])) - left).toBeLessThan(sweepMs / 2)
    // Each list once: no repeats of an unchanged list.
    expect(watched.lists.map((list) => list.members)).toEqual([[], ['ann'], ['ann', 'bob'], ['bob']])
  })

  it('drops the members of a node that stops refreshing (its client destroyed) within presenceTtlMs plus one sweep', async () => {
    const { a, b } = await twoNodes()
    a.presence.topic('lobby').enter('ann')
    b.presence.topic('lobby').enter('bob')
    const watched = watcher(a, 'lobby')
    await watched.until(['ann', 'bob'])

    const died = performance.now()
    b.client.destroy()
    const gone = await watched.until(['ann'], TTL_MS * 4)
    // Slack for a busy 2-core machine: the bound is the ttl plus one sweep, not a moment later.
    expect(gone - died).toBeLessThan(TTL_MS + SWEEP_MS + 300)
    expect(await a.presence.topic('lobby').members()).toEqual(['ann'])
  })

  it('close() removes the node’s members at once and stops its refreshing', async () => {
    const { redis, a, b } = await twoNodes()
    a.presence.topic('lobby').enter('ann')
    a.presence.topic('kitchen').enter('ann')
    b.presence.topic('lobby').enter('bob')
    await eventually(async () => same(await b.presence.topic('lobby').members(), ['ann', 'bob']), 'both listed')

    await a.presence.close()
    expect(await b.presence.topic('lobby').members()).toEqual(['bob'])
    expect(await b.presence.topic('kitchen').members()).toEqual([])
    // Nothing of A's comes back with a later refresh.
    await sleep(SWEEP_MS * 2)
    expect(await redis.command('ZRANGE', 'wirecall:{presence:lobby}', '0', '-1')).toEqual([expect.stringMatching(/\/bob$/)])
  })

  it('gives every presence key an expiry', async () => {
    const { redis, a, b } = await twoNodes()
    a.presence.topic('lobby').enter('ann')
    b.presence.topic('kitchen').enter('bob')
    await eventually(async () => ((await redis.command('KEYS', '*')) as string[]).length === 2, 'both topics written')
    await sleep(SWEEP_MS * 2)
    const keys = (await redis.command('KEYS', '*')) as string[]
    expect(keys.sort()).toEqual(['wirecall:{presence:kitchen}', 'wirecall:{presence:lobby}'])
    for (const key of keys) {
      const ttl = (await redis.command('PTTL', key)) as number
      expect(ttl, key).toBeGreaterThan(0)
      expect(ttl, key).toBeLessThanOrEqual(TTL_MS * 2)
    }
  })

  it('Redis down: members() fails with OVERLOADED and close() still resolves, rather than wait for Redis', async () => {
    const { redis, a } = await twoNodes()
    a.presence.topic('lobby').enter('ann')
    await eventually(async () => same(await a.presence.topic('lobby').members(), ['ann']), 'ann listed')
    await redis.kill()
    await waitUntil(() => !a.client.isReady, 'the client to see Redis gone')
    const error = await within(a.presence.topic('lobby').members().then(() => undefined, (caught: unknown) => caught), 'members() while Redis is down')
    expect(isRpcError(error) && error.code).toBe('OVERLOADED')
    await within(a.presence.close(), 'close() while Redis is down')
  })
})
