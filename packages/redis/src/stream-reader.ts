import type { BackendEntry, TailListener } from '@wirecall/server'
import type { RedisConnection } from './connection'
import { streamKeys } from './keys'
import { POSITION, runScript } from './scripts'

/** A stream this node follows, with every local tail of it. */
interface Followed {
  readonly name: string
  readonly key: string
  readonly meta: string
  epoch: string
  /** Redis id of the last entry read ("0-0" for none). */
  lastId: string
  /** Count (`n`) of the last entry read. */
  lastN: number
  readonly listeners: Set<TailListener>
}

/** What a {@link StreamReader} needs from its backend. */
export interface ReaderConfig {
  readonly client: RedisConnection
  readonly prefix: string
  readonly blockMs: number
  readonly ttlMs: number
  readonly newEpoch: () => string
  /** A failure nobody waits for (the reader's connection): for logs. */
  readonly onError: (error: unknown) => void
}

/** Entries per stream per XREAD. */
const COUNT = 512

/**
 * One blocking connection that reads every stream this node has local
 * subscribers for, with a single `XREAD BLOCK` over all of them, and fans
 * entries out to the local tails. When the set of streams changes, the
 * blocked read is cut short with `CLIENT UNBLOCK` from the command
 * connection and issued again over the new set. After a lost connection
 * it checks each stream (epoch, newest id) and resumes from the last id
 * it read, so a blip loses nothing and a lost stream is reported, never
 * skipped over.
 */
export class StreamReader {
  private readonly streams = new Map<string, Followed>()
  private readonly byKey = new Map<string, Followed>()
  private connection: RedisConnection | undefined
  private connectionId: string | undefined
  /** Set while an XREAD is in flight: the set it reads. */
  private reading: number | undefined
  /** Bumped on every change of the set. */
  private generation = 0
  /** Wakes the loop when it waits for a first stream or a retry. */
  private wake: (() => void) | undefined
  /** Streams to check before the next read (after a reconnect: all). */
  private unchecked = false
  private closed = false
  private loop: Promise<void> | undefined

  constructor(private readonly config: ReaderConfig) {}

  /** Streams followed now; for tests and metrics. */
  get size(): number {
    return this.streams.size
  }

  /** Follows `name` for `listener`; `started` is called with the position once known. */
  follow(name: string, listener: TailListener): () => void {
    let released = false
    // A stream already followed joins at once (its listener added and started together, so no event comes before `started`).
    void this.start(name, listener, () => released)
    return () => {
      if (released) return
      released = true
      const followed = this.streams.get(name)
      if (followed === undefined || !followed.listeners.delete(listener) || followed.listeners.size > 0) return
      this.streams.delete(name)
      this.byKey.delete(followed.key)
      this.changed()
    }
  }

  private async start(name: string, listener: TailListener, released: () => boolean): Promise<void> {
    const keys = streamKeys(this.config.prefix, name)
    for (let attempt = 0; !this.closed && !released(); attempt++) {
      // Another follow() of the same stream may have started it meanwhile.
      const running = this.streams.get(name)
      if (running !== undefined) {
        running.listeners.add(listener)
        return listener.started(positionOf(running))
      }
      try {
        const [epoch, lastId, n] = await runScript<[string, string, string]>(this.config.client, POSITION, [keys.stream, keys.meta], [this.config.newEpoch(), String(this.config.ttlMs)])
        if (this.closed || released()) return
        const again = this.streams.get(name)
        if (again !== undefined) {
          again.listeners.add(listener)
          return listener.started(positionOf(again))
        }
        const followed: Followed = { name, key: keys.stream, meta: keys.meta, epoch, lastId, lastN: Number(n), listeners: new Set([listener]) }
        this.streams.set(name, followed)
        this.byKey.set(keys.stream, followed)
        listener.started(positionOf(followed))
        this.changed()
        return
      } catch (error) {
        this.config.onError(error)
        await sleep(Math.min(1_000, 50 * 2 ** attempt))
      }
    }
  }

  /** The set changed: cut the blocked read short, or start the loop. */
  private changed(): void {
    this.generation++
    if (this.loop === undefined && !this.closed) this.loop = this.run()
    const wake = this.wake
    this.wake = undefined
    wake?.()
    this.unblock()
  }

  /** Sends CLIENT UNBLOCK until the loop reads the new set (the unblock may reach Redis before the read it was meant for). */
  private unblock(): void {
    const id = this.connectionId
    if (id === undefined || this.reading === undefined || this.reading === this.generation || this.closed) return
    this.config.client.sendCommand<number>(['CLIENT', 'UNBLOCK', id]).then(
      (unblocked) => {
        if (unblocked === 0) setTimeout(() => this.unblock(), 2).unref()
      },
      (error: unknown) => this.config.onError(error),
    )
  }

  private async run(): Promise<void> {
    let failures = 0
    while (!this.closed) {
      if (this.streams.size === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve))
        continue
      }
      try {
        const connection = await this.connect()
        if (this.unchecked) await this.checkAll()
        const followed = [...this.streams.values()]
        const generation = this.generation
        this.reading = generation
        const args = ['XREAD', 'COUNT', String(COUNT), 'BLOCK', String(this.config.blockMs), 'STREAMS', ...followed.map((f) => f.key), ...followed.map((f) => f.lastId)]
        const reply = await connection.sendCommand<RawXRead | null>(args)
        this.reading = undefined
        failures = 0
        if (reply !== null) this.deliver(reply)
      } catch (error) {
        this.reading = undefined
        if (this.closed) break
        this.config.onError(error)
        // Whatever happened to Redis meanwhile, find out before reading on.
        this.unchecked = true
        await sleep(Math.min(1_000, 25 * 2 ** failures++), (wake) => (this.wake = wake))
      }
    }
  }

  /** The reader's own connection, made (or found again after a reconnect) with its client id. */
  private async connect(): Promise<RedisConnection> {
    let connection = this.connection
    if (connection === undefined) {
      connection = this.connection = this.config.client.duplicate()
      connection.on('error', (error) => this.config.onError(error))
      await connection.connect()
      this.connectionId = undefined
    }
    if (this.connectionId === undefined || this.unchecked) this.connectionId = String(await connection.sendCommand<number>(['CLIENT', 'ID']))
    return connection
  }

  /**
   * After a lost connection: each stream's epoch and newest id against what
   * was read. Another epoch: the stream was lost (`stream-reset`). A newest
   * id before the last one read: writes were lost in a failover
   * (`position-lost`). Either way the tails go on from the stream's newest.
   */
  private async checkAll(): Promise<void> {
    for (const followed of [...this.streams.values()]) {
      const [epoch, lastId, count] = await runScript<[string, string, string]>(this.config.client, POSITION, [followed.key, followed.meta], [this.config.newEpoch(), String(this.config.ttlMs)])
      if (epoch !== followed.epoch) {
        // A new stream: its every event is after the reset, so read it from its start.
        this.restart(followed, 'stream-reset', epoch, '0-0', 0)
      } else if (compareIds(lastId, followed.lastId) < 0 || !(await this.stillHolds(followed))) {
        this.restart(followed, 'position-lost', epoch, lastId, Number(count))
      }
    }
    this.unchecked = false
  }

  /**
   * Whether the stream still holds the last entry read, with the same count.
   * A replica promoted without it may already have newer writes (later ids),
   * so comparing newest ids alone would read on as if nothing was lost.
   * An entry older than the oldest kept was trimmed, which the count check
   * of the next read reports.
   */
  private async stillHolds(followed: Followed): Promise<boolean> {
    if (followed.lastId === '0-0') return true
    const [entry] = await this.config.client.sendCommand<[string, string[]][]>(['XRANGE', followed.key, followed.lastId, followed.lastId])
    if (entry !== undefined) return Number(entry[1][1]) === followed.lastN
    const [oldest] = await this.config.client.sendCommand<[string, string[]][]>(['XRANGE', followed.key, '-', '+', 'COUNT', '1'])
    return oldest !== undefined && compareIds(followed.lastId, oldest[0]) < 0
  }

  private restart(followed: Followed, reason: 'stream-reset' | 'position-lost' | 'trimmed', epoch: string, lastId: string, n: number): void {
    followed.epoch = epoch
    followed.lastId = lastId
    followed.lastN = n
    const position = positionOf(followed)
    for (const listener of followed.listeners) listener.reset(reason, position)
  }

  private deliver(reply: RawXRead): void {
    for (const [key, rawEntries] of reply) {
      const followed = this.byKey.get(key)
      if (followed === undefined) continue
      const entries: BackendEntry[] = []
      for (const [id, fields] of rawEntries) {
        const n = Number(fields[1])
        if ((fields[5] !== undefined && fields[5] !== followed.epoch) || n <= followed.lastN) {
          // Another epoch, or a count that goes back: the stream was lost (expired, deleted, flushed) and begun again. Check it before reading on.
          this.unchecked = true
          break
        }
        if (n > followed.lastN + 1) {
          // A count that skips: entries were trimmed before this node read them.
          // What came before the gap goes out first, as its own batch.
          this.flush(followed, entries.splice(0))
          this.restart(followed, 'trimmed', followed.epoch, followed.lastId, n - 1)
        }
        followed.lastId = id
        followed.lastN = n
        entries.push({ id: `${followed.epoch}.${id}`, fields: fields[3] ?? '' })
      }
      this.flush(followed, entries)
    }
  }

  /** Hands a batch to every local tail of the stream; the batch is theirs, never changed afterwards. */
  private flush(followed: Followed, entries: readonly BackendEntry[]): void {
    if (entries.length === 0) return
    for (const listener of followed.listeners) listener.events(entries)
  }

  /** Redis connections this reader holds (0 or 1). */
  get connections(): number {
    return this.connection === undefined ? 0 : 1
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.streams.clear()
    this.byKey.clear()
    const wake = this.wake
    this.wake = undefined
    wake?.()
    const connection = this.connection
    this.connection = undefined
    // A blocked XREAD would hold close() for blockMs: drop the connection instead.
    connection?.destroy()
    await this.loop?.catch(() => {})
  }
}

/** XREAD's reply: [key, [id, [field, value, ...]][]][] (RESP2). */
type RawXRead = [string, [string, string[]][]][]

/** Where a tail is: `epoch.0-0` before the stream's first event, so even a subscriber of an empty stream can resume. */
function positionOf(followed: Followed): string {
  return `${followed.epoch}.${followed.lastId}`
}

/** Orders two Redis stream ids ("ms-seq"). */
export function compareIds(a: string, b: string): number {
  const [ams = '0', aseq = '0'] = a.split('-')
  const [bms = '0', bseq = '0'] = b.split('-')
  return Number(ams) - Number(bms) || Number(aseq) - Number(bseq)
}

function sleep(ms: number, onWake?: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    onWake?.(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}
