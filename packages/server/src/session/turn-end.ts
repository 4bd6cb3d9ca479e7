import type { FrameBatcher } from '@wirecall/core'

/**
 * Flushes every connection's batch once the current turn of the event loop
 * is done: one `setImmediate` for the whole process, not one per
 * connection or per message. `setImmediate` runs right after the I/O that
 * produced the messages and their promise callbacks, so a batch never waits
 * on a timer.
 */
const due: FrameBatcher[] = []
let armed = false
/** Counts the turns that read or wrote something; see {@link currentTurn}. */
let turn = 0

function endTurn(): void {
  armed = false
  turn++
  // Batches scheduled while flushing (a write that starts new work) wait for the next turn.
  const batchers = due.splice(0)
  for (const batcher of batchers) batcher.flushScheduled()
}

function arm(): void {
  if (armed) return
  armed = true
  setImmediate(endTurn)
}

/** Schedules `batcher` to be flushed at the end of this turn. */
export function flushAtTurnEnd(batcher: FrameBatcher): void {
  due.push(batcher)
  arm()
}

/**
 * A number that changes when this turn of the event loop ends: a session
 * compares it with the one it saw last to know whether its reading time
 * belongs to the same turn. Shares the flush's `setImmediate`.
 */
export function currentTurn(): number {
  arm()
  return turn
}
