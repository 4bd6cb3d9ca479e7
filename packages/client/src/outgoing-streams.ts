import { RpcError, chunkFrame, endFrame, toAsyncIterable, type CreditMessage, type Serializer } from '@wirecall/core'
import type { Connection } from './connection'
import { clampDelay, unref } from './timers'

/** How often a backed-up socket is looked at again: WHATWG sockets have no drain event. */
const DRAIN_POLL_MS = 10

/** How one stream is bounded and ended; see {@link OutgoingStreams.open}. */
export interface StreamSettings {
  /** How long the stream may wait for the server (its first credit, more credit, the answer after `end`) each time; `undefined`: no bound (subscriptions). */
  timeoutMs?: number | undefined
  /** Chunks written and not credited back when a connection drops are sent again on the next one. */
  idempotent?: boolean | undefined
  /** The stream failed (the producer threw, a chunk could not be serialized, a timeout): its owner ends with `error`. */
  fail(error: RpcError): void
}

/** Why a stream cannot go out on `connection`, if it cannot: the server did not list `"streams"` in its `ack`. */
export function streamRefusal(connection: Connection): RpcError | undefined {
  return connection.features?.includes('streams') === true ? undefined : new RpcError('NOT_IMPLEMENTED', 'the server does not accept client streams')
}

/**
 * One client stream going out: the input of a call, or of a duplex
 * subscription. Items are pulled from the producer only while the server
 * has granted credit (and the socket is under the high-water mark), so a
 * server that stops reading pauses the producer. Chunks go out only on the
 * connection the call or subscribe was written on ({@link attach}).
 *
 * Ownership: the stream owns the producer's iterator. Its owner ends it
 * with {@link stop} (answer, error, cancel, unsubscribe, close), which
 * calls the producer's `return()` unless it has finished; the stream ends
 * its owner through `fail`.
 */
export class OutgoingStream {
  /** Chunks the server will take on this connection. */
  private credit = 0
  /** Frames pulled and not yet written, oldest first (the `end` frame last). */
  private queue: string[] = []
  /** Chunks written on this connection and not credited back: sent again after a drop when idempotent. */
  private unacked: string[] = []
  private declare connection: Connection | undefined
  private declare readonly iterator: AsyncIterator<unknown>
  private declare readonly end: string
  /** The first credit on this connection (the window) came: later ones credit back what the server read. */
  private declare granted: boolean | undefined
  private declare pumping: boolean | undefined
  /** The producer is done (`done`, or it threw): `return()` is not called. */
  private declare finished: boolean | undefined
  private declare stopped: boolean | undefined
  private declare timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly owner: OutgoingStreams,
    readonly id: number,
    source: unknown,
    private readonly settings: StreamSettings,
  ) {
    this.iterator = toAsyncIterable<unknown>(source)![Symbol.asyncIterator]()
    this.end = endFrame(id)
    // Waiting for the connection is waiting for the server.
    this.wait()
  }

  /** The call or subscribe went out on `connection`: chunks follow there, as it grants credit. */
  attach(connection: Connection): void {
    this.connection = connection
    this.credit = 0
    this.granted = false
    // At most once unless idempotent: what the old connection may have lost is sent again first, or forgotten.
    if (this.settings.idempotent === true) this.queue = this.unacked.concat(this.queue)
    this.unacked = []
    // A producer that finished before the drop: the new connection's resolver must hear `end` too, or it waits for ever.
    if (this.finished && this.queue[this.queue.length - 1] !== this.end) this.queue.push(this.end)
  }

  /** The server granted `n` more chunks. */
  credited(n: number): void {
    if (this.granted) this.unacked.splice(0, n)
    this.granted = true
    this.credit += n
    clearTimeout(this.timer)
    this.timer = undefined
    void this.pump()
  }

  /** Ends the stream: nothing more is sent, and the producer's `return()` is called unless it finished. Idempotent. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    clearTimeout(this.timer)
    this.owner.forget(this)
    if (!this.finished) void Promise.resolve(this.iterator.return?.()).catch(() => {})
  }

  /**
   * Writes what credit allows, pulling from the producer as it goes; one
   * pump at a time. Stops when credit runs out (the next credit pumps
   * again), when the socket is backed up or over the server's rate (a
   * timer pumps again), or when the connection is gone (the next
   * {@link attach} and its credit pump again).
   */
  private async pump(): Promise<void> {
    if (this.pumping) return
    this.pumping = true
    try {
      for (;;) {
        const connection = this.connection
        if (this.stopped || connection === undefined || !connection.isOpen) return
        const frame = this.queue[0]
        if (frame === undefined) {
          if (this.finished || this.credit <= 0) return this.wait()
          if (!(await this.pull())) return
          continue
        }
        if (frame !== this.end && this.credit <= 0) return this.wait()
        if (connection.bufferedAmount > this.owner.highWaterMark || !connection.canSend()) return this.retry(connection)
        this.queue.shift()
        connection.send(frame, this.id)
        // After `end`, the stream waits for the answer.
        if (frame === this.end) return this.wait()
        this.credit--
        if (this.settings.idempotent === true) this.unacked.push(frame)
      }
    } finally {
      this.pumping = false
    }
  }

  /** Takes the producer's next item into the queue; false when the stream failed or stopped meanwhile. */
  private async pull(): Promise<boolean> {
    // The producer's own pace is not the server's: no timeout runs while it works.
    clearTimeout(this.timer)
    this.timer = undefined
    let item: IteratorResult<unknown>
    try {
      item = await this.iterator.next()
    } catch (error) {
      this.finished = true
      this.settings.fail(RpcError.from(error))
      return false
    }
    if (this.stopped) return false
    if (item.done === true) {
      this.finished = true
      this.queue.push(this.end)
      return true
    }
    try {
      this.queue.push(chunkFrame(this.owner.serializer, this.id, item.value))
    } catch (cause) {
      this.settings.fail(new RpcError('BAD_REQUEST', 'A chunk could not be serialized', { cause }))
      return false
    }
    return true
  }

  /** The stream waits for the server: past `timeoutMs` it fails with `TIMEOUT`. */
  private wait(): void {
    const timeoutMs = this.settings.timeoutMs
    if (timeoutMs === undefined || this.timer !== undefined || this.stopped) return
    this.timer = setTimeout(() => this.settings.fail(new RpcError('TIMEOUT', `The stream waited ${timeoutMs} ms for the server`)), clampDelay(timeoutMs))
    unref(this.timer)
  }

  /** Pumps again once the socket may have drained or the rate refilled. */
  private retry(connection: Connection): void {
    const timer = setTimeout(() => void this.pump(), connection.canSend() ? DRAIN_POLL_MS : connection.sendWaitMs())
    unref(timer)
  }
}

/**
 * The client streams going out (stream inputs of calls and duplex
 * subscriptions), by the id of their call or subscription: routes each
 * `credit` to its stream.
 */
export class OutgoingStreams {
  private readonly streams = new Map<number, OutgoingStream>()

  constructor(
    readonly serializer: Serializer,
    /** Above this many bytes in the socket's buffer, no chunk is written (nor pulled). */
    readonly highWaterMark: number,
  ) {}

  /** Starts the stream of call or subscription `id` from `source` (an `AsyncIterable` or a `ReadableStream`); it waits for {@link OutgoingStream.attach}. */
  open(id: number, source: unknown, settings: StreamSettings): OutgoingStream {
    const stream = new OutgoingStream(this, id, source, settings)
    this.streams.set(id, stream)
    return stream
  }

  get(id: number): OutgoingStream | undefined {
    return this.streams.get(id)
  }

  /** The server granted credit for stream `message.id`; unknown ids (a stream that ended) are ignored. */
  credit(message: CreditMessage): void {
    this.streams.get(message.id)?.credited(message.n)
  }

  /** A stream stopped. */
  forget(stream: OutgoingStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id)
  }
}
