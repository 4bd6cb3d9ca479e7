import type { BackpressureOptions } from '../options'
import type { RpcSocket } from './socket'

/**
 * Flow control for one connection, through its socket's `bufferedAmount`.
 *
 * After every write the connection calls {@link wrote}. Above the
 * high-water mark the connection is *congested*: its subscriptions stop
 * pulling from their iterators (an async generator then waits at its
 * `yield`) until the buffer is back under the low-water mark. A reader
 * that stays behind for `slowConsumerTimeoutMs`, or lets more than
 * `maxBufferedAmount` pile up, is cut off: `slow` is called, and the
 * connection closes with 1013. Server memory per connection is therefore
 * bounded whatever the peer does, and a generator never races ahead of a
 * reader that stopped reading.
 */
export class FlowControl {
  private paused = false
  private waiters: (() => void)[] = []
  private slowTimer: ReturnType<typeof setTimeout> | undefined
  private pollTimer: ReturnType<typeof setTimeout> | undefined
  private stopDrainWatch: (() => void) | undefined
  private stopped = false

  /**
   * @param slow cuts the reader off (the session closes with 1013).
   * @param observe told of each pause, resume and cut-off, with the `bufferedAmount` then; only when the server's instrumentation listens.
   */
  constructor(
    private readonly socket: RpcSocket,
    private readonly options: Required<BackpressureOptions>,
    slow: (reason: string) => void,
    private readonly observe?: ((kind: 'pause' | 'resume' | 'slow-consumer', bufferedAmount: number) => void) | undefined,
  ) {
    this.slow =
      observe === undefined
        ? slow
        : (reason) => {
            observe('slow-consumer', this.socket.bufferedAmount)
            slow(reason)
          }
  }

  private readonly slow: (reason: string) => void

  /** True while the reader is behind: do not pull more events for it. */
  get congested(): boolean {
    return this.paused
  }

  /** True while paused, or while the socket holds more than the high-water mark: what a volatile event is skipped for. */
  get full(): boolean {
    return this.paused || this.socket.bufferedAmount > this.options.highWaterMark
  }

  /** Checks the buffer after a write; cheap when the reader keeps up. */
  wrote(): void {
    const buffered = this.socket.bufferedAmount
    if (buffered <= this.options.highWaterMark || this.stopped) return
    if (buffered > this.options.maxBufferedAmount) {
      return this.slow(`slow consumer: more than ${this.options.maxBufferedAmount} bytes waiting to be read`)
    }
    if (!this.paused) this.pause()
  }

  /** Resolves once the connection is no longer congested (or flow control stopped). */
  writable(): Promise<void> {
    if (!this.paused) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** The connection closed: wake everyone waiting and drop every timer. */
  stop(): void {
    this.stopped = true
    this.resume()
  }

  private pause(): void {
    this.paused = true
    this.observe?.('pause', this.socket.bufferedAmount)
    this.slowTimer = setTimeout(
      () => this.slow(`slow consumer: above ${this.options.highWaterMark} bytes for ${this.options.slowConsumerTimeoutMs} ms`),
      this.options.slowConsumerTimeoutMs,
    )
    this.slowTimer.unref()
    // The socket's drain event says when to look again; a slow poll covers sockets that have none.
    this.stopDrainWatch = this.socket.onDrain?.(() => this.check())
    this.poll()
  }

  private poll(): void {
    this.pollTimer = setTimeout(() => this.check(), this.stopDrainWatch === undefined ? 10 : 100)
    this.pollTimer.unref()
  }

  private check(): void {
    if (!this.paused) return
    clearTimeout(this.pollTimer)
    const buffered = this.socket.bufferedAmount
    if (buffered <= this.options.lowWaterMark) {
      this.resume()
      return this.observe?.('resume', buffered)
    }
    this.poll()
  }

  private resume(): void {
    this.paused = false
    clearTimeout(this.slowTimer)
    clearTimeout(this.pollTimer)
    this.slowTimer = this.pollTimer = undefined
    this.stopDrainWatch?.()
    this.stopDrainWatch = undefined
    const waiters = this.waiters
    if (waiters.length === 0) return
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
