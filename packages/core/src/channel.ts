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
   * resync and skipped to the newest event. Bounds the channel's memory:
   * events are kept once, for all subscribers, in one ring of
   * `max(history, maxLag)` entries.
   * @default 1_000
   */
  maxLag?: number
  /**
   * Prefix of every event id. Ids from another epoch (an earlier process,
   * say) cannot be resumed and get a resync. Set it to something durable if
   * your publisher's sequence survives restarts.
   * @default a random string, new for each channel
   */
  epoch?: string
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
   */
  subscribe(options?: ChannelSubscribeOptions): AsyncIterable<TrackedEnvelope<T> | ResyncSignal>
  /** A channel per key (a room, a document), created on first use, with the same options. */
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
  private readonly ring: (TrackedEnvelope<T> | undefined)[]
  /** Sequence number of the newest event; 0 before the first publish. */
  private seq = 0
  private closed = false
  private readonly cursors = new Set<Cursor>()
  private readonly topics = new Map<string, RingChannel<T>>()
  /** How many times each topic key was created, so a re-created topic never reuses the ids of a deleted one. */
  private readonly topicGenerations = new Map<string, number>()

  constructor(private readonly options: ChannelOptions) {
    this.history = Math.max(0, Math.floor(options.history ?? 0))
    this.capacity = Math.max(1, this.history, Math.floor(options.maxLag ?? 1_000))
    this.epoch = options.epoch ?? Math.random().toString(36).slice(2, 10)
    this.ring = new Array(this.capacity)
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
    return { [Symbol.asyncIterator]: () => this.iterate(options) }
  }

  topic(key: string): Channel<T> {
    let channel = this.topics.get(key)
    if (channel !== undefined) return channel
    const generation = (this.topicGenerations.get(key) ?? 0) + 1
    const { epoch, ...rest } = this.options
    // Without an epoch option every channel draws a random one; with it, the
    // key and the generation keep topics (and re-creations) apart.
    const topicEpoch = epoch === undefined ? undefined : `${epoch}/${key}${generation === 1 ? '' : `#${generation}`}`
    channel = new RingChannel<T>(topicEpoch === undefined ? rest : { ...rest, epoch: topicEpoch })
    // A closed channel hands out closed topics: their subscribers end at once.
    if (this.closed) {
      channel.close()
      return channel
    }
    this.topicGenerations.set(key, generation)
    this.topics.set(key, channel)
    return channel
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

  /** Sequence number of `lastEventId` if it is this channel's and can be resumed from, else undefined. */
  private resumableSeq(lastEventId: string): number | undefined {
    const dot = lastEventId.lastIndexOf('.')
    if (dot === -1 || lastEventId.slice(0, dot) !== this.epoch) return undefined
    const text = lastEventId.slice(dot + 1)
    if (!/^\d{1,15}$/.test(text)) return undefined
    const seq = Number(text)
    // Every event after `seq` must still be within the replay window.
    if (seq > this.seq || seq < this.seq - this.history) return undefined
    return seq
  }

  private iterate(options: ChannelSubscribeOptions): AsyncIterator<TrackedEnvelope<T> | ResyncSignal> {
    const signal = options.signal
    let pendingResync = false
    let startSeq = this.seq
    if (options.lastEventId !== undefined) {
      const seq = this.resumableSeq(options.lastEventId)
      if (seq === undefined) pendingResync = true
      else startSeq = seq
    }
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
