import type { ResyncReason, Serializer, TrackedEnvelope } from '@wirecall/core'
import type { BackendEntry, BackendTail, ChannelBackend } from './backend'
import { encodedEnvelope } from './encoded-envelope'

/** A subscriber's place in a {@link StreamTail}. */
export interface TailCursor {
  /** Local sequence number of the last event delivered from the ring. */
  seq: number
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

  constructor(
    readonly stream: string,
    private readonly backend: ChannelBackend,
    private readonly serializer: Serializer,
    readonly capacity: number,
  ) {
    let started!: () => void
    this.ready = new Promise<void>((resolve) => (started = resolve))
    this.tail = backend.tail(stream, {
      started: (position) => {
        this.baseline = this.head = position
        started()
      },
      events: (entries) => this.append(entries),
      reset: (reason, position) => this.restart(reason, position),
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
    this.wakeAll()
  }

  private restart(reason: ResyncReason, position: string | undefined): void {
    if (this.closed) return
    // Everything held belongs to the old stream: subscribers go on after `position`, told why.
    this.start = this.seq + 1
    this.baseline = this.head = position
    for (const cursor of this.cursors) {
      cursor.reset = reason
      cursor.seq = this.seq
    }
    this.wakeAll()
  }

  private wakeAll(): void {
    for (const cursor of this.cursors) {
      const wake = cursor.wake
      if (wake !== undefined) {
        cursor.wake = undefined
        wake()
      }
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.tail.close()
    this.ring.length = 0
  }
}
