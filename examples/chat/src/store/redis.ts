import { redisChannelBackend, redisIdempotencyStore, redisPresence } from '@wirecall/redis'
import { createChannel } from '@wirecall/server'
import { createClient } from 'redis'
import type { ChatStore, TypingEvent } from './chat-store'
import { redisMessages, type RoomPayload } from './redis-messages'
import { roomPresence } from './redis-presence'
import { redisTyping } from './redis-typing'

/** Options of {@link openRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://host:port`: the Redis every chat process shares. */
  url: string
  /** Messages kept per room for history, and for resuming a page from a message id. @default 500 */
  keepMessages?: number | undefined
  /** How long a typing indicator lasts without being renewed, in ms. @default 3_000 */
  typingTtlMs?: number | undefined
  /** How long a user stays listed when their node dies, in ms (each node refreshes its own every third of it). @default 10_000 */
  presenceTtlMs?: number | undefined
  /** Told when Redis goes away (the client reconnects by itself). @default console.error, once per outage */
  onError?: ((error: unknown) => void) | undefined
}

/** How long a room's messages live in Redis after its last one: a day, as the channel backend's streams. */
const ROOM_TTL_MS = 86_400_000
/** Events the backend keeps per room for resuming feeds: more than the history, so a page that fell behind a little catches up instead of reloading. */
const FEED_HISTORY = 1_000

/**
 * The chat on several processes sharing one Redis (`REDIS_URL`): messages
 * in a channel per room on `redisChannelBackend` (sent on any node,
 * delivered on every node, resumed on any node), with typing indicators
 * among them as volatile events for `room.session`; history, numbering
 * and send keys in Redis; presence on `redisPresence`; typing snapshots
 * (`typing.feed`) on a second channel; and idempotent mutations on
 * `redisIdempotencyStore`, so a send retried on another node posts once.
 * Resolves once connected to Redis.
 */
export async function openRedisStore(options: RedisStoreOptions): Promise<ChatStore> {
  const { url, keepMessages = 500, typingTtlMs = 3_000, presenceTtlMs = 10_000 } = options
  let reported = false
  const onError =
    options.onError ??
    ((error: unknown) => {
      if (reported) return
      reported = true
      console.error(`[chat] Redis at ${url} is unavailable (retrying): ${error instanceof Error ? error.message : String(error)}`)
    })
  // A short reconnect delay: a Redis blip should cost the pages milliseconds, not seconds.
  const client = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1_000) } })
  client.on('error', onError)
  client.on('ready', () => (reported = false))
  await client.connect()

  const backend = redisChannelBackend({ client, onError })
  const presence = redisPresence({ client, presenceTtlMs, onError })
  const messagesChannel = createChannel<RoomPayload>({ backend, name: 'chat', history: FEED_HISTORY })
  const typingChannel = createChannel<TypingEvent>({ backend, name: 'chat-typing', history: 100 })
  const messages = redisMessages({ client, channel: messagesChannel, keepMessages, ttlMs: ROOM_TTL_MS })
  const typing = redisTyping(typingChannel, typingTtlMs)
  const clearTyping = (room: Parameters<typeof typing.set>[0], user: string) => void typing.set(room, user, false).catch(() => {})

  return {
    lastId: (room) => messages.lastId(room),
    history: (room, limit) => messages.history(room, limit),
    async send(room, from, text, key) {
      clearTyping(room, from)
      // `messages.send` also runs under the idempotency store (once per key, whatever node); `room.session` relies on the key alone.
      return messages.send(room, from, text, key)
    },
    feed: (room, lastEventId, signal) => messages.feed(room, lastEventId, signal),
    events: (room, after, signal) => messages.events(room, after, signal),
    posted: (room, key) => messages.posted(room, key),
    presence: roomPresence(presence, clearTyping),
    async setTyping(room, user, on) {
      await Promise.all([typing.set(room, user, on), messages.typing(room, user, on)])
    },
    typing: (room, signal) => typing.watch(room, signal),
    idempotencyStore: redisIdempotencyStore({ client }),
    async close() {
      typing.close()
      messagesChannel.close()
      typingChannel.close()
      await presence.close()
      await backend.close()
      await client.close()
    },
  }
}
