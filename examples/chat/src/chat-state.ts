import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createChannel, type Channel } from '@wirecall/core'
import { MessageLog } from './message-log'
import { RoomPresence } from './presence'
import { ROOMS, type RoomName } from './rooms'
import type { RoomEvent } from './store/chat-store'
import { RoomTyping } from './typing'

/** Everything the chat keeps for one room. */
export interface Room {
  messages: MessageLog
  presence: RoomPresence
  typing: RoomTyping
  /**
   * The room's events as they happen, for `room.session`: each message
   * once it is in the log, and typing indicators (volatile). Keeps no
   * history: a session replays messages from the log.
   */
  events: Channel<RoomEvent>
}

/** Options of {@link openChatState}. */
export interface ChatStateOptions {
  /** Where the rooms' logs live (`<room>.jsonl`, created if missing). Without it, messages live in memory only. */
  dataDir?: string | undefined
  /**
   * Messages kept in memory per room, for history queries and for resuming
   * clients; a client further behind gets a resync and reloads. @default 500
   */
  keepMessages?: number | undefined
  /** How long a typing indicator lasts without being renewed, in ms. @default 3_000 */
  typingTtlMs?: number | undefined
}

/** The state of every room, and a way to let go of its files and timers. */
export interface ChatState {
  room(name: RoomName): Room
  close(): void
}

/** Loads every room's log from `dataDir` (or starts empty rooms in memory). */
export function openChatState(options: ChatStateOptions = {}): ChatState {
  const { dataDir, keepMessages = 500, typingTtlMs = 3_000 } = options
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true })
  const rooms = new Map<RoomName, Room>()
  try {
    for (const { name } of ROOMS) {
      const typing = new RoomTyping(typingTtlMs)
      rooms.set(name, {
        messages: MessageLog.open(name, dataDir === undefined ? undefined : join(dataDir, `${name}.jsonl`), keepMessages),
        presence: new RoomPresence((user) => typing.set(user, false)),
        typing,
        events: createChannel<RoomEvent>({ name: 'chat-room' }),
      })
    }
  } catch (error) {
    for (const room of rooms.values()) room.messages.close()
    throw error
  }
  return {
    room: (name) => rooms.get(name)!,
    close() {
      for (const room of rooms.values()) {
        room.messages.close()
        room.typing.close()
        room.events.close()
      }
    },
  }
}
