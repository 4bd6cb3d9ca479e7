import { CloseCode } from '@wirecall/core'
import type { RateLimiter } from './rate-limit'
import type { RpcSocket } from './socket'
import { unrefTimer } from './unref'

/** What a {@link FrameIntake} hands frames to: the session. */
export interface FrameReader {
  readonly socket: RpcSocket
  readonly isClosed: boolean
  /** Reads one frame now (and may ask the intake to {@link FrameIntake.yieldTurn}). */
  readNow(frame: string): void
  close(code: number, reason: string): void
}

/**
 * The frames of one peer that cannot be read yet, held in arrival order,
 * unparsed, with reading from the socket paused meanwhile where the socket
 * can (`pause()`), so that the peer's own TCP window slows it. A frame
 * waits for one of two reasons:
 *
 * - the peer is over its byte budget (`rateLimit.bytesPerSecond`): it waits
 *   for the bucket to refill;
 * - the peer's frames took the event loop for a whole slice of time: they
 *   wait for the next turn (and, after a frame that alone took longer, for
 *   as long again), so every other connection's frames are read in
 *   between, however many this peer has queued.
 *
 * Made the first time a frame has to wait. A socket that cannot pause
 * keeps delivering; past `maxHeld` characters held, the peer is closed
 * with 1008, as a message flood is.
 */
export class FrameIntake {
  private readonly held: string[] = []
  private heldLength = 0
  /** Waiting for the next turn, not for bytes. */
  private yielding = false
  private paused = false
  private timer: ReturnType<typeof setTimeout> | undefined
  private immediate: ReturnType<typeof setImmediate> | undefined

  constructor(
    private readonly reader: FrameReader,
    private readonly limiter: RateLimiter | undefined,
    private readonly maxHeld: number,
  ) {}

  /** Whether a new frame must wait: behind held frames, to keep their order, or for the next turn. */
  get isHolding(): boolean {
    return this.yielding || this.held.length > 0
  }

  /** Holds `frame` until it may be read. */
  hold(frame: string): void {
    this.held.push(frame)
    this.heldLength += frame.length
    if (this.heldLength > this.maxHeld) return this.reader.close(CloseCode.PolicyViolation, 'byte rate limit exceeded')
    this.pause()
    if (this.timer !== undefined || this.immediate !== undefined) return
    if (this.limiter === undefined) this.immediate = setImmediate(this.release)
    else this.waitForBytes()
  }

  /**
   * The peer's frames had their slice of the event loop: later ones wait
   * for the next turn, and for `pauseMs` more when they took longer than a
   * slice (one costly frame), so that other connections get as long.
   */
  yieldTurn(pauseMs: number): void {
    if (this.yielding) return
    this.yielding = true
    this.pause()
    clearTimeout(this.timer)
    this.timer = undefined
    if (pauseMs < 1) {
      this.immediate = setImmediate(this.release)
    } else {
      this.timer = setTimeout(this.release, pauseMs)
      unrefTimer(this.timer)
    }
  }

  /** The session closed: drop what is held, and read again so that the closing handshake can complete. */
  stop(): void {
    clearTimeout(this.timer)
    clearImmediate(this.immediate)
    this.timer = undefined
    this.immediate = undefined
    this.yielding = false
    this.held.length = 0
    this.heldLength = 0
    this.unpause()
  }

  /** Wakes {@link release} when the first held frame's bytes are in the bucket. */
  private waitForBytes(): void {
    this.timer = setTimeout(this.release, this.limiter!.bytesWait(this.held[0]!.length))
    unrefTimer(this.timer)
  }

  private readonly release = (): void => {
    this.timer = undefined
    this.immediate = undefined
    this.yielding = false
    while (this.held.length > 0) {
      if (this.reader.isClosed || this.yielding) return
      if (this.limiter !== undefined && !this.limiter.takeBytes(this.held[0]!.length)) return this.waitForBytes()
      const frame = this.held.shift()!
      this.heldLength -= frame.length
      this.reader.readNow(frame)
    }
    if (!this.yielding && !this.reader.isClosed) this.unpause()
  }

  private pause(): void {
    if (this.paused) return
    this.paused = true
    this.reader.socket.pause?.()
  }

  private unpause(): void {
    if (!this.paused) return
    this.paused = false
    this.reader.socket.resume?.()
  }
}
