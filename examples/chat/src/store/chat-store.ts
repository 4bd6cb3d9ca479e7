import type { ResyncSignal, TrackedEnvelope, VolatileEnvelope } from '@wirecall/core'
import type { IdempotencyStore } from '@wirecall/server'
import type { ChatMessage, RoomName } from '../rooms'

/** A list of users, as the presence and typing feeds send it: the whole list after every change. */
export interface UserList {
  users: string[]
}

/** What `messages.history` answers. */
export interface RoomHistory {
  /** The newest messages, oldest first. */
  messages: ChatMessage[]
  /** The id of the room's newest message (0 when empty): subscribe to the feed with `lastEventId: String(lastId)`. */
  lastId: number
}

/** What `messages.feed` streams: tracked messages, or a resync when the server cannot resume. */
export type MessageFeed = AsyncIterable<TrackedEnvelope<ChatMessage> | ResyncSignal>

/** A message as a room's events carry it: with the key of the send that posted it, so the sender's page knows it arrived. */
export interface PostedMessage {
  kind: 'message'
  message: ChatMessage
  /** The idempotency key of the send (absent for a send without one). */
  key?: string | undefined
}

/** Someone started or stopped typing: published volatile, so it is never stored, replayed or queued for a slow reader. */
export interface TypingEvent {
  kind: 'typing'
  user: string
  typing: boolean
}

/** What happens in a room, in the order it happened: messages (tracked) and typing (volatile). */
export type RoomEvent = PostedMessage | TypingEvent

/**
 * A room's events after a position: tracked messages (resumable), volatile
 * typing events between them in publish order, and a resync when the
 * position cannot be resumed from. Its iterator reports its position.
 */
export type RoomEventFeed = AsyncIterable<TrackedEnvelope<PostedMessage> | VolatileEnvelope<TypingEvent> | ResyncSignal>

/**
 * Where the chat keeps its rooms. The router is written against this
 * alone, so the same procedures run on one process ({@link openMemoryStore}
 * in `memory.ts`: files and memory) or on several sharing one Redis
 * (`openRedisStore` in `redis.ts`). Every method may be async: a Redis
 * round trip.
 */
export interface ChatStore {
  /** The id of each room's newest message (0 when empty). */
  lastId(room: RoomName): Promise<number>
  /** The newest `limit` messages of a room and its newest id, read together so that the feed resumes exactly after them. */
  history(room: RoomName, limit: number): Promise<RoomHistory>
  /**
   * Posts a message and resolves with it once it is stored (and published
   * to the room's events). `key` is the send's idempotency key: a send
   * retried with the same key posts once, even after a restart, and
   * resolves with the message first posted; the same key with another
   * sender or text is `CONFLICT`.
   */
  send(room: RoomName, from: string, text: string, key: string | undefined): Promise<ChatMessage>
  /**
   * The room's messages after `lastEventId` (a message id from `history`,
   * or an event id the feed sent), then live, with no gap and no duplicate;
   * a resync when that id cannot be resumed from.
   */
  feed(room: RoomName, lastEventId: string | undefined, signal: AbortSignal): MessageFeed | Promise<MessageFeed>
  /** Whether a send with `key` was posted in the room (as far as the store remembers keys: the newest messages in memory, or a day on Redis). */
  posted(room: RoomName, key: string): Promise<boolean>
  /**
   * The room's events after `after` (a message id, or a position this feed
   * reported), then live, with no gap and no duplicate among the messages:
   * what `room.session` sends. Typing events are live only.
   */
  events(room: RoomName, after: string | undefined, signal: AbortSignal): RoomEventFeed | Promise<RoomEventFeed>
  /** Enters the room as `user`, then yields who is in it after every change; leaves when the iteration ends. */
  presence(room: RoomName, user: string, signal: AbortSignal): AsyncIterable<UserList>
  /**
   * Shows (for a few seconds, unless renewed) or hides "`user` is typing":
   * in `typing` snapshots, and as a volatile event among the room's
   * {@link ChatStore.events}.
   */
  setTyping(room: RoomName, user: string, typing: boolean): Promise<void>
  /** Who is typing in the room, after every change. */
  typing(room: RoomName, signal: AbortSignal): AsyncIterable<UserList>
  /** Records idempotent runs beyond this process, for `createRpcServer({ idempotency: { store } })`; none for one process. */
  readonly idempotencyStore: IdempotencyStore | undefined
  /** Lets go of files, timers and connections. Call it after the RPC server closed. */
  close(): Promise<void>
}
