export { redisChannelBackend, redisChannelDefaults, type RedisChannelBackend, type RedisChannelBackendOptions } from './channel-backend'
export { redisIdempotencyDefaults, redisIdempotencyStore, type RedisIdempotencyStoreOptions } from './idempotency-store'
export { redisPresence, redisPresenceDefaults, type PresenceTopic, type RedisPresence, type RedisPresenceOptions } from './presence'
export type { RedisConnection } from './connection'
