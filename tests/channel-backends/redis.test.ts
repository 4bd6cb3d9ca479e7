import { afterAll, beforeAll } from 'vitest'
import { createChannel } from '@wirecall/server'
import { redisChannelBackend, type RedisChannelBackend } from '@wirecall/redis'
// The package's own test fixture: a node-redis v5 client resolved from packages/redis, where `redis` is installed.
import { connect } from '../../packages/redis/test/fixture'
import { startRedis, type RedisServer } from '../helpers/redis-server'
import { describeChannelConformance, type ConformanceBehaviour } from './conformance'

/**
 * The conformance suite against `redisChannelBackend()` on a real
 * redis-server (Debian's, started here on 127.0.0.1, killed by PID after
 * the file). Each test gets two backends on two clients: the first channel
 * of a name is on one, the second on the other, so the suite's "two nodes"
 * are two readers and two connections, as two processes would have.
 */

/** Ids are `epoch.ms-seq`: the same epoch, a stream id a million ms ahead. */
const farAhead = (id: string): string => {
  const dot = id.lastIndexOf('.')
  const [ms = '0'] = id.slice(dot + 1).split('-')
  return `${id.slice(0, dot)}.${Number(ms) + 1_000_000}-0`
}

const behaviour: ConformanceBehaviour = {
  shared: true,
  positionTakenAt: 'ready',
  slowSubscriber: 'catch-up',
  futureIdReason: 'position-lost',
  futureId: farAhead,
  // Another stream's id has another epoch (stream-reset); an id not of the `epoch.ms-seq` form is unknown-id.
  foreignIdReasons: ['stream-reset', 'unknown-id'],
  positionBeforeFirstEvent: true,
}

let redis: RedisServer
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.close()
})

describeChannelConformance('redisChannelBackend()', async () => {
  const nodes: RedisChannelBackend[] = []
  for (const name of ['node-a', 'node-b']) nodes.push(redisChannelBackend({ client: await connect(redis, `conformance-${name}`) }))
  const channelsOf = new Map<string, number>()
  return {
    make: (options) => {
      const made = channelsOf.get(options.name) ?? 0
      channelsOf.set(options.name, made + 1)
      return createChannel({ ...options, backend: nodes[made % nodes.length]! })
    },
    behaviour,
    cleanup: async () => {
      // The readers stop; the clients are destroyed by the fixture after the test.
      await Promise.all(nodes.map((node) => node.close()))
    },
  }
})
