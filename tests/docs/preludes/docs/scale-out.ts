import type { RedisConnection } from '@wirecall/redis'

export * from '../common'
export { redisChannelBackend, redisIdempotencyStore, redisPresence } from '@wirecall/redis'

/** The node-redis client of the page's set-up. */
export declare const client: RedisConnection
