import { openChatState, type ChatStateOptions } from '../chat-state'
import { messageFeed } from '../message-feed'
import type { ChatStore } from './chat-store'

/**
 * The chat on one process, with nothing to install: each room's messages
 * in an append-only file (or in memory only, without `dataDir`), presence
 * and typing in memory. What `pnpm start` runs without `REDIS_URL`.
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
      const { messages, typing } = state.room(room)
      typing.set(from, false)
      return messages.append(from, text, key)
    },
    feed: (room, lastEventId, signal) => messageFeed(state.room(room).messages, lastEventId, signal),
    presence: (room, user, signal) => state.room(room).presence.watch(user, signal),
    setTyping: async (room, user, typing) => state.room(room).typing.set(user, typing),
    typing: (room, signal) => state.room(room).typing.watch(signal),
    idempotencyStore: undefined,
    close: async () => state.close(),
  }
}
