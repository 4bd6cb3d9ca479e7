/**
 * Most messages one batch frame may hold: what every receiver must accept
 * (docs/protocol.md, "Frames").
 */
export const MAX_BATCH_MESSAGES = 1000

/**
 * Largest batch built, in UTF-16 code units of JSON (at most three bytes of
 * UTF-8 each). Big enough that a batch carries hundreds of small messages,
 * small enough that no frame waits long behind it.
 */
export const MAX_BATCH_CHARS = 65_536

/**
 * Where a {@link FrameBatcher} writes its frames: in practice its owner, the
 * connection, so that a server with many connections allocates no closure
 * per connection for it.
 */
export interface FrameSink {
  /** Sends one frame on the socket. */
  writeFrame(frame: string): void
}

/**
 * Joins the messages written in one turn of the event loop into one frame
 * (a JSON array, which the protocol defines as a batch), so a burst of
 * answers or events costs one frame and one socket write instead of one
 * each. A lone message still leaves as a plain message frame.
 *
 * No timer is involved: the owner flushes when its turn ends (a microtask
 * on the client, `setImmediate` on the server), so nothing waits longer
 * than the code that produced it takes to finish. A batch is also flushed
 * at once when it reaches {@link MAX_BATCH_MESSAGES} or `maxChars`, so what
 * is held back stays bounded and the socket's `bufferedAmount`, which flow
 * control reads, keeps up with what was written. A message too long to
 * batch is written on its own, after what was held back, so order is kept.
 */
export class FrameBatcher {
  /** Messages held back; made on the first push, so an idle owner holds no array. */
  private parts: string[] | undefined
  private chars = 0
  private scheduled = false

  /**
   * @param sink sends one frame on the socket.
   * @param schedule arranges for {@link flushScheduled} to run once the current turn's work is done.
   * @param maxChars largest batch, in UTF-16 code units; lower it to stay under the peer's largest frame.
   */
  constructor(
    private readonly sink: FrameSink,
    private readonly schedule: (batcher: FrameBatcher) => void,
    public maxChars = MAX_BATCH_CHARS,
  ) {}

  /** UTF-16 code units held back, not yet written to the socket. */
  get pendingChars(): number {
    return this.chars
  }

  /** Queues one encoded message. */
  push(message: string): void {
    if (message.length >= this.maxChars) {
      this.flush()
      return this.sink.writeFrame(message)
    }
    if (this.chars + message.length + 1 > this.maxChars || this.parts?.length === MAX_BATCH_MESSAGES) this.flush()
    this.parts ??= []
    this.parts.push(message)
    this.chars += message.length + 1
    if (!this.scheduled) {
      this.scheduled = true
      this.schedule(this)
    }
  }

  /** Writes what is held back now, as one frame. */
  flush(): void {
    const parts = this.parts
    if (parts === undefined) return
    this.parts = undefined
    this.chars = 0
    this.sink.writeFrame(parts.length === 1 ? parts[0]! : `[${parts.join(',')}]`)
  }

  /** What the scheduler calls at the end of the turn. */
  flushScheduled(): void {
    this.scheduled = false
    this.flush()
  }

  /** Forgets what is held back (the socket is gone). */
  clear(): void {
    this.parts = undefined
    this.chars = 0
  }
}
