import { VolatileRing, wakeCursors, type ResyncReason, type Serializer, type TrackedEnvelope, type VolatileEnvelope } from '@wirecall/core'
import type { BackendEntry, BackendTail, ChannelBackend } from './backend'
import { broadcastEnvelope, encodedEnvelope } from './encoded-envelope'

/** A subscriber's place in a {@link StreamTail}. */
export interface TailCursor {
  /** Local sequence number of the last event delivered from the ring. */
  seq: number
  /** Number of the last volatile event delivered (or skipped). */
  vseq: number
  /** What `channel.members()` lists for this subscriber. */
  readonly member: unknown
  /** A reset the tail owes this subscriber, delivered before anything else. */
  reset: ResyncReason | undefined
  /** Wakes the subscriber's waiting `next()`. */
  wake: (() => void) | undefined
}

/**
 * One node's view of one backend stream, shared by every local subscriber
 * of it: the backend's tail feeds a ring of the newest `capacity` events,
 * which every subscriber reads with its own cursor (the same ring-and-cursor
 * fan-out as the in-memory channel). Exists while it has subscribers.
 */
export class StreamTail<T> {
  /** Resolves once the backend said where the tail starts. */
  readonly ready: Promise<void>
  /** Local sequence number of the newest event in the ring; 0 before the first. */
  seq = 0
  /** Id of the event just before the oldest one the ring holds (where the tail started, at first); `undefined`: the stream's start. */
  baseline: string | undefined
  /** Id of the newest event seen, or the start position before any. */
  head: string | undefined
  private readonly ring: (TrackedEnvelope<T> | undefined)[] = []
  readonly cursors = new Set<TailCursor>()
  private readonly tail: BackendTail
  private closed = false
  /** Volatile events in a ring of their own, each placed after the ring event (a local seq) it came after. */
  private readonly volatiles: VolatileRing<T>
  /** Volatile events that came before the event their publisher had seen (`after`): held until this tail gets it. */
  private held: { fields: string; after: string }[] = []

  constructor(
    readonly stream: string,
    private readonly backend: ChannelBackend,
    private readonly serializer: Serializer,
    readonly capacity: number,
    /** Counts a volatile event a subscriber skipped (the channel's `volatileSkips`). */
    private readonly skipped: (count: number) => void,
  ) {
    this.volatiles = new VolatileRing<T>(capacity, skipped)
    let started!: () => void
    this.ready = new Promise<void>((resolve) => (started = resolve))
    this.tail = backend.tail(stream, {
      started: (position) => {
        this.baseline = this.head = position
        started()
      },
      events: (entries) => this.append(entries),
      reset: (reason, position) => this.restart(reason, position),
      volatile: (fields, after) => this.receive(fields, after),
    })
  }

  /** The ring's event with local sequence number `seq`, if still held. */
  at(seq: number): TrackedEnvelope<T> | undefined {
    return seq >= this.oldest && seq <= this.seq ? this.ring[seq % this.capacity] : undefined
  }

  /** Sequence number of the oldest event the ring holds (one past {@link seq} when empty). */
  get oldest(): number {
    return Math.max(1, this.seq - this.capacity + 1, this.start)
  }
  /** Sequence number of the first event after the last reset. */
  private start = 1

  /**
   * Where a subscriber that has seen everything up to `id` goes on in the
   * ring: the sequence number of the last event at or before `id`, or
   * `'older'` when `id` is before what the ring holds (read the backend),
   * or `'newer'` when the tail has not seen `id` yet (wait).
   */
  locate(id: string): number | 'older' | 'newer' {
    if (this.head !== undefined && this.backend.compare(id, this.head) > 0) return 'newer'
    if (this.baseline !== undefined && this.backend.compare(id, this.baseline) < 0) return 'older'
    // Ids in the ring are in order: the last one at or before `id`.
    let low = this.oldest
    let high = this.seq
    let found = low - 1
    while (low <= high) {
      const mid = (low + high) >> 1
      if (this.backend.compare(this.ring[mid % this.capacity]!.id, id) <= 0) {
        found = mid
        low = mid + 1
      } else {
        high = mid - 1
      }
    }
    return found
  }

  private append(entries: readonly BackendEntry[]): void {
    if (this.closed) return
    for (const entry of entries) {
      const seq = ++this.seq
      const evicted = this.seq - this.capacity >= this.start ? this.ring[seq % this.capacity] : undefined
      if (evicted !== undefined) this.baseline = evicted.id
      this.ring[seq % this.capacity] = encodedEnvelope<T>(entry, this.serializer)
      this.head = entry.id
    }
    if (this.held.length > 0) this.release()
    wakeCursors(this.cursors)
  }

  /** A volatile event arrived: placed after the newest event now, or held until the one its publisher had seen arrives. */
  private receive(fields: string, after: string | undefined): void {
    if (this.closed || this.cursors.size === 0) return
    if (after !== undefined && this.head !== undefined && this.backend.compare(after, this.head) > 0) {
      this.held.push({ fields, after })
      // Bounded like the ring: the oldest held is dropped.
      if (this.held.length > this.capacity) {
        this.held.shift()
        this.skipped(1)
      }
      return
    }
    this.place(fields)
    wakeCursors(this.cursors)
  }

  private place(fields: string): void {
    this.volatiles.push(this.seq, broadcastEnvelope<T>(fields, this.serializer, () => this.skipped(1)))
  }

  /** Number of the newest volatile event received; 0 before the first. */
  get vseq(): number {
    return this.volatiles.seq
  }

  /** Places the held events whose publisher's event has now arrived (or whose id is of another epoch), in arrival order. */
  private release(): void {
    const waiting: { fields: string; after: string }[] = []
    for (const event of this.held) {
      if (this.head !== undefined && this.backend.compare(event.after, this.head) > 0) waiting.push(event)
      else this.place(event.fields)
    }
    this.held = waiting
  }

  /** The volatile event `cursor` gets before its next ring event, if any (see `VolatileRing.next`). */
  nextVolatile(cursor: TailCursor): VolatileEnvelope<T> | undefined {
    return this.volatiles.next(cursor)
  }

  private restart(reason: ResyncReason, position: string | undefined): void {
    if (this.closed) return
    // Everything held belongs to the old stream: subscribers go on after `position`, told why.
    this.start = this.seq + 1
    this.baseline = this.head = position
    // Held for an event of the old stream: stale.
    this.held = []
    for (const cursor of this.cursors) {
      cursor.reset = reason
      cursor.seq = this.seq
    }
    wakeCursors(this.cursors)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.tail.close()
    this.ring.length = 0
    this.volatiles.clear()
    this.held = []
  }
}
