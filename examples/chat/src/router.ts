import { initRpc, stream } from '@wirecall/core'
import { z } from 'zod'
import type { ChatStore } from './store/chat-store'
import { openRoomSession, SessionChunk } from './room-session'
import { MessageText, ROOMS, RoomName } from './rooms'

export { parseMessageId } from './message-id'

/** What every call sees: who is calling, checked once per connection (see `createContext` in server.ts). */
export interface Context {
  name: string
}

const rpc = initRpc.context<Context>().create()

const InRoom = z.object({ room: RoomName })

/** Longest a room session runs on one connection: a day. */
const SESSION_MAX_MS = 86_400_000
/** Most chunks in a room session on one connection: a day of typing renewals (one a second) is 86,400. */
const SESSION_MAX_CHUNKS = 1_000_000

/** The chat's procedures, over the rooms in `store` (one process, or several sharing one Redis: the same procedures). */
export function createChatRouter(store: ChatStore) {
  return rpc.router({
    /** The signed-in user's name, as the server accepted it (trimmed). */
    me: rpc.procedure.query(({ ctx }) => ctx.name),

    rooms: {
      list: rpc.procedure.query(() => Promise.all(ROOMS.map(async ({ name, title }) => ({ name, title, lastId: await store.lastId(name) })))),
    },

    room: {
      /**
       * A room both ways, on one duplex subscription (what the page uses):
       * the page streams `join`, then typing indicators and messages
       * (`{ kind: 'message', text, key }`) in the order the user made
       * them; the server streams the room's messages (tracked, resumable
       * with `lastEventId` = `"<room>:<id>"`) and typing events (volatile)
       * in the order they happened. Messages are posted once per key, so
       * the page subscribes with `{ idempotent: true }`: chunks a dropped
       * connection may have lost are sent again, and post once.
       */
      session: rpc.procedure
        // A page keeps its session as long as it stays in the room: far past a stream's defaults (10 minutes, 100,000 chunks).
        // At the limit the session fails (TIMEOUT, PAYLOAD_TOO_LARGE) and the page opens a new one. Each reconnect starts afresh.
        .input(stream(SessionChunk, { maxDurationMs: SESSION_MAX_MS, maxChunks: SESSION_MAX_CHUNKS }))
        .subscription(({ input, ctx, lastEventId, signal }) => openRoomSession(store, { input, user: ctx.name, lastEventId, signal })),
    },

    messages: {
      /**
       * The newest `limit` messages of a room, and the id to resume the feed
       * from: subscribe with `lastEventId: String(lastId)` and no message
       * falls between the two, and none comes twice.
       */
      history: rpc.procedure
        .input(InRoom.extend({ limit: z.number().int().min(1).max(200).default(50) }))
        .query(({ input }) => store.history(input.room, input.limit)),

      /**
       * Posts a message, for clients without a session (the page sends on
       * `room.session`). Call it with `{ idempotent: true }`: a send
       * retried after a reconnect posts once, even when the server was
       * restarted in between, or the retry lands on another server process.
       */
      send: rpc.procedure
        .input(InRoom.extend({ text: MessageText }))
        .mutation(({ input, ctx, idempotencyKey }) => store.send(input.room, ctx.name, input.text, idempotencyKey)),

      /**
       * A room's messages as they are posted, each tracked with its id.
       * Resuming with `lastEventId` replays what came after it, then goes on
       * live; an id the server cannot replay gets a resync.
       */
      feed: rpc.procedure.input(InRoom).subscription(({ input, lastEventId, signal }) => store.feed(input.room, lastEventId, signal)),
    },

    presence: {
      /** Enters the room, then sends who is in it after every change; leaving is the end of this subscription. */
      feed: rpc.procedure.input(InRoom).subscription(({ input, ctx, signal }) => store.presence(input.room, ctx.name, signal)),
    },

    typing: {
      /** Shows (for a few seconds, unless renewed) or hides "<name> is typing". */
      set: rpc.procedure
        .input(InRoom.extend({ typing: z.boolean() }))
        .mutation(({ input, ctx }) => store.setTyping(input.room, ctx.name, input.typing)),
      /** Who is typing in the room, after every change. */
      feed: rpc.procedure.input(InRoom).subscription(({ input, signal }) => store.typing(input.room, signal)),
    },
  })
}

/** The type the page and Node clients import: `import type { AppRouter } from './router'`. */
export type AppRouter = ReturnType<typeof createChatRouter>
