import type { TraceContext } from './trace-context'
import { resync, tracked, withPosition, withTrace, type ResyncReason, type ResyncSignal, type TrackedEnvelope } from './tracked'
import { volatileEnvelope, type VolatileEnvelope } from './volatile'
import { VolatileRing, wakeCursors } from './volatile-ring'

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
  /**
   * A name for telemetry: a template, not an id (`room:{id}`, `prices`),
   * since it becomes an attribute value. Topics share their channel's name.
   */
  name?: string
  /**
   * Hooks told of every publish (`@wirecall/otel` starts a PRODUCER span
   * there); the trace context one returns is stored with the event and
   * travels with it to every subscriber. Pass the same objects as the
   * server's `instrumentation`.
   */
  instrumentation?: readonly ChannelInstrumentation[]
}

/** What a channel tells its {@link ChannelOptions.instrumentation}. */
export interface ChannelInstrumentation {
  /**
   * An event is being published (before any subscriber sees it). Return the
   * trace context to record with it (the publisher's span), or nothing. Must
   * not throw: what it throws is ignored.
   */
  onPublish?(event: ChannelPublishEvent): TraceContext | undefined | void
}

/** What {@link ChannelInstrumentation.onPublish} receives. */
export interface ChannelPublishEvent {
  /** The channel's {@link ChannelOptions.name}, if it has one. */
  channel: string | undefined
  /** Whether the event went to a topic (`channel.topic(key)`) rather than the channel itself. The key is not given: it may be unbounded. */
  topic: boolean
  /** The event's id; `''` for a volatile event (it has none), and for a channel with a backend (`@wirecall/server`'s `createChannel({ backend })`), where the backend gives the id once it stored the event. */
  eventId: string
  /** Whether it was published with `{ volatile: true }`: not stored, skipped by subscribers that do not keep up. */
  volatile?: boolean
  /** Subscribers live when it was published. */
  subscribers: number
}

/**
 * The instrumentations that have `onPublish`, or `undefined` when none
 * does: a channel then pays one check per publish. Shared by every kind of
 * channel (the server's backed channels too).
 * @internal
 */
export function publishHooks(instrumentation: readonly ChannelInstrumentation[] | undefined): readonly ChannelInstrumentation[] | undefined {
  const hooks = instrumentation?.filter((hook) => typeof hook.onPublish === 'function')
  return hooks === undefined || hooks.length === 0 ? undefined : hooks
}

/**
 * Tells each hook of a publish and returns the first trace context one
 * returned, to keep with the event. A hook that throws is skipped: a
 * publish never fails because of telemetry.
 * @internal
 */
export function notifyPublish(hooks: readonly ChannelInstrumentation[], event: ChannelPublishEvent): TraceContext | undefined {
  let trace: TraceContext | undefined
  for (const hook of hooks) {
    try {
      const returned = hook.onPublish?.(event)
      if (trace === undefined && typeof returned === 'object' && returned !== null) trace = returned
    } catch {
      // Ignored, as documented.
    }
  }
  return trace
}

/** Options of `channel.subscribe`. */
export interface ChannelSubscribeOptions<TMember = unknown> {
  /** Resume after this id: replay what the history still holds, then go live. */
  lastEventId?: string | undefined
  /** Ends the iteration when aborted: pass the resolver's `signal`. */
  signal?: AbortSignal
  /**
   * Who this subscriber is, listed by `channel.members()` for as long as it
   * subscribes: typically the resolver's `peer` (or `{ ctx, peer }`), so
   * that the server can call every member of a room (`callEach`).
   */
  member?: TMember | undefined
}

/** Options of `channel.publish`. */
export interface ChannelPublishOptions {
  /**
   * A volatile event (a typing indicator, a cursor position): delivered to
   * the subscribers whose connection is at or below the server's
   * backpressure high-water mark when it would be written, and skipped
   * (not buffered) for the others. Never stored: no id, no replay on
   * resume, not counted in `history`, `lastEventId` unchanged. What is
   * delivered keeps publish order with the tracked events around it.
   * @default false
   */
  volatile?: boolean | undefined
}

/** What a channel's iterator yields: stored events with ids, volatile ones without, and resync signals. */
export type ChannelEvent<T> = TrackedEnvelope<T> | VolatileEnvelope<T> | ResyncSignal

/** A publish/subscribe channel with bounded history; see {@link createChannel}. */
export interface Channel<T, TMember = unknown> {
  /**
   * Publishes to every subscriber; returns the event's id, or `undefined`
   * for a volatile event (see {@link ChannelPublishOptions.volatile}).
   *
   * @example
   * ```ts
   * const id = room.publish({ text: 'hi' })                                      // stored, resumable
   * room.publish({ user: 'ada', typing: true }, { volatile: true })              // undefined: never stored
   * ```
   */
  publish(data: T, options?: ChannelPublishOptions & { volatile?: false | undefined }): string
  publish(data: T, options: ChannelPublishOptions & { volatile: true }): undefined
  publish(data: T, options?: ChannelPublishOptions): string | undefined
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
  subscribe(options?: ChannelSubscribeOptions<TMember>): AsyncIterable<ChannelEvent<T>>
  /**
   * A channel per key (a room, a document), created on first use, with the
   * same options. At most `maxTopics` are kept; idle ones are forgotten
   * first.
   */
  topic(key: string): Channel<T, TMember>
  /**
   * The `member` of every live subscriber (see
   * {@link ChannelSubscribeOptions.member}), each once, in the order they
   * subscribed; subscribers without one are left out. A subscriber's
   * member goes when it unsubscribes, its connection closes or the
   * channel closes.
   *
   * @example
   * ```ts
   * // in the subscription's resolver: rooms.topic(input.room).subscribe({ signal, lastEventId, member: peer })
   * const peers = rooms.topic('kitchen').members() // this room's peers on this node, each once
   * for await (const outcome of callEach(peers, (peer, signal) => peer.ui.confirm.call({ text: 'Close the room?' }, { signal }))) log(outcome)
   * ```
   */
  members(): TMember[]
  /** Forgets a topic's channel and its history; its live subscribers end. */
  deleteTopic(key: string): void
  /** Id of the newest event, if any. */
  readonly lastEventId: string | undefined
  /** Live subscribers; for metrics and tests. */
  readonly subscriberCount: number
  /**
   * Volatile events not delivered, counted once per subscriber that
   * skipped one: its connection was above the high-water mark, the event
   * went stale while the subscriber was paused, or it fell more than
   * `maxLag` volatile events behind. This channel's only (a topic counts
   * its own). For metrics and tests.
   */
  readonly volatileSkips: number
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
export function createChannel<T, TMember = unknown>(options: ChannelOptions = {}): Channel<T, TMember> {
  return new RingChannel<T, TMember>(options)
}

interface Cursor {
  /** Sequence number of the last event delivered (or skipped). */
  seq: number
  /** Number of the last volatile event delivered (or skipped). */
  vseq: number
  /** What `members()` lists for this subscriber. */
  readonly member: unknown
  /** Wakes the `next()` calls waiting for a new event (usually one). */
  wake: (() => void) | undefined
  /** Ends this subscriber: unregisters it and wakes its waiters. */
  finish: () => void
}

class RingChannel<T, TMember> implements Channel<T, TMember> {
  private readonly history: number
  private readonly capacity: number
  private readonly epoch: string
  /** Grows as events arrive, up to `capacity`: an idle topic costs almost nothing. */
  private readonly ring: (TrackedEnvelope<T> | undefined)[] = []
  /** Sequence number of the newest event; 0 before the first publish. */
  private seq = 0
  private closed = false
  private readonly cursors = new Set<Cursor>()
  volatileSkips = 0
  private readonly countSkip = () => {
    this.volatileSkips++
  }
  /** Volatile events, in a ring of their own of the same capacity: a subscriber more than that behind skips the oldest. */
  private readonly volatiles: VolatileRing<T>
  private readonly topics = new Map<string, RingChannel<T, TMember>>()
  private readonly maxTopics: number
  /** Counts topics created, so a re-created topic never reuses the ids of a deleted one. */
  private topicSerial = 0

  /** `undefined` unless some instrumentation has `onPublish`: then a publish costs one check. */
  private readonly instrumentation: readonly ChannelInstrumentation[] | undefined

  constructor(
    private readonly options: ChannelOptions,
    private readonly isTopic = false,
  ) {
    this.instrumentation = publishHooks(options.instrumentation)
    this.maxTopics = Math.max(1, Math.floor(options.maxTopics ?? 10_000))
    this.history = Math.max(0, Math.floor(options.history ?? 0))
    this.capacity = Math.max(1, this.history, Math.floor(options.maxLag ?? 1_000))
    this.epoch = options.epoch ?? Math.random().toString(36).slice(2, 10)
    this.volatiles = new VolatileRing<T>(this.capacity, (count) => (this.volatileSkips += count))
  }

  get lastEventId(): string | undefined {
    return this.seq === 0 ? undefined : this.idOf(this.seq)
  }

  get subscriberCount(): number {
    return this.cursors.size
  }

  publish(data: T, options?: ChannelPublishOptions & { volatile?: false | undefined }): string
  publish(data: T, options: ChannelPublishOptions & { volatile: true }): undefined
  publish(data: T, options?: ChannelPublishOptions): string | undefined
  publish(data: T, options?: ChannelPublishOptions): string | undefined {
    if (options?.volatile === true) return this.publishVolatile(data)
    const seq = ++this.seq
    const id = this.idOf(seq)
    const envelope = tracked(id, data)
    if (this.instrumentation !== undefined) this.observe(envelope)
    this.ring[seq % this.capacity] = envelope
    if (!this.closed) wakeCursors(this.cursors)
    return id
  }

  private publishVolatile(data: T): undefined {
    const trace = this.instrumentation === undefined ? undefined : notifyPublish(this.instrumentation, { channel: this.options.name, topic: this.isTopic, eventId: '', volatile: true, subscribers: this.cursors.size })
    // Nobody to deliver it to: nothing kept.
    if (this.closed || this.cursors.size === 0) {
      this.volatiles.pass()
      return undefined
    }
    this.volatiles.push(this.seq, volatileEnvelope(data, this.countSkip, trace))
    wakeCursors(this.cursors)
    return undefined
  }

  members(): TMember[] {
    const members = new Set<TMember>()
    for (const cursor of this.cursors) if (cursor.member !== undefined) members.add(cursor.member as TMember)
    return [...members]
  }

  /** Tells the instrumentation of the publish; the trace context returned travels with the event. */
  private observe(envelope: TrackedEnvelope<T>): void {
    const trace = notifyPublish(this.instrumentation!, { channel: this.options.name, topic: this.isTopic, eventId: envelope.id, subscribers: this.cursors.size })
    if (trace !== undefined) withTrace(envelope, trace)
  }

  subscribe(options: ChannelSubscribeOptions<TMember> = {}): AsyncIterable<ChannelEvent<T>> {
    const start = this.startOf(options.lastEventId)
    // Volatile events too are counted from here: none published before subscribe() is delivered.
    const vseq = this.volatiles.seq
    return { [Symbol.asyncIterator]: () => this.iterate(start, vseq, options.signal, options.member) }
  }

  topic(key: string): Channel<T, TMember> {
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
    channel = new RingChannel<T, TMember>(topicEpoch === undefined ? rest : { ...rest, epoch: topicEpoch }, true)
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
  private evictIdleTopic(keep: RingChannel<T, TMember>): void {
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
    this.volatiles.clear()
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
  private resumableSeq(lastEventId: string): number | Exclude<ResyncReason, 'lagging'> {
    const dot = lastEventId.lastIndexOf('.')
    if (dot === -1 || lastEventId.slice(0, dot) !== this.epoch) return 'unknown-id'
    const text = lastEventId.slice(dot + 1)
    // Canonical decimal, as String(seq) writes it: no sign, no leading zero (but "0" itself).
    if (!/^(0|[1-9]\d{0,14})$/.test(text)) return 'unknown-id'
    const seq = Number(text)
    // An id this channel has not written yet: another process's, under a reused epoch.
    if (seq > this.seq) return 'unknown-id'
    // Every event after `seq` must still be within the replay window.
    if (seq < this.seq - this.history) return 'trimmed'
    return seq
  }

  /** Where a subscriber starts: after `lastEventId` if it can be resumed, else at the newest event with a resync owed (and why). */
  private startOf(lastEventId: string | undefined): { seq: number; resync: ResyncReason | undefined } {
    if (lastEventId === undefined) return { seq: this.seq, resync: undefined }
    const seq = this.resumableSeq(lastEventId)
    return typeof seq === 'string' ? { seq: this.seq, resync: seq } : { seq, resync: undefined }
  }

  private iterate(start: { seq: number; resync: ResyncReason | undefined }, vseq: number, signal: AbortSignal | undefined, member: TMember | undefined): AsyncIterator<ChannelEvent<T>> {
    let pendingResync = start.resync
    const startSeq = start.seq
    let done = this.closed || signal?.aborted === true
    const onAbort = () => cursor.finish()
    const cursor: Cursor = {
      seq: startSeq,
      vseq,
      member,
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
    const doneResult: IteratorResult<ChannelEvent<T>> = { done: true, value: undefined }

    const next = async (): Promise<IteratorResult<ChannelEvent<T>>> => {
      for (;;) {
        if (done) {
          cursor.finish()
          return doneResult
        }
        const lagging = cursor.seq < this.seq - this.capacity
        if (pendingResync !== undefined || lagging) {
          // One resync covers both an unresumable lastEventId and having
          // fallen out of the ring: either way, go on from the newest event.
          const reason = pendingResync ?? 'lagging'
          pendingResync = undefined
          if (lagging) cursor.seq = this.seq
          return { done: false, value: resync(reason) }
        }
        const volatile = this.volatiles.next(cursor)
        if (volatile !== undefined) return { done: false, value: volatile }
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
    const iterator: AsyncIterator<ChannelEvent<T>> = {
      next,
      return: async () => {
        cursor.finish()
        return doneResult
      },
    }
    return withPosition(iterator, () => position)
  }
}
