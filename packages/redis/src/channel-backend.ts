import { RpcError, type ResyncReason } from '@wirecall/core'
import type { BackendRead, ChannelBackend } from '@wirecall/server'
import { BroadcastSubscriber, broadcastMessage } from './broadcast-subscriber'
import { redisError, type RedisConnection } from './connection'
import { streamKeys } from './keys'
import { PUBLISH, READ, runScript } from './scripts'
import { StreamReader, compareIds } from './stream-reader'

/** Options of {@link redisChannelBackend}. */
export interface RedisChannelBackendOptions {
  /** A connected node-redis v5 client (`createClient({ url })`, RESP2). Publishes and scripts go through it; the reader duplicates it. */
  client: RedisConnection
  /** Prefix of every key. @default 'wirecall:' */
  prefix?: string
  /**
   * How long a stream and its meta hash live after their last publish (every
   * key has an expiry). A client resuming later gets `stream-reset`.
   * @default 86_400_000 (one day)
   */
  historyTtlMs?: number
  /** Most events one resume may replay; further behind gets `too-far-behind`. @default 10_000 */
  maxReplay?: number
  /** Largest encoded event stored; a larger publish rejects with `PAYLOAD_TOO_LARGE`. @default 1_048_576 */
  maxEventBytes?: number
  /** How long one `XREAD` blocks; the set of streams read is changed at once regardless (`CLIENT UNBLOCK`). @default 2_000 */
  blockMs?: number
  /** Blocking reader connections; streams are spread over them by name. @default 1 */
  readers?: number
  /** Told of failures nobody waits for (the reader losing its connection); the reader retries by itself. @default ignored */
  onError?: (error: unknown) => void
  /**
   * Carry volatile events (`publish(data, { volatile: true })`) between
   * nodes, by Redis pub/sub: each node then holds one more connection (a
   * `duplicate()`, made when it first tails a stream) subscribed to the
   * streams it tails. `false` saves that connection; a volatile publish then
   * rejects with `NOT_IMPLEMENTED`.
   * @default true
   */
  volatile?: boolean
}

/** Defaults of {@link RedisChannelBackendOptions}; the docs quote these. */
export const redisChannelDefaults = {
  prefix: 'wirecall:',
  historyTtlMs: 86_400_000,
  maxReplay: 10_000,
  maxEventBytes: 1_048_576,
  blockMs: 2_000,
  readers: 1,
  volatile: true,
} as const

/** A {@link ChannelBackend} on Redis Streams, with what tests and metrics read. */
export interface RedisChannelBackend extends ChannelBackend {
  /** Streams this node tails now. */
  readonly tailedStreams: number
  /** Blocking reader connections open now (at most `readers`). */
  readonly readerConnections: number
  /** Streams whose volatile events this node receives now (pub/sub channels Redis confirmed). */
  readonly volatileStreams: number
  /** Stops the readers and the pub/sub connection (closing them); the client stays yours. */
  close(): Promise<void>
}

/**
 * Channel events in Redis Streams, for servers on several processes: pass
 * it as `createChannel({ backend, name })`. A stream per channel and topic
 * plus a meta hash holding its epoch, written by one Lua script per publish
 * (epoch, count, `XADD … MAXLEN ~ history`, expiry); live delivery through
 * one multiplexed blocking reader per node, never one connection per
 * channel; resume decided atomically by a script (see `docs/scale-out.md`).
 *
 * @example
 * ```ts
 * const client = await createClient({ url: process.env.REDIS_URL }).connect()
 * const backend = redisChannelBackend({ client })
 * const messages = createChannel<Message>({ backend, name: 'chat', history: 1_000 })
 * ```
 */
export function redisChannelBackend(options: RedisChannelBackendOptions): RedisChannelBackend {
  const backend = streamsBackend(options)
  // Without volatile events the backend has no broadcast, and a volatile publish says so.
  if (options.volatile === false) delete (backend as Partial<RedisChannelBackend>).broadcast
  return backend
}

function streamsBackend(options: RedisChannelBackendOptions): RedisChannelBackend {
  const { client } = options
  const prefix = options.prefix ?? redisChannelDefaults.prefix
  const ttlMs = Math.max(1_000, Math.floor(options.historyTtlMs ?? redisChannelDefaults.historyTtlMs))
  const maxReplay = Math.max(0, Math.floor(options.maxReplay ?? redisChannelDefaults.maxReplay))
  const maxEventBytes = Math.max(1, Math.floor(options.maxEventBytes ?? redisChannelDefaults.maxEventBytes))
  const blockMs = Math.max(10, Math.floor(options.blockMs ?? redisChannelDefaults.blockMs))
  const onError = options.onError ?? (() => {})
  const newEpoch = () => Math.random().toString(36).slice(2, 10).padEnd(8, '0')
  const readers = Array.from(
    { length: Math.max(1, Math.floor(options.readers ?? redisChannelDefaults.readers)) },
    () => new StreamReader({ client, prefix, blockMs, ttlMs, newEpoch, onError }),
  )
  const readerOf = (stream: string): StreamReader => readers[hash(stream) % readers.length]!
  const volatile = options.volatile ?? redisChannelDefaults.volatile
  const broadcasts = new BroadcastSubscriber(client, onError)

  return {
    async publish(stream, fields, history) {
      // UTF-8 takes at most 3 bytes per UTF-16 unit: most events need no byte count at all.
      if (fields.length > maxEventBytes || (fields.length * 3 > maxEventBytes && Buffer.byteLength(fields) > maxEventBytes)) {
        throw new RpcError('PAYLOAD_TOO_LARGE', `An event may take at most ${maxEventBytes} bytes encoded`)
      }
      const keys = streamKeys(prefix, stream)
      let reply: [string, string]
      try {
        reply = await runScript<[string, string]>(client, PUBLISH, [keys.stream, keys.meta], [newEpoch(), String(history), String(ttlMs), fields])
      } catch (error) {
        throw redisError(error, 'the event was not published')
      }
      return `${reply[0]}.${reply[1]}`
    },

    async read(stream, after, limit): Promise<BackendRead> {
      const id = parseId(after)
      if (id === undefined) return { kind: 'resync', reason: 'unknown-id' }
      const keys = streamKeys(prefix, stream)
      let reply: [string, [string, string[]][]?]
      try {
        reply = await runScript(client, READ, [keys.stream, keys.meta], [id.epoch, id.streamId, String(Math.max(1, limit)), String(maxReplay)])
      } catch (error) {
        throw redisError(error, 'the subscription could not resume')
      }
      const [verdict, entries] = reply
      if (verdict !== 'ok') return { kind: 'resync', reason: verdict as ResyncReason }
      return { kind: 'events', events: (entries ?? []).map(([entryId, fields]) => ({ id: `${id.epoch}.${entryId}`, fields: fields[3] ?? '' })) }
    },

    broadcast(stream, fields, after) {
      if (fields.length > maxEventBytes || (fields.length * 3 > maxEventBytes && Buffer.byteLength(fields) > maxEventBytes)) {
        return Promise.reject(new RpcError('PAYLOAD_TOO_LARGE', `An event may take at most ${maxEventBytes} bytes encoded`))
      }
      // Redis away: dropped, never left in the client's offline queue for later. Not awaited: a volatile publish never waits for Redis.
      if (client.isReady) void client.sendCommand(['PUBLISH', streamKeys(prefix, stream).volatile, broadcastMessage(after, fields)]).catch(onError)
      return Promise.resolve()
    },

    tail(stream, listener) {
      const release = readerOf(stream).follow(stream, listener)
      const unfollow = !volatile || listener.volatile === undefined ? undefined : broadcasts.follow(streamKeys(prefix, stream).volatile, listener)
      return {
        close() {
          release()
          unfollow?.()
        },
      }
    },

    compare(a, b) {
      const x = parseId(a)
      const y = parseId(b)
      return x === undefined || y === undefined || x.epoch !== y.epoch ? Number.NaN : compareIds(x.streamId, y.streamId)
    },

    async delete(stream) {
      const keys = streamKeys(prefix, stream)
      try {
        await client.sendCommand(['DEL', keys.stream, keys.meta])
      } catch (error) {
        throw redisError(error, 'the topic was not deleted')
      }
    },

    get tailedStreams() {
      return readers.reduce((sum, reader) => sum + reader.size, 0)
    },
    get readerConnections() {
      return readers.reduce((sum, reader) => sum + reader.connections, 0)
    },
    get volatileStreams() {
      return broadcasts.size
    },
    async close() {
      await Promise.all([...readers.map((reader) => reader.close()), broadcasts.close()])
    },
  }
}

/** `epoch.ms-seq`, as {@link redisChannelBackend} writes ids; anything else (an in-memory channel's id) is not its own. */
function parseId(id: string): { epoch: string; streamId: string } | undefined {
  const match = /^([a-z0-9]{1,16})\.(\d{1,16}-\d{1,16})$/.exec(id)
  return match === null ? undefined : { epoch: match[1]!, streamId: match[2]! }
}

/** FNV-1a, to spread streams over readers the same way every time. */
function hash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}
