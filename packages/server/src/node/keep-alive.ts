import type { KeepAliveOptions } from '@wirecall/core'

/** What {@link KeepAliveSweep} needs of a socket: two stamps, a ping and a way out. */
export interface KeptAlive {
  /** Sweep number when something last arrived. */
  heardAt: number
  /** Sweep number when the ping still unanswered went out; 0 when none is. */
  pingedAt: number
  /** Sends a ping frame (or nothing, if the socket is no longer open). */
  ping(): void
  /** Drops the connection at once. */
  terminate(): void
}

/**
 * Keep-alive for all the connections of one server with one timer, where a
 * heartbeat per connection (as the client keeps) would cost a timer and an
 * object each.
 *
 * The timer runs every quarter of the shorter of `intervalMs` and
 * `timeoutMs`, and counts its runs. A socket only stores two run numbers
 * (small integers, so storing one allocates nothing): when it was last
 * heard from, and when its unanswered ping went out. Each run pings the
 * sockets that have been quiet for `intervalMs` and terminates those whose
 * ping went unanswered for `timeoutMs`, both counted in whole runs. A socket
 * is stamped with the run before what it sent, so its ping may go out up to
 * one run early, never late, while the timeout is counted in full from the
 * ping: a half-open connection is found within `intervalMs + timeoutMs`
 * (each rounded up to whole runs), as documented, and a peer that answers
 * is pinged every `intervalMs`.
 *
 * The timer runs only while some socket is watched, so a server left with
 * no connection leaves no timer behind; it never keeps the process alive.
 */
export class KeepAliveSweep {
  private readonly sockets = new Set<KeptAlive>()
  private timer: ReturnType<typeof setInterval> | undefined
  /** Runs of the timer so far; starts at 1 so that a `pingedAt` of 0 can mean "no ping out". */
  private run = 1
  private readonly periodMs: number
  /** Runs a socket must have been quiet for: `intervalMs`, rounded up. */
  private readonly quietRuns: number
  /** Runs a ping may go unanswered: `timeoutMs`, rounded up. */
  private readonly answerRuns: number

  constructor(options: Required<KeepAliveOptions>) {
    const intervalMs = Math.max(1, options.intervalMs)
    const timeoutMs = Math.max(1, options.timeoutMs)
    // Whole milliseconds: setInterval truncates a fractional delay, and the runs below are counted in periods.
    this.periodMs = Math.max(1, Math.floor(Math.min(intervalMs, timeoutMs) / 4))
    this.quietRuns = Math.ceil(intervalMs / this.periodMs)
    this.answerRuns = Math.ceil(timeoutMs / this.periodMs)
  }

  /** Starts watching a socket, as if it had just been heard from. */
  watch(socket: KeptAlive): void {
    this.heard(socket)
    this.sockets.add(socket)
    if (this.timer !== undefined) return
    this.timer = setInterval(() => this.sweep(), this.periodMs)
    this.timer.unref()
  }

  /** Something arrived on the socket: it is alive. Cheap, since it runs for every message. */
  heard(socket: KeptAlive): void {
    socket.heardAt = this.run
    socket.pingedAt = 0
  }

  /** Stops watching a socket (it closed); the last one stops the timer. */
  unwatch(socket: KeptAlive): void {
    if (!this.sockets.delete(socket) || this.sockets.size > 0) return
    clearInterval(this.timer)
    this.timer = undefined
  }

  private sweep(): void {
    const now = ++this.run
    for (const socket of this.sockets) {
      if (socket.pingedAt === 0) {
        if (now - socket.heardAt < this.quietRuns) continue
        socket.pingedAt = now
        socket.ping()
      } else if (now - socket.pingedAt >= this.answerRuns) {
        this.unwatch(socket)
        socket.terminate()
      }
    }
  }
}
