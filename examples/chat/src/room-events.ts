import { isResync, isVolatile, resync, tracked, withPosition, type Channel, type ResyncSignal, type TrackedEnvelope, type VolatileEnvelope } from '@wirecall/core'
import type { MessageLog } from './message-log'
import { parseMessageId } from './message-id'
import type { PostedMessage, RoomEvent, TypingEvent } from './store/chat-store'

type Yielded = TrackedEnvelope<PostedMessage> | VolatileEnvelope<TypingEvent> | ResyncSignal

/**
 * One process's room events after message `after` (or from now, without
 * one): the messages still in memory, then live ones and typing indicators
 * in the order they were published.
 *
 * Messages always come from the log, by number: a live event only says
 * "the log has grown to message n", and the feed yields every message from
 * its cursor up to n. So the seam between replay and live, and a
 * subscriber the channel dropped for lagging, cost neither a gap nor a
 * duplicate. Typing events pass through as the channel marked them
 * (volatile: the server skips them for a reader that does not keep up).
 * The channel is subscribed before the log is read, and a send appends and
 * publishes in one synchronous step, so no message falls in between.
 */
export function roomEventFeed(log: MessageLog, events: Channel<RoomEvent>, after: string | undefined, signal: AbortSignal): AsyncGenerator<Yielded> {
  const live = events.subscribe({ signal })
  const resumeAfter = parseMessageId(after)
  // Not resumable: malformed, older than memory holds, or newer than the log (a wiped data dir).
  const missed = after !== undefined && (resumeAfter === undefined || resumeAfter < log.firstId - 1 || resumeAfter > log.lastId)
  let cursor = missed || resumeAfter === undefined ? log.lastId : resumeAfter

  /** The messages after the cursor, up to `to`; a resync if memory no longer reaches back that far (a very slow reader). */
  function* catchUp(to: number): Generator<Yielded> {
    while (cursor < to) {
      const entry = log.entry(cursor + 1)
      if (entry === undefined) {
        cursor = log.lastId
        yield resync('trimmed')
        return
      }
      cursor = entry.message.id
      yield tracked(String(cursor), { kind: 'message', message: entry.message, ...(entry.key === undefined ? {} : { key: entry.key }) })
    }
  }

  async function* stream(): AsyncGenerator<Yielded> {
    if (missed) yield resync(resumeAfter === undefined ? 'unknown-id' : resumeAfter > log.lastId ? 'position-lost' : 'trimmed')
    yield* catchUp(log.lastId)
    for await (const event of live) {
      if (isVolatile(event)) {
        if (event.data.kind === 'typing') yield event as VolatileEnvelope<TypingEvent>
      } else if (isResync(event)) {
        yield* catchUp(log.lastId) // the channel dropped us for lagging: the log has every message we missed
      } else if (event.data.kind === 'message') {
        yield* catchUp(event.data.message.id)
      }
    }
  }

  const iterator = stream()
  withPosition(iterator, () => String(cursor))
  return iterator
}
