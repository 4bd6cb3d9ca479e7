import type { RedisPresence } from '@wirecall/redis'
import type { RoomName } from '../rooms'
import type { UserList } from './chat-store'

/** How long a presence feed waits before reading the list again after an error (Redis away). */
const RETRY_MS = 1_000

/**
 * Who is in a room across nodes, on `redisPresence`: a subscription enters
 * the room, yields the list after every change (at once for this node's
 * changes, within a sweep for other nodes'), and leaves however it ends.
 * A node that dies drops out of every list within the presence TTL.
 * `onLeave` is called when a user's last subscription on this node ends
 * (their typing indicator goes too).
 */
export function roomPresence(presence: RedisPresence, onLeave: (room: RoomName, user: string) => void) {
  /** `room/user` -> subscriptions open on this node. */
  const open = new Map<string, number>()

  return async function* watch(room: RoomName, user: string, signal: AbortSignal): AsyncGenerator<UserList> {
    const topic = presence.topic(room)
    const leave = topic.enter(user)
    const key = `${room}/${user}`
    open.set(key, (open.get(key) ?? 0) + 1)
    try {
      while (!signal.aborted) {
        try {
          for await (const users of topic.watch({ signal })) yield { users }
          break // the watch ended: aborted, or the presence closed with the store
        } catch {
          // Redis is away: keep the subscription (the member is listed again by the next refresh) and read again shortly.
          if (!signal.aborted) await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref())
        }
      }
    } finally {
      leave()
      const count = (open.get(key) ?? 1) - 1
      if (count > 0) open.set(key, count)
      else {
        open.delete(key)
        onLeave(room, user)
      }
    }
  }
}
