import { randomUUID } from 'node:crypto'
import { redisError, type RedisConnection } from './connection'
import { recordKey } from './keys'

/** Options of {@link redisPresence}. */
export interface RedisPresenceOptions {
  /** A connected node-redis v5 client. */
  client: RedisConnection
  /** Prefix of every key. @default 'wirecall:' */
  prefix?: string
  /**
   * How long a member stays listed without its node refreshing it. Each node
   * refreshes its own members every third of this, so the members of a node
   * that died are gone within `presenceTtlMs` plus one sweep.
   * @default 10_000
   */
  presenceTtlMs?: number
  /** Told when a refresh fails (Redis unreachable); refreshing goes on. @default ignored */
  onError?: (error: unknown) => void
}

/** Defaults of {@link RedisPresenceOptions}; the docs quote these. */
export const redisPresenceDefaults = { prefix: 'wirecall:', presenceTtlMs: 10_000 } as const

/** Who is in one topic (a room, a document), across every node. */
export interface PresenceTopic {
  /**
   * Lists `member` until the returned function is called (call it from the
   * subscription's `finally`). Entering twice (two tabs) keeps the member
   * until both have left.
   */
  enter(member: string): () => void
  /** The members listed now, on every node, sorted, each once. */
  members(): Promise<string[]>
  /**
   * The member list now, then again whenever it changes: at once for
   * changes made on this node, within one sweep (`presenceTtlMs / 3`) for
   * the others'. Ends when `signal` aborts.
   */
  watch(options: { signal?: AbortSignal }): AsyncIterable<string[]>
}

/** Presence across nodes; see {@link redisPresence}. */
export interface RedisPresence {
  topic(key: string): PresenceTopic
  /** Removes this node's members from Redis and stops refreshing. */
  close(): Promise<void>
}

/**
 * Presence across server processes: per topic, a sorted set of
 * `node/member` with an expiry time as score. Each node refreshes its own
 * members every third of `presenceTtlMs`; readers ignore and sweep expired
 * ones, so a node that dies drops out without anyone telling Redis.
 *
 * @example
 * ```ts
 * const presence = redisPresence({ client })
 * online: rpc.procedure.subscription(async function* ({ ctx, signal }) {
 *   const room = presence.topic('lobby')
 *   const leave = room.enter(ctx.user)
 *   try { yield* room.watch({ signal }) } finally { leave() }
 * })
 * ```
 */
export function redisPresence(options: RedisPresenceOptions): RedisPresence {
  const { client } = options
  const prefix = options.prefix ?? redisPresenceDefaults.prefix
  const ttlMs = Math.max(300, Math.floor(options.presenceTtlMs ?? redisPresenceDefaults.presenceTtlMs))
  const sweepMs = Math.floor(ttlMs / 3)
  const onError = options.onError ?? (() => {})
  const node = randomUUID().slice(0, 8)
  /** Topic key → member → how many times entered on this node. */
  const local = new Map<string, Map<string, number>>()
  /** Topic key → watchers to wake on a local change. */
  const watchers = new Map<string, Set<() => void>>()
  const keyOf = (topic: string) => recordKey(prefix, 'presence', topic)
  const entryOf = (member: string) => `${node}/${member}`
  let closed = false

  const write = (args: string[]) => client.sendCommand(args).catch(onError)
  const add = (topic: string, members: Iterable<string>) => {
    const expires = String(Date.now() + ttlMs)
    const args = ['ZADD', keyOf(topic)]
    for (const member of members) args.push(expires, entryOf(member))
    if (args.length === 2) return Promise.resolve()
    return Promise.all([write(args), write(['PEXPIRE', keyOf(topic), String(ttlMs * 2)])])
  }
  const notify = (topic: string) => {
    for (const wake of watchers.get(topic) ?? []) wake()
  }
  const refresh = setInterval(() => {
    for (const [topic, members] of local) void add(topic, members.keys())
  }, sweepMs)
  refresh.unref()

  return {
    topic(key) {
      return {
        enter(member) {
          let members = local.get(key)
          if (members === undefined) local.set(key, (members = new Map()))
          const count = members.get(member) ?? 0
          members.set(member, count + 1)
          if (count === 0) void add(key, [member]).then(() => notify(key))
          let left = false
          return () => {
            if (left) return
            left = true
            const now = members.get(member) ?? 1
            if (now > 1) return void members.set(member, now - 1)
            members.delete(member)
            if (members.size === 0 && local.get(key) === members) local.delete(key)
            if (!closed) void write(['ZREM', keyOf(key), entryOf(member)]).then(() => notify(key))
          }
        },

        async members() {
          try {
            // node-redis would queue the read until Redis is back, however long that takes: fail now instead.
            if (!client.isReady) throw new Error('The Redis client is not connected')
            const now = String(Date.now())
            await client.sendCommand(['ZREMRANGEBYSCORE', keyOf(key), '-inf', `(${now}`])
            const entries = await client.sendCommand<string[]>(['ZRANGEBYSCORE', keyOf(key), now, '+inf'])
            return [...new Set(entries.map((entry) => entry.slice(entry.indexOf('/') + 1)))].sort()
          } catch (error) {
            throw redisError(error, 'the presence list could not be read')
          }
        },

        watch({ signal }) {
          const topic = this
          return {
            async *[Symbol.asyncIterator]() {
              let wake: (() => void) | undefined
              const poke = () => {
                const resume = wake
                wake = undefined
                resume?.()
              }
              let set = watchers.get(key)
              if (set === undefined) watchers.set(key, (set = new Set()))
              set.add(poke)
              signal?.addEventListener('abort', poke, { once: true })
              const timer = setInterval(poke, sweepMs)
              timer.unref()
              try {
                let last: string | undefined
                const stopped = () => signal?.aborted === true || closed
                while (!stopped()) {
                  const members = await topic.members()
                  const text = JSON.stringify(members)
                  if (text !== last) {
                    last = text
                    yield members
                  }
                  if (stopped()) break
                  await new Promise<void>((resolve) => (wake = resolve))
                }
              } finally {
                clearInterval(timer)
                set.delete(poke)
                if (set.size === 0 && watchers.get(key) === set) watchers.delete(key)
                signal?.removeEventListener('abort', poke)
              }
            },
          }
        },
      }
    },

    async close() {
      closed = true
      clearInterval(refresh)
      const removed = Promise.all([...local].map(([topic, members]) => write(['ZREM', keyOf(topic), ...[...members.keys()].map(entryOf)])))
      // While Redis is away the removal waits in node-redis's queue and lands once it is back (or the members expire): close() does not wait for that.
      if (client.isReady) await removed
      local.clear()
      for (const set of watchers.values()) for (const wake of set) wake()
    },
  }
}
