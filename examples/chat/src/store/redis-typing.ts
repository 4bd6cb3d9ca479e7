import { isResync } from '@wirecall/core'
import type { BackedChannel } from '@wirecall/server'
import type { RoomName } from '../rooms'
import { RoomTyping } from '../typing'
import type { TypingEvent, UserList } from './chat-store'

/** How long a node waits before following a room's typing events again after an error (Redis away). */
const RETRY_MS = 500

/**
 * Typing indicators across nodes: `set` publishes a {@link TypingEvent} on
 * the room's topic of a channel on Redis, and each node keeps its own
 * {@link RoomTyping} per room, fed by that topic, which expires an
 * indicator `ttlMs` after its last renewal. So an indicator whose node
 * dies goes away on every other node by itself. A node follows a room's
 * topic from its first `watch` of that room until `close()`.
 */
export function redisTyping(channel: BackedChannel<TypingEvent>, ttlMs: number) {
  const rooms = new Map<RoomName, RoomTyping>()
  const stop = new AbortController()

  const follow = async (room: RoomName, typing: RoomTyping) => {
    const { signal } = stop
    while (!signal.aborted) {
      try {
        for await (const event of channel.topic(room).subscribe({ signal })) {
          // A resync means events were missed: the next renewals (every second while someone types) bring the list back.
          if (!isResync(event)) typing.set(event.data.user, event.data.typing)
        }
      } catch {
        // Redis is away: the channel's subscription failed. Try again shortly.
      }
      if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref())
    }
  }

  const local = (room: RoomName): RoomTyping => {
    let typing = rooms.get(room)
    if (typing === undefined) {
      rooms.set(room, (typing = new RoomTyping(ttlMs)))
      void follow(room, typing)
    }
    return typing
  }

  return {
    async set(room: RoomName, user: string, typing: boolean): Promise<void> {
      await channel.topic(room).publish({ kind: 'typing', user, typing })
    },
    watch(room: RoomName, signal: AbortSignal): AsyncIterable<UserList> {
      return local(room).watch(signal)
    },
    close(): void {
      stop.abort()
      for (const typing of rooms.values()) typing.close()
      rooms.clear()
    },
  }
}
