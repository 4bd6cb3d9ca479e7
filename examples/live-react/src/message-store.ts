import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { resync, tracked, type ResyncSignal, type TrackedEnvelope } from '@wirecall/core'

/** A chat message, as pages get it. */
export interface Message {
  id: number
  from: string
  text: string
  at: Date
}

/** One line of the log file; `key` is the idempotency key of the send that wrote it. */
interface LogLine {
  id: number
  from: string
  text: string
  at: string
  key?: string
}

/** Messages a subscriber gets when it does not resume: the newest few. */
export const RECENT_MESSAGES = 50

/**
 * The messages: an append-only JSON-lines file, and the newest `capacity`
 * in memory. Ids are sequence numbers (1, 2, 3...) read back from the file
 * at start-up, so they name the same message in every server process: a
 * page that resumes from 41 after a `kill -9` and a restart gets 42 onwards.
 * Writes are synchronous, so a send that succeeded is in the file before
 * its answer leaves. A demo's storage: a real app would use a database.
 */
export class MessageStore {
  readonly #messages: Message[] = []
  /** Idempotency key -> message, for the messages in memory: a send re-sent after a crash posts once. */
  readonly #byKey = new Map<string, Message>()
  readonly #waiters = new Set<() => void>()
  #lastId = 0

  private constructor(
    readonly capacity: number,
    private fd: number | undefined,
  ) {}

  /** Opens the log in `file` (created if missing), or an in-memory store without one. A torn last line is cut off. */
  static open(file: string | undefined, capacity = 1_000): MessageStore {
    const fd = file === undefined ? undefined : openSync(file, 'a+')
    const store = new MessageStore(capacity, fd)
    if (fd === undefined) return store
    const text = readFileSync(fd, 'utf8')
    const end = text.lastIndexOf('\n') + 1
    if (end < text.length) ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)))
    for (const line of text.slice(0, end).split('\n')) {
      if (line === '') continue
      const record = JSON.parse(line) as LogLine
      store.#remember({ id: record.id, from: record.from, text: record.text, at: new Date(record.at) }, record.key)
    }
    return store
  }

  get lastId(): number {
    return this.#lastId
  }

  /** Appends a message, or returns the one this idempotency key already wrote. */
  append(from: string, text: string, key: string | undefined): Message {
    const existing = key === undefined ? undefined : this.#byKey.get(key)
    if (existing !== undefined) return existing
    const message: Message = { id: this.#lastId + 1, from, text, at: new Date() }
    if (this.fd !== undefined) {
      const line: LogLine = { id: message.id, from, text, at: message.at.toISOString(), ...(key === undefined ? {} : { key }) }
      writeSync(this.fd, `${JSON.stringify(line)}\n`)
    }
    this.#remember(message, key)
    for (const wake of [...this.#waiters]) wake()
    return message
  }

  /**
   * The messages after `lastEventId`, then each new one, until `signal`
   * aborts. Without an id: the newest {@link RECENT_MESSAGES} first. An id
   * older than what is in memory (or not one of ours) gets a resync, then
   * the newest ones. Replay and live are one loop, so nothing is missed or
   * doubled between them.
   */
  async *feed(lastEventId: string | undefined, signal: AbortSignal): AsyncGenerator<TrackedEnvelope<Message> | ResyncSignal> {
    const oldest = this.#messages[0]?.id ?? this.#lastId + 1
    const resumeAfter = lastEventId === undefined || !/^\d{1,15}$/.test(lastEventId) ? undefined : Number(lastEventId)
    let after: number
    if (resumeAfter !== undefined && resumeAfter >= oldest - 1 && resumeAfter <= this.#lastId) {
      after = resumeAfter
    } else {
      if (lastEventId !== undefined) yield resync()
      after = Math.max(0, this.#lastId - RECENT_MESSAGES)
    }
    while (!signal.aborted) {
      const first = this.#messages[0]?.id ?? this.#lastId + 1
      if (after < first - 1) {
        yield resync() // fell behind what memory keeps
        after = first - 1
      }
      while (after < this.#lastId && !signal.aborted) {
        const message = this.#messages[after + 1 - first]!
        after = message.id
        yield tracked(String(message.id), message)
      }
      await this.#next(signal)
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  #remember(message: Message, key: string | undefined): void {
    this.#lastId = message.id
    this.#messages.push(message)
    if (key !== undefined) this.#byKey.set(key, message)
    while (this.#messages.length > this.capacity) {
      const dropped = this.#messages.shift()!
      for (const [k, m] of this.#byKey) if (m === dropped) this.#byKey.delete(k)
    }
  }

  /** Resolves on the next append, or when `signal` aborts. */
  #next(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.#waiters.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.#waiters.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }
}
