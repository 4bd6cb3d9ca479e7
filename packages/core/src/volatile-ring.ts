import type { VolatileEnvelope } from './volatile'

/** A subscriber's place among stored events (`seq`) and volatile ones (`vseq`). */
export interface VolatileCursor {
  /** Sequence number of the last stored event delivered. */
  readonly seq: number
  /** Number of the last volatile event delivered (or skipped). */
  vseq: number
}

interface Entry<T> {
  readonly n: number
  /** The stored event it came after: its place in the order. */
  readonly after: number
  readonly envelope: VolatileEnvelope<T>
}

/**
 * A channel's volatile events, in a ring of their own so that they never
 * push stored events out of the history: each placed after the stored
 * event it was published after, read by every subscriber with its own
 * cursor. Memory is `capacity` entries, whatever the subscribers do.
 * Used by the in-memory channel and by the server's backed channels.
 * @internal
 */
export class VolatileRing<T> {
  private readonly entries: (Entry<T> | undefined)[] = []
  /** Number of the newest volatile event; 0 before the first. */
  seq = 0

  /** @param skipped counts the events a subscriber skipped here (the channel's `volatileSkips`). */
  constructor(
    private readonly capacity: number,
    private readonly skipped: (count: number) => void,
  ) {}

  /** Adds an event, placed after stored event `after`. */
  push(after: number, envelope: VolatileEnvelope<T>): void {
    const n = ++this.seq
    this.entries[n % this.capacity] = { n, after, envelope }
  }

  /** A number is used without keeping an event (published while nobody iterated): a subscriber positioned before it skips it quietly. */
  pass(): void {
    this.seq++
  }

  /**
   * The volatile event `cursor` gets before its next stored one, if any:
   * one placed right after the last stored event it got. Those placed
   * before that (it jumped ahead: a resync, a replay) are stale and
   * skipped, as are those overwritten in the ring.
   */
  next(cursor: VolatileCursor): VolatileEnvelope<T> | undefined {
    while (cursor.vseq < this.seq) {
      const n = cursor.vseq + 1
      const oldest = this.seq - this.capacity + 1
      if (n < oldest) {
        this.skipped(oldest - n)
        cursor.vseq = oldest - 1
        continue
      }
      const entry = this.entries[n % this.capacity]
      if (entry === undefined || entry.n !== n) {
        cursor.vseq = n
        continue
      }
      if (entry.after > cursor.seq) return undefined
      cursor.vseq = n
      if (entry.after < cursor.seq) {
        this.skipped(1)
        continue
      }
      return entry.envelope
    }
    return undefined
  }

  /** Drops every event held. */
  clear(): void {
    this.entries.length = 0
  }
}

/** Wakes every cursor waiting for an event, once: each `wake` is taken off before it runs, so a cursor that waits again is not woken twice. */
export function wakeCursors(cursors: Iterable<{ wake?: (() => void) | undefined }>): void {
  for (const cursor of cursors) {
    const wake = cursor.wake
    if (wake !== undefined) {
      cursor.wake = undefined
      wake()
    }
  }
}
