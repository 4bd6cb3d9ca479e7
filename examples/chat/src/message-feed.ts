import { resync, tracked, withPosition, type ResyncSignal, type TrackedEnvelope } from '@wirecall/core'
import type { MessageLog } from './message-log'
import { parseMessageId } from './message-id'
import type { ChatMessage } from './rooms'

/**
 * The messages of one process's log after `lastEventId` (or from now,
 * without one): first those still in memory, then each new one as it is
 * appended. Replay and live are one loop over the log, so nothing falls
 * between them and nothing comes twice. The position sent in `started` is
 * where the loop starts, so a client that drops before its first message
 * still resumes from there.
 */
export function messageFeed(log: MessageLog, lastEventId: string | undefined, signal: AbortSignal): AsyncGenerator<TrackedEnvelope<ChatMessage> | ResyncSignal> {
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
