import { initRpc, resync, tracked, withPosition, type ResyncSignal, type TrackedEnvelope } from '@wirecall/core'
import { z } from 'zod'
import type { ChatState } from './chat-state'
import type { MessageLog } from './message-log'
import { MessageText, ROOMS, RoomName, type ChatMessage } from './rooms'

/** What every call sees: who is calling, checked once per connection (see `createContext` in server.ts). */
export interface Context {
  name: string
}

const rpc = initRpc.context<Context>().create()

const InRoom = z.object({ room: RoomName })

/** The chat's procedures, over the rooms in `state`. */
export function createChatRouter(state: ChatState) {
  return rpc.router({
    /** The signed-in user's name, as the server accepted it (trimmed). */
    me: rpc.procedure.query(({ ctx }) => ctx.name),

    rooms: {
      list: rpc.procedure.query(() => ROOMS.map(({ name, title }) => ({ name, title, lastId: state.room(name).messages.lastId }))),
    },

    messages: {
      /**
       * The newest `limit` messages of a room, and the id to resume the feed
       * from: subscribe with `lastEventId: String(lastId)` and no message
       * falls between the two, and none comes twice.
       */
      history: rpc.procedure
        .input(InRoom.extend({ limit: z.number().int().min(1).max(200).default(50) }))
        .query(({ input }) => {
          const log = state.room(input.room).messages
          return { messages: log.latest(input.limit), lastId: log.lastId }
        }),

      /**
       * Posts a message. Pages call it with `{ idempotent: true }`: the log
       * stores the key, so a send retried after a reconnect posts once, even
       * when the server was restarted in between.
       */
      send: rpc.procedure
        .input(InRoom.extend({ text: MessageText }))
        .mutation(({ input, ctx, idempotencyKey }) => {
          const room = state.room(input.room)
          room.typing.set(ctx.name, false)
          return room.messages.append(ctx.name, input.text, idempotencyKey)
        }),

      /**
       * A room's messages as they are posted, each tracked with its id.
       * Resuming with `lastEventId` replays what came after it from memory,
       * then goes on live; an id the server cannot replay gets a resync.
       */
      feed: rpc.procedure
        .input(InRoom)
        .subscription(({ input, lastEventId, signal }) => messageFeed(state.room(input.room).messages, lastEventId, signal)),
    },

    presence: {
      /** Enters the room, then sends who is in it after every change; leaving is the end of this subscription. */
      feed: rpc.procedure
        .input(InRoom)
        .subscription(({ input, ctx, signal }) => state.room(input.room).presence.watch(ctx.name, signal)),
    },

    typing: {
      /** Shows (for a few seconds, unless renewed) or hides "<name> is typing". */
      set: rpc.procedure
        .input(InRoom.extend({ typing: z.boolean() }))
        .mutation(({ input, ctx }) => state.room(input.room).typing.set(ctx.name, input.typing)),
      /** Who is typing in the room, after every change. */
      feed: rpc.procedure.input(InRoom).subscription(({ input, signal }) => state.room(input.room).typing.watch(signal)),
    },
  })
}

/**
 * The messages after `lastEventId` (or from now, without one): first those
 * still in memory, then each new one as it is appended. Replay and live are
 * one loop over the log, so nothing falls between them and nothing comes
 * twice. The position sent in `started` is where the loop starts, so a
 * client that drops before its first message still resumes from there.
 */
function messageFeed(log: MessageLog, lastEventId: string | undefined, signal: AbortSignal) {
  const resumeAfter = parseMessageId(lastEventId)
  // An id we cannot replay: malformed, older than memory holds, or newer than the log (a wiped data dir).
  const missed = lastEventId !== undefined && (resumeAfter === undefined || resumeAfter < log.firstId - 1 || resumeAfter > log.lastId)
  let cursor = missed || resumeAfter === undefined ? log.lastId : resumeAfter

  async function* stream(): AsyncGenerator<TrackedEnvelope<ChatMessage> | ResyncSignal> {
    if (missed) yield resync()
    while (!signal.aborted) {
      if (cursor >= log.lastId) {
        await log.waitForAppend(signal)
        continue
      }
      const next = log.get(cursor + 1)
      if (next === undefined) {
        // Fell further behind than memory reaches (a very slow reader): skip to now.
        cursor = log.lastId
        yield resync()
        continue
      }
      cursor = next.id
      yield tracked(String(next.id), next)
    }
  }

  const iterator = stream()
  withPosition(iterator, () => String(cursor))
  return iterator
}

/** A message id from a client (`"42"`), or `undefined` for anything else. */
export function parseMessageId(id: string | undefined): number | undefined {
  if (id === undefined || !/^(0|[1-9]\d{0,14})$/.test(id)) return undefined
  return Number(id)
}

/** The type the page and Node clients import: `import type { AppRouter } from './router'`. */
export type AppRouter = ReturnType<typeof createChatRouter>
