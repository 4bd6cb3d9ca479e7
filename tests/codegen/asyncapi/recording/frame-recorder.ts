import { WebSocket } from 'ws'
import type { Sender } from './frame-log'

/*
 * Records the text frames `ws` sends, on both sides, by wrapping
 * `WebSocket.prototype.send` once per process. The wrapper costs a boolean
 * test when no recorder listens, and a Set lookup when one does; frames
 * are kept in memory, distinct, bounded in count and bytes, until their
 * owner takes them.
 */

/** Bounds of one recorder. */
export interface RecorderLimits {
  /** Most distinct frames kept. */
  readonly maxFrames: number
  /** Most UTF-16 code units kept, all frames together. */
  readonly maxChars: number
  /** A longer frame is counted, not kept. */
  readonly maxFrameChars: number
}

export const DEFAULT_RECORDER_LIMITS: RecorderLimits = { maxFrames: 20_000, maxChars: 16 * 1024 * 1024, maxFrameChars: 256 * 1024 }

/** What a recorder holds: distinct frames in the order first sent, and what the bounds left out. */
export class FrameRecorder {
  readonly frames: { sender: Sender; text: string }[] = []
  // One set per side, so that no key is built (a concatenation would copy every frame).
  private readonly seen = { client: new Set<string>(), server: new Set<string>() }
  private chars = 0
  /** Frames not kept: over a bound (duplicates among them counted each time). */
  dropped = 0

  constructor(readonly limits: RecorderLimits = DEFAULT_RECORDER_LIMITS) {}

  record(sender: Sender, text: string): void {
    // Bounds first: a frame over them is never hashed.
    if (text.length > this.limits.maxFrameChars || this.frames.length >= this.limits.maxFrames || this.chars + text.length > this.limits.maxChars) {
      this.dropped++
      return
    }
    const seen = this.seen[sender]
    if (seen.has(text)) return
    seen.add(text)
    this.chars += text.length
    this.frames.push({ sender, text })
  }

  /** Removes and returns the frames kept so far; the memory of which were seen stays, so a frame is taken once. */
  take(): { sender: Sender; text: string }[] {
    return this.frames.splice(0)
  }
}

const listeners = new Set<FrameRecorder>()
const WRAPPED = Symbol.for('wirecall.test.frameRecorder')

type Send = WebSocket['send']

function wrapSend(): void {
  const proto = WebSocket.prototype as WebSocket & { [WRAPPED]?: true }
  if (proto[WRAPPED] === true) return
  const send: Send = proto.send
  proto.send = function (this: WebSocket & { _isServer?: boolean }, data: Parameters<Send>[0], ...rest: unknown[]) {
    if (listeners.size > 0 && typeof data === 'string') {
      const sender: Sender = this._isServer === true ? 'server' : 'client'
      for (const listener of listeners) listener.record(sender, data)
    }
    return (send as (this: WebSocket, ...args: unknown[]) => void).call(this, data, ...rest)
  } as Send
  proto[WRAPPED] = true
}

/** Starts feeding `recorder` every text frame any `ws` socket of this process sends; returns the function that stops it. */
export function listen(recorder: FrameRecorder): () => void {
  wrapSend()
  listeners.add(recorder)
  return () => listeners.delete(recorder)
}
