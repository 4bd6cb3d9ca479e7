/**
 * The peak CPU of a server process while a storm hits it: its CPU time
 * (user + system, every thread) asked every 100 ms, each delta divided by
 * the wall time between the answers. 100 % is one core.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { ServerProcess } from '../processes'

const INTERVAL_MS = 100

export class PeakCpuSampler {
  /** The highest CPU use of one interval so far, % of one core. */
  peakPercent = 0
  private stopped = false
  private readonly done: Promise<void>

  constructor(private readonly server: ServerProcess) {
    this.done = this.loop()
    this.done.catch(() => {}) // surfaced by stop()
  }

  private async loop(): Promise<void> {
    let last = { cpuUs: await this.server.cpuUs(), at: performance.now() }
    while (!this.stopped) {
      // Each interval runs from one answer to the next and lasts at least 100 ms: a busy server's late
      // answer lengthens it rather than leaving a gap or making the next one too short to mean anything.
      await sleep(Math.max(0, last.at + INTERVAL_MS - performance.now()))
      const now = { cpuUs: await this.server.cpuUs(), at: performance.now() }
      this.peakPercent = Math.max(this.peakPercent, ((now.cpuUs - last.cpuUs) / ((now.at - last.at) * 1000)) * 100)
      last = now
    }
  }

  /** Stops sampling; rejects if a sample failed (the server died). */
  async stop(): Promise<number> {
    this.stopped = true
    await this.done
    return this.peakPercent
  }
}
