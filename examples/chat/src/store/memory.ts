import { openChatState, type ChatStateOptions } from '../chat-state'
import { messageFeed } from '../message-feed'
import { roomEventFeed } from '../room-events'
import type { ChatStore } from './chat-store'

/**
 * The chat on one process, with nothing to install: each room's messages
 * in an append-only file (or in memory only, without `dataDir`), presence
 * and typing in memory, and each room's events (new messages, typing) on
 * an in-memory channel. What `pnpm start` runs without `REDIS_URL`.
 */
export function openMemoryStore(options: ChatStateOptions = {}): ChatStore {
  const state = openChatState(options)
  return {
    lastId: async (room) => state.room(room).messages.lastId,
    history: async (room, limit) => {
      const log = state.room(room).messages
      return { messages: log.latest(limit), lastId: log.lastId }
    },
    send: async (room, from, text, key) => {
      const { messages, typing, events } = state.room(room)
      typing.set(from, false)
      const before = messages.lastId
      const message = messages.append(from, text, key)
      // A retried key returns the message it posted before: nothing new to announce.
      if (message.id > before) events.publish({ kind: 'message', message, ...(key === undefined ? {} : { key }) })
      return message
    },
    feed: (room, lastEventId, signal) => messageFeed(state.room(room).messages, lastEventId, signal),
    posted: async (room, key) => state.room(room).messages.hasKey(key),
    events: (room, after, signal) => roomEventFeed(state.room(room).messages, state.room(room).events, after, signal),
    presence: (room, user, signal) => state.room(room).presence.watch(user, signal),
    setTyping: async (room, user, typing) => {
      const { typing: indicators, events } = state.room(room)
      indicators.set(user, typing)
      events.publish({ kind: 'typing', user, typing }, { volatile: true })
    },
    typing: (room, signal) => state.room(room).typing.watch(signal),
    idempotencyStore: undefined,
    close: async () => state.close(),
  }
}
