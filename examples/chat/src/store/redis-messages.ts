import {
  RpcError,
  isResync,
  isVolatile,
  resync,
  tracked,
  withPosition,
  type ChannelEvent,
  type ResyncReason,
  type ResyncSignal,
  type TrackedEnvelope,
  type VolatileEnvelope,
} from '@wirecall/core'
import type { RedisConnection } from '@wirecall/redis'
import type { BackedChannel } from '@wirecall/server'
import { parseMessageId } from '../message-id'
import type { ChatMessage, RoomName } from '../rooms'
import type { MessageFeed, PostedMessage, RoomEventFeed, RoomHistory, TypingEvent } from './chat-store'
import { withLock } from './redis-lock'

/** A message as the room's channel carries it: with the key of its send, for the sender's page. */
export type StoredMessage = ChatMessage & { key?: string }

/** What goes through a room's channel: messages (stored), typing (volatile), and markers (see `feed`). */
export type RoomPayload = StoredMessage | TypingEvent

const isTyping = (payload: RoomPayload): payload is TypingEvent => 'kind' in payload && payload.kind === 'typing'

/** Options of {@link redisMessages}. */
export interface RedisMessagesOptions {
  client: RedisConnection
  /** The rooms' feeds: `topic(room)` of a channel on `redisChannelBackend`; typing indicators go through it too, volatile. */
  channel: BackedChannel<RoomPayload>
  /** Messages kept per room for `history` (and for resuming from a message id). */
  keepMessages: number
  /** How long a room's keys live after its last message, in ms. */
  ttlMs: number
}

/** One message in a room's history list: the message, the id of its event in the room's stream, and the key of its send. */
interface Listed {
  e: string
  id: number
  from: string
  text: string
  at: string
  k?: string
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
  const sendKey = (room: RoomName, key: string) => `chat:{room:${room}}:key:${key}`

  const listed = async (room: RoomName, from: number, to: number): Promise<Listed[]> => {
    const lines = await client.sendCommand<string[]>(['LRANGE', keys(room).list, String(from), String(to)])
    return lines.map((line) => JSON.parse(line) as Listed)
  }
  const toMessage = (room: RoomName, entry: Listed): ChatMessage => ({ id: entry.id, room, from: entry.from, text: entry.text, at: new Date(entry.at) })
  const toPosted = (message: StoredMessage): PostedMessage => {
    const { key, ...rest } = message
    return key === undefined ? { kind: 'message', message: rest } : { kind: 'message', message: rest, key }
  }

  /** A room's stream from the listed messages of `replay`, then live: what `feed` and `events` each make their own. */
  type Source = (room: RoomName, replay: readonly Listed[], live: AsyncIterable<ChannelEvent<RoomPayload>>) => AsyncIterator<unknown>

  /**
   * The messages of `replay`, then those of `live`, without the markers
   * (see `feed`) and the typing events: what `messages.feed` sends,
   * whatever the path.
   */
  const messagesOf = async function* (room, replay, live) {
    for (const entry of replay) yield tracked(entry.e, toMessage(room, entry))
    for await (const event of live) {
      if (isResync(event)) yield event
      else if (!isVolatile(event) && !isTyping(event.data) && event.data.id !== MARKER_ID) yield event as TrackedEnvelope<ChatMessage>
    }
  } satisfies Source

  /** The messages of `replay`, then the live messages and typing events, in order, without the markers: what `room.session` sends. */
  const eventsOf = async function* (room, replay, live) {
    for (const entry of replay) yield tracked(entry.e, toPosted({ ...toMessage(room, entry), ...(entry.k === undefined ? {} : { key: entry.k }) }))
    for await (const event of live) {
      if (isResync(event)) yield event
      else if (isVolatile(event)) {
        if (isTyping(event.data)) yield event as VolatileEnvelope<TypingEvent>
      } else if (!isTyping(event.data) && event.data.id !== MARKER_ID) yield tracked(event.id, toPosted(event.data))
    }
  } satisfies Source

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

    /**
     * Posts a message. With a `key` that an earlier send of this room used,
     * posts nothing and resolves with that send's message; the key is
     * recorded before the message is published, so a send retried after
     * its node died half way gets `CONFLICT` (it may or may not have been
     * posted), never a second post.
     */
    send(room: RoomName, from: string, text: string, key?: string): Promise<ChatMessage> {
      const { seq, list, lock } = keys(room)
      return withLock(client, lock, LOCK, async () => {
        if (key !== undefined) {
          const earlier = await client.sendCommand<string | null>(['GET', sendKey(room, key)])
          if (earlier !== null) return earlierSend(room, JSON.parse(earlier) as { id: number; from: string; text: string }, from, text)
        }
        const id = await client.sendCommand<number>(['INCR', seq])
        await client.sendCommand(['PEXPIRE', seq, ttl])
        if (key !== undefined) await client.sendCommand(['SET', sendKey(room, key), JSON.stringify({ id, from, text }), 'PX', ttl])
        const message: ChatMessage = { id, room, from, text, at: new Date() }
        const eventId = await channel.topic(room).publish(key === undefined ? message : { ...message, key })
        const entry: Listed = { e: eventId, id, from, text, at: message.at.toISOString(), ...(key === undefined ? {} : { k: key }) }
        await client.sendCommand(['RPUSH', list, JSON.stringify(entry)])
        await client.sendCommand(['LTRIM', list, String(-keepMessages), '-1'])
        await client.sendCommand(['PEXPIRE', list, ttl])
        return message
      })
    },

    /** Whether a send with `key` was recorded in the room (keys live as long as the room's other keys). */
    async posted(room: RoomName, key: string): Promise<boolean> {
      return (await client.sendCommand<number>(['EXISTS', sendKey(room, key)])) === 1
    },

    /** Shows or hides "`user` is typing" to the room's sessions on every node: a volatile event, never stored. */
    async typing(room: RoomName, user: string, typing: boolean): Promise<void> {
      await channel.topic(room).publish({ kind: 'typing', user, typing }, { volatile: true })
    },

    feed: (room: RoomName, lastEventId: string | undefined, signal: AbortSignal) => open(room, lastEventId, signal, messagesOf) as Promise<MessageFeed>,

    events: (room: RoomName, after: string | undefined, signal: AbortSignal) => open(room, after, signal, eventsOf) as Promise<RoomEventFeed>,
  }

  /** The message of an earlier send with the same key, if it was posted with the same sender and text. */
  async function earlierSend(room: RoomName, earlier: { id: number; from: string; text: string }, from: string, text: string): Promise<ChatMessage> {
    if (earlier.from !== from || earlier.text !== text) throw new RpcError('CONFLICT', 'this idempotency key was used for another message')
    const entry = (await listed(room, 0, -1)).find((candidate) => candidate.id === earlier.id)
    if (entry === undefined) throw new RpcError('CONFLICT', 'an earlier send with this key stopped half way: the message may or may not have been posted')
    return toMessage(room, entry)
  }

  /**
   * A room's stream after `lastEventId` (a message number, an event id of
   * the stream, or nothing for "from now"), through `source`.
   */
  async function open(room: RoomName, lastEventId: string | undefined, signal: AbortSignal, source: Source): Promise<AsyncIterable<unknown>> {
    const topic = channel.topic(room)
    const number = parseMessageId(lastEventId)
    if (lastEventId !== undefined && number === undefined) {
      // An event id (a resume, on this process or another): the stream decides, and says resync when it cannot resume.
      const iterator = source(room, [], topic.subscribe({ lastEventId, signal }))
      return asIterable(withPosition(iterator, () => lastEventId))
    }
    const start = await startOf(room, number ?? 'now')
    if ('resync' in start) {
      // A resync, then the feed from now: the page reloads the room's history when it gets one.
      const iterator = source(room, [], topic.subscribe({ signal }))
      const first = resync(start.resync)
      return (async function* () {
        yield first
        yield* asIterable(iterator)
      })()
    }
    const iterator = source(room, start.replay, topic.subscribe({ lastEventId: start.anchor, signal }))
    // A client that drops before its first message resumes from the same message number.
    return asIterable(withPosition(iterator, () => String(start.after)))
  }
}

/** An async generator's iterator is its own iterable; this says so to the compiler. */
const asIterable = <T>(iterator: AsyncIterator<T>): AsyncIterable<T> => iterator as AsyncIterator<T> & AsyncIterable<T>
