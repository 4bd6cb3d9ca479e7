import { resync, tracked, withPosition, type ResyncSignal, type TrackedEnvelope } from './tracked'

/** Options of {@link createChannel}. */
export interface ChannelOptions {
  /**
   * How many recent events a resuming subscriber can replay. A
   * `lastEventId` older than that gets a resync signal instead.
   * @default 0
   */
  history?: number
  /**
   * How many events a live subscriber may fall behind before it is told to
   * resync; it then goes on with the next event published. Bounds the
   * channel's memory: events are kept once, for all subscribers, in one ring
   * of `max(history, maxLag)` entries (so the effective lag bound is at
   * least `history`).
   * @default 1_000
   */
  maxLag?: number
  /**
   * Prefix of every event id, for readable ids in logs and tests. Ids with
   * another prefix cannot be resumed and get a resync. Never reuse an epoch
   * across processes: every channel counts from 1 again, so an old id would
   * name a different event. Topics get `${epoch}/${key}/${n}`, `n` counting
   * the topics created.
   * @default a random string, new for each channel
   */
  epoch?: string
  /**
   * Most topics kept (see `topic()`). When a new topic would exceed it, the
   * least recently used topic with no subscriber is forgotten, history and
   * all (a client resuming there gets a resync). Bounds memory when topic
   * keys come from clients.
   * @default 10_000
   */
  maxTopics?: number
}

/** Options of `channel.subscribe`. */
export interface ChannelSubscribeOptions {
  /** Resume after this id: replay what the history still holds, then go live. */
  lastEventId?: string | undefined
  /** Ends the iteration when aborted: pass the resolver's `signal`. */
  signal?: AbortSignal
}

/** A publish/subscribe channel with bounded history; see {@link createChannel}. */
export interface Channel<T> {
  /** Publishes to every subscriber; returns the event's id. */
  publish(data: T): string
  /**
   * Events as tracked envelopes: first the replay after `lastEventId`, then
   * live ones, with no gap and no duplicate between the two. Yields a resync
   * signal when the history does not reach back to `lastEventId`, or when
   * this subscriber falls more than `maxLag` events behind.
   *
   * The position is taken when `subscribe()` is called, not when iteration
   * starts: `const events = channel.subscribe(); yield snapshot(); yield* events`
   * misses nothing published while the snapshot was sent.
   */
  subscribe(options?: ChannelSubscribeOptions): AsyncIterable<TrackedEnvelope<T> | ResyncSignal>
  /**
   * A channel per key (a room, a document), created on first use, with the
   * same options. At most `maxTopics` are kept; idle ones are forgotten
   * first.
   */
  topic(key: string): Channel<T>
  /** Forgets a topic's channel and its history; its live subscribers end. */
  deleteTopic(key: string): void
  /** Id of the newest event, if any. */
  readonly lastEventId: string | undefined
  /** Live subscribers; for metrics and tests. */
  readonly subscriberCount: number
  /** Ends every subscriber's iteration; later publishes reach nobody. */
  close(): void
}

/**
 * Creates a channel: publish once, and every subscriber gets the event, in
 * order. Each event is stored once in a ring buffer that every subscriber
 * reads with its own cursor, so fan-out costs no per-subscriber copies and
 * memory stays bounded however slow a subscriber is.
 *
 * @example
 * ```ts
 * const messages = createChannel<Message>({ history: 100 })
 * const router = rpc.router({
 *   send: rpc.procedure.input(Message).mutation(({ input }) => messages.publish(input)),
 *   feed: rpc.procedure.subscription(({ lastEventId, signal }) => messages.subscribe({ lastEventId, signal })),
 * })
 * ```
 */
export function createChannel<T>(options: ChannelOptions = {}): Channel<T> {
  return new RingChannel<T>(options)
}

interface Cursor {
  /** Sequence number of the last event delivered (or skipped). */
  seq: number
  /** Wakes the `next()` calls waiting for a new event (usually one). */
  wake: (() => void) | undefined
  /** Ends this subscriber: unregisters it and wakes its waiters. */
  finish: () => void
}

class RingChannel<T> implements Channel<T> {
  private readonly history: number
  private readonly capacity: number
  private readonly epoch: string
  /** Grows as events arrive, up to `capacity`: an idle topic costs almost nothing. */
  private readonly ring: (TrackedEnvelope<T> | undefined)[] = []
  /** Sequence number of the newest event; 0 before the first publish. */
  private seq = 0
  private closed = false
  private readonly cursors = new Set<Cursor>()
  private readonly topics = new Map<string, RingChannel<T>>()
  private readonly maxTopics: number
  /** Counts topics created, so a re-created topic never reuses the ids of a deleted one. */
  private topicSerial = 0

  constructor(private readonly options: ChannelOptions) {
    this.maxTopics = Math.max(1, Math.floor(options.maxTopics ?? 10_000))
    this.history = Math.max(0, Math.floor(options.history ?? 0))
    this.capacity = Math.max(1, this.history, Math.floor(options.maxLag ?? 1_000))
    this.epoch = options.epoch ?? Math.random().toString(36).slice(2, 10)
  }

  get lastEventId(): string | undefined {
    return this.seq === 0 ? undefined : this.idOf(this.seq)
  }

  get subscriberCount(): number {
    return this.cursors.size
  }

  publish(data: T): string {
    const seq = ++this.seq
    const id = this.idOf(seq)
    this.ring[seq % this.capacity] = tracked(id, data)
    if (!this.closed) {
      for (const cursor of this.cursors) {
        const wake = cursor.wake
        if (wake !== undefined) {
          cursor.wake = undefined
          wake()
        }
      }
    }
    return id
  }

  subscribe(options: ChannelSubscribeOptions = {}): AsyncIterable<TrackedEnvelope<T> | ResyncSignal> {
    const start = this.startOf(options.lastEventId)
    return { [Symbol.asyncIterator]: () => this.iterate(start, options.signal) }
  }

  topic(key: string): Channel<T> {
    let channel = this.topics.get(key)
    if (channel !== undefined) {
      // Map order is the recency order the eviction below relies on.
      this.topics.delete(key)
      this.topics.set(key, channel)
      return channel
    }
    const { epoch, ...rest } = this.options
    // Without an epoch option every channel draws a random one; with it, the
    // key and a serial number keep topics (and re-creations) apart.
    const topicEpoch = epoch === undefined ? undefined : `${epoch}/${key}/${++this.topicSerial}`
    channel = new RingChannel<T>(topicEpoch === undefined ? rest : { ...rest, epoch: topicEpoch })
    // A closed channel hands out closed topics: their subscribers end at once.
    if (this.closed) {
      channel.close()
      return channel
    }
    this.topics.set(key, channel)
    if (this.topics.size > this.maxTopics) this.evictIdleTopic(channel)
    return channel
  }

  /** Forgets the least recently used topic that has no subscriber, other than `keep` (the one just made), if any. */
  private evictIdleTopic(keep: RingChannel<T>): void {
    for (const [key, channel] of this.topics) {
      if (channel !== keep && channel.subscriberCount === 0 && channel.topics.size === 0) {
        this.topics.delete(key)
        channel.close()
        return
      }
    }
  }

  deleteTopic(key: string): void {
    const channel = this.topics.get(key)
    if (channel === undefined) return
    this.topics.delete(key)
    channel.close()
  }

  close(): void {
    this.closed = true
    for (const cursor of [...this.cursors]) cursor.finish()
    for (const channel of this.topics.values()) channel.close()
    this.topics.clear()
  }

  private idOf(seq: number): string {
    return `${this.epoch}.${seq}`
  }

  /**
   * Sequence number of `lastEventId` if it is this channel's and can be
   * resumed from, else undefined. Only an id written exactly as
   * {@link idOf} writes it is this channel's: `e.00001` or `e.01` is not
   * `e.1`, and is treated like an id of another channel.
   */
  private resumableSeq(lastEventId: string): number | undefined {
    const dot = lastEventId.lastIndexOf('.')
    if (dot === -1 || lastEventId.slice(0, dot) !== this.epoch) return undefined
    const text = lastEventId.slice(dot + 1)
    // Canonical decimal, as String(seq) writes it: no sign, no leading zero (but "0" itself).
    if (!/^(0|[1-9]\d{0,14})$/.test(text)) return undefined
    const seq = Number(text)
    // Every event after `seq` must still be within the replay window.
    if (seq > this.seq || seq < this.seq - this.history) return undefined
    return seq
  }

  /** Where a subscriber starts: after `lastEventId` if it can be resumed, else at the newest event with a resync owed. */
  private startOf(lastEventId: string | undefined): { seq: number; resync: boolean } {
    if (lastEventId === undefined) return { seq: this.seq, resync: false }
    const seq = this.resumableSeq(lastEventId)
    return seq === undefined ? { seq: this.seq, resync: true } : { seq, resync: false }
  }

  private iterate(start: { seq: number; resync: boolean }, signal: AbortSignal | undefined): AsyncIterator<TrackedEnvelope<T> | ResyncSignal> {
    let pendingResync = start.resync
    const startSeq = start.seq
    let done = this.closed || signal?.aborted === true
    const onAbort = () => cursor.finish()
    const cursor: Cursor = {
      seq: startSeq,
      wake: undefined,
      finish: () => {
        done = true
        if (!this.cursors.delete(cursor)) return
        signal?.removeEventListener('abort', onAbort)
        const wake = cursor.wake
        cursor.wake = undefined
        wake?.()
      },
    }
    if (!done) {
      this.cursors.add(cursor)
      signal?.addEventListener('abort', onAbort, { once: true })
    }
    const doneResult: IteratorResult<TrackedEnvelope<T> | ResyncSignal> = { done: true, value: undefined }

    const next = async (): Promise<IteratorResult<TrackedEnvelope<T> | ResyncSignal>> => {
      for (;;) {
        if (done) {
          cursor.finish()
          return doneResult
        }
        const lagging = cursor.seq < this.seq - this.capacity
        if (pendingResync || lagging) {
          // One resync covers both an unresumable lastEventId and having
          // fallen out of the ring: either way, go on from the newest event.
          pendingResync = false
          if (lagging) cursor.seq = this.seq
          return { done: false, value: resync() }
        }
        if (cursor.seq < this.seq) {
          cursor.seq++
          return { done: false, value: this.ring[cursor.seq % this.capacity]! }
        }
        await new Promise<void>((resolve) => {
          // Calls to next() that overlap all wait; one wake-up releases every one.
          const previous = cursor.wake
          cursor.wake = previous === undefined ? resolve : () => (previous(), resolve())
        })
      }
    }
    // Where this subscriber starts: after a resync, the newest event.
    const position = this.idOf(startSeq)
    const iterator: AsyncIterator<TrackedEnvelope<T> | ResyncSignal> = {
      next,
      return: async () => {
        cursor.finish()
        return doneResult
      },
    }
    return withPosition(iterator, () => position)
  }
}
