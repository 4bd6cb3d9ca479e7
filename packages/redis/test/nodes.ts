import { redisChannelBackend, type RedisChannelBackend, type RedisChannelBackendOptions } from '@wirecall/redis'
import { onTestFinished } from 'vitest'
import { connect, startRedis, type TestClient } from './fixture'

/** A backend on `client`, closed after the test. */
export function backendOn(client: TestClient, options: Omit<RedisChannelBackendOptions, 'client'> = {}): RedisChannelBackend {
  const backend = redisChannelBackend({ client, ...options })
  onTestFinished(() => backend.close())
  return backend
}

/** A Redis, a node's client and backend, and a second client and backend: another node that publishes. */
export async function twoNodes(options: Omit<RedisChannelBackendOptions, 'client'> = {}, nodeName = 'node-a') {
  const redis = await startRedis()
  const client = await connect(redis, nodeName)
  const node = backendOn(client, options)
  const publisherClient = await connect(redis, 'publisher')
  const publisher = backendOn(publisherClient, options)
  return { redis, client, node, publisherClient, publisher }
}
