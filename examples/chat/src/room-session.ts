import { RpcError, isTracked, positionOf, tracked, withPosition, type ResyncSignal, type TrackedEnvelope, type VolatileEnvelope } from '@wirecall/core'
import { z } from 'zod'
import { MessageText, RoomName } from './rooms'
import type { ChatStore, PostedMessage, TypingEvent } from './store/chat-store'

/** A send's idempotency key, made by the page: 8 to 64 letters, digits, `_` or `-` (a UUID fits). */
export const SendKey = z.string().regex(/^[\w-]{8,64}$/, 'a key of 8 to 64 letters, digits, "_" or "-"')

/**
 * What a page sends on `room.session`: first `join`, then typing
 * indicators and messages, in the order the user made them. A typing
 * chunk carries the key of the message being written, the one its
 * `message` chunk will have.
 */
export const SessionChunk = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('join'), room: RoomName }),
  z.object({ kind: z.literal('typing'), typing: z.boolean(), key: SendKey }),
  z.object({ kind: z.literal('message'), text: MessageText, key: SendKey }),
])
export type SessionChunk = z.input<typeof SessionChunk>

/** A message of this session that could not be posted (Redis away, a key reused for another text): told to its sender only, untracked. */
export interface SendFailed {
  kind: 'failed'
  key: string
  code: string
  message: string
}

/** What `room.session` sends a page: the room's messages (tracked) and typing (volatile), and its own failed sends. */
export type SessionEvent = PostedMessage | TypingEvent | SendFailed

type Yielded = TrackedEnvelope<PostedMessage> | VolatileEnvelope<TypingEvent> | SendFailed | ResyncSignal

/**
 * Event ids of a session say which room they are in: `general:42` (a
 * message number), or on Redis `general:4jon18j1.1796688192752-0` (the
 * stream's event id). A session resumed after a reconnect gets its
 * `lastEventId` but not its `join` again (that chunk went on the first
 * connection), so the room comes from the id.
 */
export function sessionEventId(room: RoomName, id: string): string {
  return `${room}:${id}`
}

/** The room and the store's own position in a session event id; `undefined` for anything else. */
export function parseSessionEventId(id: string | undefined): { room: RoomName; after: string } | undefined {
  const colon = id?.indexOf(':') ?? -1
  if (id === undefined || colon === -1) return undefined
  const room = RoomName.safeParse(id.slice(0, colon))
  return room.success && colon + 1 < id.length ? { room: room.data, after: id.slice(colon + 1) } : undefined
}

/** What {@link openRoomSession} is given: the resolver's options, with the caller's name. */
export interface RoomSessionOptions {
  input: AsyncIterable<z.output<typeof SessionChunk>>
  user: string
  lastEventId: string | undefined
  signal: AbortSignal
}

const WOKE = Symbol('woke')

/**
 * The body of `room.session`, a duplex subscription: reads the page's
 * chunks (join, typing, messages) while it sends the room's events.
 *
 * The room is the first chunk's (`join`), or, on a resume, the one in
 * `lastEventId`. Chunks are handled one at a time, in order. Typing chunks
 * are published volatile; message chunks are posted, deduplicated by their
 * key (so a chunk re-sent after a reconnect posts once). A typing chunk
 * for a message already posted is dropped: it was re-sent after a
 * reconnect, and would show an indicator after the message it announced.
 * The events come from `store.events`: messages tracked with session ids
 * (resumable), typing events untracked, in the order they were published.
 * A send that fails is told to this page alone (`failed`); the session
 * goes on. When the session ends, an indicator it left on is taken down.
 */
export async function openRoomSession(store: ChatStore, options: RoomSessionOptions): Promise<AsyncIterable<Yielded>> {
  const { input, user, lastEventId, signal } = options
  const chunks = input[Symbol.asyncIterator]()
  const resumed = parseSessionEventId(lastEventId)
  const room = resumed?.room ?? (await joined(chunks))
  // An id that is not a session's goes to the store as it is: it answers with a resync.
  const feed = (await store.events(room, resumed?.after ?? lastEventId, signal))[Symbol.asyncIterator]()

  const notices: SendFailed[] = []
  let failure: unknown
  let wake: (() => void) | undefined
  let typing = false

  const consume = async () => {
    for (let chunk = await chunks.next(); chunk.done !== true; chunk = await chunks.next()) {
      const item = chunk.value
      if (item.kind === 'join') {
        // The first chunk again, re-sent after a reconnect: harmless if it names this room.
        if (item.room !== room) throw new RpcError('BAD_REQUEST', `this session is in "${room}": open another one for "${item.room}"`)
      } else if (item.kind === 'typing') {
        // An indicator is not worth failing for: a store error drops it.
        if (item.typing && (await store.posted(room, item.key).catch(() => true))) continue
        typing = item.typing
        await store.setTyping(room, user, item.typing).catch(() => {})
      } else {
        typing = false
        try {
          await store.send(room, user, item.text, item.key)
        } catch (error) {
          const { code, message } = RpcError.from(error)
          notices.push({ kind: 'failed', key: item.key, code, message })
          wake?.()
        }
      }
    }
  }
  consume().catch((error: unknown) => {
    // The input's own end (the session cancelled, an invalid chunk) is already the subscription's; only ours needs telling.
    if (!signal.aborted) failure = error
    wake?.()
  })

  async function* events(): AsyncGenerator<Yielded> {
    let next: Promise<IteratorResult<TrackedEnvelope<PostedMessage> | VolatileEnvelope<TypingEvent> | ResyncSignal>> | undefined
    try {
      for (;;) {
        if (failure !== undefined) throw failure
        const notice = notices.shift()
        if (notice !== undefined) {
          yield notice
          continue
        }
        next ??= feed.next()
        // Woken by a notice or a failure; a fresh promise each turn, so nothing piles up on a long-lived one.
        const result = await Promise.race([next, new Promise<typeof WOKE>((resolve) => (wake = () => resolve(WOKE)))])
        wake = undefined
        if (result === WOKE) continue
        next = undefined
        if (result.done === true) return
        const event = result.value
        yield isTracked(event) ? tracked(sessionEventId(room, event.id), event.data) : event
      }
    } finally {
      if (typing) void store.setTyping(room, user, false).catch(() => {})
      void chunks.return?.().catch(() => {})
      void feed.return?.().catch(() => {})
    }
  }

  const iterator = events()
  withPosition(iterator, () => {
    const position = positionOf(feed)
    return position === undefined ? undefined : sessionEventId(room, position)
  })
  return iterator
}

/** The room of the session's first chunk, which must be a `join`. */
async function joined(chunks: AsyncIterator<z.output<typeof SessionChunk>>): Promise<RoomName> {
  const first = await chunks.next()
  if (first.done === true) throw new RpcError('BAD_REQUEST', 'the session ended before it joined a room')
  if (first.value.kind !== 'join') throw new RpcError('BAD_REQUEST', 'the first chunk of a session joins a room: { kind: "join", room }')
  return first.value.room
}
