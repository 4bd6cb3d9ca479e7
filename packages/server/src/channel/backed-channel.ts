import {
  RpcError,
  defaultSerializer,
  eventFieldsWithoutId,
  notifyPublish,
  publishHooks,
  resync,
  withPosition,
  type ChannelEvent,
  type ChannelInstrumentation,
  type ChannelOptions,
  type ChannelPublishOptions,
  type ChannelSubscribeOptions,
  type ResyncReason,
  type Serializer,
  type TraceContext,
} from '@wirecall/core'
import type { BackendEntry, ChannelBackend } from './backend'
import { encodedEnvelope, withReady } from './encoded-envelope'
import { StreamTail, type TailCursor } from './stream-tail'

/** Options of `createChannel` with a backend: the in-memory channel's options, plus where the events live. */
export interface BackedChannelOptions extends Omit<ChannelOptions, 'epoch'> {
  /** Where the events are kept and how they reach other processes: `redisChannelBackend(...)` from `@wirecall/redis`, or {@link memoryChannelBackend}. */
  backend: ChannelBackend
  /**
   * The channel's key in the backend: the same on every node for the same
   * channel, and different for different channels (`chat`, `prices`). Also
   * its name for telemetry. Topics are `name:key`.
   *
   * Give one. Without it the key is `channel-<n>`, `n` counting the channels
   * created on this backend object in this process: the same on nodes that
   * run the same code, but it shifts if channels are created conditionally
   * or in another order.
   */
  name?: string
  /**
   * Encodes events for the backend; must be the server's `serializer` (an
   * event is stored encoded and sent to clients as it was stored).
   * @default defaultSerializer
   */
  serializer?: Serializer
}

/**
 * A channel whose events live in a {@link ChannelBackend}: publish on any
 * node, subscribe and resume on any node. Like `Channel`, except that
 * `publish` resolves once the backend stored the event.
 */
export interface BackedChannel<T, TMember = unknown> {
  /**
   * Stores the event in the backend, which delivers it to every subscriber
   * on every node; resolves to its id. A volatile event (see
   * `ChannelPublishOptions.volatile`) is not stored: the backend hands it to
   * every node's subscribers at once (`ChannelBackend.broadcast`), and this
   * resolves to `undefined` once it did. A volatile event the backend cannot
   * pass on (Redis unreachable) is dropped, not queued, and not an error.
   * Await a stored publish before a volatile one that must follow it on
   * other nodes.
   */
  publish(data: T, options?: ChannelPublishOptions & { volatile?: false | undefined }): Promise<string>
  publish(data: T, options: ChannelPublishOptions & { volatile: true }): Promise<undefined>
  publish(data: T, options?: ChannelPublishOptions): Promise<string | undefined>
  /**
   * Events as tracked envelopes: the replay after `lastEventId`, read from
   * the backend in pages, then live ones, with no gap and no duplicate. A
   * resync signal (with its reason) when the backend cannot resume from
   * `lastEventId`. A subscriber more than `maxLag` events behind reads the
   * rest from the backend instead of being told to resync.
   */
  subscribe(options?: ChannelSubscribeOptions<TMember>): AsyncIterable<ChannelEvent<T>>
  /** A channel per key, in the same backend, named `name:key`. */
  topic(key: string): BackedChannel<T, TMember>
  /**
   * The `member` of every live subscriber **on this node** (see
   * `ChannelSubscribeOptions.member`), each once, in the order they
   * subscribed. Members on other nodes are not listed: each node calls its
   * own (a peer can only be called from the node its connection is on).
   */
  members(): TMember[]
  /** Volatile events a subscriber on this node skipped (see `Channel.volatileSkips`); this channel's only. */
  readonly volatileSkips: number
  /** Forgets a topic: its local subscribers end, and its stream is deleted from the backend. */
  deleteTopic(key: string): Promise<void>
  /** Id of the newest event this node has seen or published, if any. */
  readonly lastEventId: string | undefined
  /** Live subscribers on this node. */
  readonly subscriberCount: number
  /** Ends this node's subscribers; the backend keeps the events. */
  close(): void
}

/** Channels created without a name, per backend: their keys count them. */
const unnamed = new WeakMap<ChannelBackend, number>()

function unnamedKey(backend: ChannelBackend): string {
  const n = (unnamed.get(backend) ?? 0) + 1
  unnamed.set(backend, n)
  return `channel-${n}`
}

/** Events read from the backend per round trip while replaying. */
const REPLAY_PAGE = 256

/** Escapes the separator, so `a:b` + `c` and `a` + `b:c` are different streams. */
const topicStream = (stream: string, key: string) => `${stream}:${key.replace(/%/g, '%25').replace(/:/g, '%3A')}`

export class BackendChannel<T, TMember = unknown> implements BackedChannel<T, TMember> {
  private readonly history: number
  private readonly capacity: number
  private readonly serializer: Serializer
  private readonly backend: ChannelBackend
  private readonly instrumentation: readonly ChannelInstrumentation[] | undefined
  private tail: StreamTail<T> | undefined
  private readonly finishers = new Set<() => void>()
  private readonly topics = new Map<string, BackendChannel<T, TMember>>()
  volatileSkips = 0
  private readonly countSkips = (count: number) => {
    this.volatileSkips += count
  }
  private readonly maxTopics: number
  private published: string | undefined
  private closed = false

  private readonly stream: string

  constructor(
    private readonly options: BackedChannelOptions,
    stream?: string,
    private readonly isTopic = false,
  ) {
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length === 0)) {
      throw new TypeError('createChannel(): `name` must be a non-empty string: the channel\'s key in the backend')
    }
    this.stream = stream ?? options.name ?? unnamedKey(options.backend)
    this.backend = options.backend
    this.serializer = options.serializer ?? defaultSerializer
    this.history = Math.max(0, Math.floor(options.history ?? 0))
    this.capacity = Math.max(1, Math.floor(options.maxLag ?? 1_000))
    this.maxTopics = Math.max(1, Math.floor(options.maxTopics ?? 10_000))
    this.instrumentation = publishHooks(options.instrumentation)
  }

  get lastEventId(): string | undefined {
    return this.tail?.head ?? this.published
  }

  get subscriberCount(): number {
    return this.tail?.cursors.size ?? 0
  }

  publish(data: T, options?: ChannelPublishOptions & { volatile?: false | undefined }): Promise<string>
  publish(data: T, options: ChannelPublishOptions & { volatile: true }): Promise<undefined>
  publish(data: T, options?: ChannelPublishOptions): Promise<string | undefined>
  async publish(data: T, options?: ChannelPublishOptions): Promise<string | undefined> {
    if (this.closed) throw new RpcError('CANCELLED', 'The channel is closed')
    const volatile = options?.volatile === true
    if (volatile && this.backend.broadcast === undefined) throw new RpcError('NOT_IMPLEMENTED', 'This channel backend cannot broadcast volatile events')
    const trace = this.instrumentation === undefined ? undefined : this.observe(volatile)
    let fields: string
    try {
      fields = eventFieldsWithoutId(this.serializer, data, trace)
    } catch (cause) {
      throw new RpcError('INTERNAL', 'An event could not be serialized', { cause })
    }
    if (volatile) {
      await this.backend.broadcast?.(this.stream, fields, this.lastEventId)
      return undefined
    }
    const id = await this.backend.publish(this.stream, fields, this.history)
    this.published = id
    return id
  }

  /** Tells the instrumentation of the publish (its id is the backend's, not known yet: ''); the trace context returned goes with the event. */
  private observe(volatile: boolean): TraceContext | undefined {
    const event = { channel: this.options.name, topic: this.isTopic, eventId: '', subscribers: this.subscriberCount }
    return notifyPublish(this.instrumentation!, volatile ? { ...event, volatile } : event)
  }

  subscribe(options: ChannelSubscribeOptions<TMember> = {}): AsyncIterable<ChannelEvent<T>> {
    return { [Symbol.asyncIterator]: () => this.iterate(options.lastEventId, options.signal, options.member) }
  }

  members(): TMember[] {
    const members = new Set<TMember>()
    for (const cursor of this.tail?.cursors ?? []) if (cursor.member !== undefined) members.add(cursor.member as TMember)
    return [...members]
  }

  topic(key: string): BackedChannel<T, TMember> {
    let channel = this.topics.get(key)
    if (channel !== undefined) {
      this.topics.delete(key)
      this.topics.set(key, channel)
      return channel
    }
    channel = new BackendChannel<T, TMember>(this.options, topicStream(this.stream, key), true)
    if (this.closed) {
      channel.close()
      return channel
    }
    this.topics.set(key, channel)
    if (this.topics.size > this.maxTopics) {
      // Only the local object goes: its events stay in the backend, and the next topic(key) reads them again.
      for (const [other, idle] of this.topics) {
        if (idle !== channel && idle.subscriberCount === 0) {
          this.topics.delete(other)
          break
        }
      }
    }
    return channel
  }

  async deleteTopic(key: string): Promise<void> {
    const channel = this.topics.get(key)
    this.topics.delete(key)
    channel?.close()
    await this.backend.delete(topicStream(this.stream, key))
  }

  close(): void {
    this.closed = true
    for (const finish of [...this.finishers]) finish()
    for (const channel of this.topics.values()) channel.close()
    this.topics.clear()
  }

  private acquire(cursor: TailCursor): StreamTail<T> {
    this.tail ??= new StreamTail<T>(this.stream, this.backend, this.serializer, this.capacity, this.countSkips)
    this.tail.cursors.add(cursor)
    // Volatile events count from here: none that came before is delivered.
    cursor.vseq = this.tail.vseq
    return this.tail
  }

  private release(tail: StreamTail<T>, cursor: TailCursor): void {
    tail.cursors.delete(cursor)
    // Nobody here reads this stream any more: stop tailing it at once.
    if (tail.cursors.size === 0 && this.tail === tail) {
      this.tail = undefined
      tail.close()
    }
  }

  private iterate(lastEventId: string | undefined, signal: AbortSignal | undefined, member: TMember | undefined): AsyncIterator<ChannelEvent<T>> {
    const { backend, stream } = this
    const cursor: TailCursor = { seq: 0, vseq: 0, member, reset: undefined, wake: undefined }
    const doneResult: IteratorResult<ChannelEvent<T>> = { done: true, value: undefined }
    let done = this.closed || signal?.aborted === true
    let tail: StreamTail<T> | undefined
    /** Where the next event comes from: the backend (a page being replayed) or the ring. */
    let mode: 'live' | 'replay' = 'live'
    let page: readonly BackendEntry[] = []
    let index = 0
    /** Id of the last event delivered (or the position started after). */
    let lastId: string | undefined
    let owed: ResyncReason | undefined
    let failure: RpcError | undefined
    let position: string | undefined

    /** Settles when this iteration ends, so that a start still waiting on the backend gives up then rather than holding next() (and the server's `started`) forever. */
    let ended!: () => void
    const endedEarly = new Promise<undefined>((resolve) => (ended = () => resolve(undefined)))
    const onAbort = () => finish()
    const finish = () => {
      ended()
      if (done && tail === undefined) return
      done = true
      this.finishers.delete(finish)
      signal?.removeEventListener('abort', onAbort)
      if (tail !== undefined) {
        this.release(tail, cursor)
        tail = undefined
      }
      const wake = cursor.wake
      cursor.wake = undefined
      wake?.()
    }
    const goLive = (at: StreamTail<T>) => {
      mode = 'live'
      page = []
      cursor.seq = at.seq
      lastId = at.head
    }
    const fail = (error: unknown) => {
      failure = RpcError.from(error)
    }

    const start = async (): Promise<void> => {
      if (done) return
      tail = this.acquire(cursor)
      this.finishers.add(finish)
      signal?.addEventListener('abort', onAbort, { once: true })
      await Promise.race([tail.ready, endedEarly])
      if (done || tail === undefined) return
      if (lastEventId === undefined) {
        goLive(tail)
        position = lastId
        return
      }
      const local = exactly(tail, lastEventId, backend)
      // The ring may hold more than the history (maxLag): a resume it serves must be one the backend would serve too, or two nodes would disagree.
      if (local !== undefined && tail.seq - local <= this.history) {
        cursor.seq = local
        position = lastId = lastEventId
        return
      }
      const read = await Promise.race([backend.read(stream, lastEventId, REPLAY_PAGE), endedEarly])
      if (done || tail === undefined || read === undefined) return
      if (read.kind === 'resync') {
        owed = read.reason
        goLive(tail)
        position = lastId
        return
      }
      mode = 'replay'
      page = read.events
      index = 0
      position = lastId = lastEventId
    }
    let begun = false
    const ready = start()
      .catch(fail)
      .then(() => {
        begun = true
      })

    const wait = () =>
      new Promise<void>((resolve) => {
        const previous = cursor.wake
        cursor.wake = previous === undefined ? resolve : () => (previous(), resolve())
      })

    const next = async (): Promise<IteratorResult<ChannelEvent<T>>> => {
      // Once started, no await here: a live event costs its subscriber no extra turn of the microtask queue.
      if (!begun) await ready
      for (;;) {
        if (done || tail === undefined) {
          finish()
          return doneResult
        }
        if (failure !== undefined) {
          const error = failure
          finish()
          throw error
        }
        const reset = cursor.reset
        if (reset !== undefined) {
          // The stream itself restarted (or went back): whatever this subscriber was doing belongs to the old one.
          cursor.reset = undefined
          owed = undefined
          goLive(tail)
          return { done: false, value: resync(reset) }
        }
        if (owed !== undefined) {
          const reason = owed
          owed = undefined
          return { done: false, value: resync(reason) }
        }
        if (mode === 'replay') {
          if (index < page.length) {
            const entry = page[index++]!
            lastId = entry.id
            return { done: false, value: encodedEnvelope<T>(entry, this.serializer) }
          }
          const at = tail.locate(lastId!)
          if (typeof at === 'number') {
            // Caught up with what this node's tail holds: the ring takes over after the last event delivered.
            mode = 'live'
            cursor.seq = at
            continue
          }
          if (at === 'newer') {
            await wait()
            continue
          }
          let read
          try {
            read = await backend.read(stream, lastId!, REPLAY_PAGE)
          } catch (error) {
            fail(error)
            continue
          }
          if (done || tail === undefined) continue
          if (read.kind === 'resync') {
            owed = read.reason
            goLive(tail)
          } else if (read.events.length === 0) {
            // The backend has nothing after lastId, yet the tail started past it: go on from the ring's start.
            mode = 'live'
            cursor.seq = tail.oldest - 1
          } else {
            page = read.events
            index = 0
          }
          continue
        }
        if (cursor.seq < tail.oldest - 1) {
          // Fell out of the ring: the rest is still in the backend, so read it from there rather than resync.
          if (lastId === undefined) {
            owed = 'lagging'
            goLive(tail)
          } else {
            mode = 'replay'
            page = []
            index = 0
          }
          continue
        }
        // Volatile events only live: one that came while this subscriber replayed is stale once it catches up.
        const volatile = tail.nextVolatile(cursor)
        if (volatile !== undefined) return { done: false, value: volatile }
        if (cursor.seq < tail.seq) {
          const envelope = tail.at(++cursor.seq)!
          lastId = envelope.id
          return { done: false, value: envelope }
        }
        await wait()
      }
    }
    const iterator = withPosition<ChannelEvent<T>>(
      {
        next,
        return: async () => {
          finish()
          return doneResult
        },
      },
      () => position,
    )
    return withReady(iterator, ready)
  }
}

/** The ring position of `id` if this node's tail holds exactly that event (or started right after it), else undefined. */
function exactly<T>(tail: StreamTail<T>, id: string, backend: ChannelBackend): number | undefined {
  if (id === tail.baseline) return tail.oldest - 1
  const order = backend.compare(id, tail.head ?? id)
  if (Number.isNaN(order)) return undefined
  const at = tail.locate(id)
  return typeof at === 'number' && tail.at(at)?.id === id ? at : undefined
}

