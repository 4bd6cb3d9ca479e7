import { isResync, resync, tracked, withPosition, type ResyncReason, type ResyncSignal, type TrackedEnvelope } from '@wirecall/core'
import type { RedisConnection } from '@wirecall/redis'
import type { BackedChannel } from '@wirecall/server'
import { parseMessageId } from '../message-id'
import type { ChatMessage, RoomName } from '../rooms'
import type { MessageFeed, RoomHistory } from './chat-store'
import { withLock } from './redis-lock'

/** Options of {@link redisMessages}. */
export interface RedisMessagesOptions {
  client: RedisConnection
  /** The rooms' feeds: `topic(room)` of a channel on `redisChannelBackend`. */
  channel: BackedChannel<ChatMessage>
  /** Messages kept per room for `history` (and for resuming from a message id). */
  keepMessages: number
  /** How long a room's keys live after its last message, in ms. */
  ttlMs: number
}

/** One message in a room's history list: the message, and the id of its event in the room's stream. */
interface Listed {
  e: string
  id: number
  from: string
  text: string
  at: string
}

/** The id of a marker: an event the feed skips, published to give an empty room's stream an id to resume after. */
const MARKER_ID = 0

/** A send waits this long at most for another node's send to the same room. */
const LOCK = { leaseMs: 2_000, waitMs: 5_000 }

/**
 * A room's messages on Redis, shared by every chat process:
 *
 * - the feed is the room's topic of a channel on `redisChannelBackend`: a
 *   message sent on any node reaches subscribers on every node, and a
 *   client resumes on any node from the event id it last got;
 * - messages are numbered 1, 2, 3... per room (`INCR`), and numbered and
 *   published under a per-room lock, so that numbers and the stream agree
 *   on the order whatever nodes send at once;
 * - the newest `keepMessages` are also in a list, with each one's event
 *   id: `history` reads them, and a feed that starts from a message id
 *   (what the page has after loading the history) replays from the list,
 *   then resumes the stream after the list's newest event. It reads the
 *   list under the room's lock, so no send is half done (published, not
 *   yet listed); an empty room gets a marker event (skipped by every
 *   feed) to resume after, since "from now" has no id.
 *
 * A node killed between numbering and publishing leaves a number unused:
 * ids may skip, never repeat, and the stream is never missing a listed
 * message. Every key has an expiry (`ttlMs` after the room's last send).
 */
export function redisMessages(options: RedisMessagesOptions) {
  const { client, channel, keepMessages, ttlMs } = options
  const ttl = String(ttlMs)
  // One hash tag per room: a room's keys share a slot on a Redis Cluster.
  const keys = (room: RoomName) => ({ seq: `chat:{room:${room}}:seq`, list: `chat:{room:${room}}:list`, lock: `chat:{room:${room}}:lock` })

  const listed = async (room: RoomName, from: number, to: number): Promise<Listed[]> => {
    const lines = await client.sendCommand<string[]>(['LRANGE', keys(room).list, String(from), String(to)])
    return lines.map((line) => JSON.parse(line) as Listed)
  }
  const toMessage = (room: RoomName, entry: Listed): ChatMessage => ({ id: entry.id, room, from: entry.from, text: entry.text, at: new Date(entry.at) })

  /**
   * The messages of `replay`, then those of `live`, without the markers
   * (see `feed`): what a page gets, whatever the path.
   */
  async function* messagesOf(room: RoomName, replay: readonly Listed[], live: MessageFeed): AsyncGenerator<TrackedEnvelope<ChatMessage> | ResyncSignal> {
    for (const entry of replay) yield tracked(entry.e, toMessage(room, entry))
    for await (const event of live) if (isResync(event) || event.data.id !== MARKER_ID) yield event
  }

  /** Where a feed that starts from a message number begins, decided under the room's lock. */
  type Start = { resync: ResyncReason } | { replay: Listed[]; anchor: string; after: number }

  const startOf = (room: RoomName, after: number | 'now'): Promise<Start> =>
    withLock(client, keys(room).lock, LOCK, async () => {
      const entries = await listed(room, 0, -1)
      const newest = entries.at(-1)
      const from = after === 'now' ? (newest?.id ?? 0) : after
      if (from > (newest?.id ?? 0)) return { resync: 'stream-reset' } // the room was lost (Redis came back empty)
      if (newest !== undefined && from < entries[0]!.id - 1) return { resync: 'trimmed' }
      // Under the lock no send is half done: the stream after the list's newest event holds exactly the
      // messages after the list. An empty room gets a marker to anchor on, as "from now" has no id to resume from.
      const anchor = newest?.e ?? (await channel.topic(room).publish({ id: MARKER_ID, room, from: '', text: '', at: new Date(0) }))
      return { replay: entries.filter((entry) => entry.id > from), anchor, after: from }
    })

  return {
    async lastId(room: RoomName): Promise<number> {
      return (await listed(room, -1, -1))[0]?.id ?? 0
    },

    async history(room: RoomName, limit: number): Promise<RoomHistory> {
      const entries = await listed(room, -limit, -1)
      return { messages: entries.map((entry) => toMessage(room, entry)), lastId: entries.at(-1)?.id ?? 0 }
    },

    send(room: RoomName, from: string, text: string): Promise<ChatMessage> {
      const { seq, list, lock } = keys(room)
      return withLock(client, lock, LOCK, async () => {
        const id = await client.sendCommand<number>(['INCR', seq])
        await client.sendCommand(['PEXPIRE', seq, ttl])
        const message: ChatMessage = { id, room, from, text, at: new Date() }
        const eventId = await channel.topic(room).publish(message)
        const entry: Listed = { e: eventId, id, from, text, at: message.at.toISOString() }
        await client.sendCommand(['RPUSH', list, JSON.stringify(entry)])
        await client.sendCommand(['LTRIM', list, String(-keepMessages), '-1'])
        await client.sendCommand(['PEXPIRE', list, ttl])
        return message
      })
    },

    async feed(room: RoomName, lastEventId: string | undefined, signal: AbortSignal): Promise<MessageFeed> {
      const topic = channel.topic(room)
      const number = parseMessageId(lastEventId)
      if (lastEventId !== undefined && number === undefined) {
        // An event id (a resume, on this process or another): the stream decides, and says resync when it cannot resume.
        const iterator = messagesOf(room, [], topic.subscribe({ lastEventId, signal }))
        withPosition(iterator, () => lastEventId)
        return iterator
      }
      const start = await startOf(room, number ?? 'now')
      if ('resync' in start) {
        // A resync, then the feed from now: the page reloads the room's history when it gets one.
        const iterator = messagesOf(room, [], topic.subscribe({ signal }))
        const first = resync(start.resync)
        return (async function* () {
          yield first
          yield* iterator
        })()
      }
      const iterator = messagesOf(room, start.replay, topic.subscribe({ lastEventId: start.anchor, signal }))
      // A client that drops before its first message resumes from the same message number.
      withPosition(iterator, () => String(start.after))
      return iterator
    },
  }
}
