import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs'
import { RpcError } from '@wirecall/core'
import { Notifier } from './notifier'
import type { ChatMessage, RoomName } from './rooms'

/** One line of a room's log file. `key` is the idempotency key of the send that wrote it. */
interface LogRecord {
  id: number
  from: string
  text: string
  at: string
  key?: string
}

/** What the log keeps in memory for one message. */
export interface LogEntry {
  message: ChatMessage
  key: string | undefined
}

/**
 * The messages of one room: an append-only JSON-lines file (one message
 * per line), and the newest `capacity` messages in memory for replay.
 *
 * Ids are the room's sequence numbers, 1, 2, 3..., read back from the file
 * at start-up, so they mean the same message in every server process: a
 * client that resumes from id 41 after a restart gets exactly 42 onwards.
 *
 * Writes are synchronous: when `append` returns, the line is in the file
 * (in the OS's cache), so a message whose send succeeded survives a crash of
 * the process (`kill -9`), in order. That is fine for a demo; a real app
 * would use a database.
 */
export class MessageLog {
  readonly room: RoomName
  readonly #capacity: number
  readonly #entries: LogEntry[] = []
  /** Idempotency key -> message, for the messages in memory. */
  readonly #byKey = new Map<string, ChatMessage>()
  readonly #appended = new Notifier()
  #lastId = 0
  #fd: number | undefined

  private constructor(room: RoomName, capacity: number) {
    this.room = room
    this.#capacity = capacity
  }

  /**
   * Opens the log of `room` in `file` (created if missing), or an in-memory
   * log without `file`. A torn last line (the process died while writing
   * it) is cut off; other lines that do not parse are skipped.
   */
  static open(room: RoomName, file: string | undefined, capacity: number): MessageLog {
    const log = new MessageLog(room, capacity)
    if (file === undefined) return log
    const fd = openSync(file, 'a+')
    try {
      const text = readFileSync(fd, 'utf8')
      const end = text.lastIndexOf('\n') + 1
      // Appending after a torn line would glue the next message to it.
      if (end < text.length) ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)))
      for (const line of text.slice(0, end).split('\n')) {
        const record = parseRecord(line)
        if (record !== undefined && record.id > log.#lastId) log.#remember(log.#toEntry(record))
      }
    } catch (error) {
      closeSync(fd)
      throw error
    }
    log.#fd = fd
    return log
  }

  /** The id of the newest message; 0 while the room is empty. */
  get lastId(): number {
    return this.#lastId
  }

  /** The id of the oldest message still in memory (`lastId + 1` when none is). */
  get firstId(): number {
    return this.#entries[0]?.message.id ?? this.#lastId + 1
  }

  /**
   * Appends a message, written to the file before this returns. With a
   * `key` already used by a message in memory, appends nothing and returns
   * that message: a send retried after a reconnect, even to a server
   * process that has restarted since, posts once. The same key with
   * another sender or text is refused with `CONFLICT`, as the server's own
   * idempotency cache does.
   */
  append(from: string, text: string, key?: string): ChatMessage {
    if (key !== undefined) {
      const earlier = this.#byKey.get(key)
      if (earlier !== undefined && (earlier.from !== from || earlier.text !== text)) {
        throw new RpcError('CONFLICT', 'this idempotency key was used for another message')
      }
      if (earlier !== undefined) return earlier
    }
    const record: LogRecord = { id: this.#lastId + 1, from, text, at: new Date().toISOString() }
    if (key !== undefined) record.key = key
    if (this.#fd !== undefined) writeSync(this.#fd, `${JSON.stringify(record)}\n`)
    const entry = this.#toEntry(record)
    this.#remember(entry)
    this.#appended.notify()
    return entry.message
  }

  /** The message with `id`, if it is still in memory. */
  get(id: number): ChatMessage | undefined {
    return this.entry(id)?.message
  }

  /** Whether a message in memory was appended with `key`. */
  hasKey(key: string): boolean {
    return this.#byKey.has(key)
  }

  /** The message with `id` and the key of the send that wrote it, if it is still in memory. */
  entry(id: number): LogEntry | undefined {
    const entry = this.#entries[id - this.firstId]
    return entry?.message.id === id ? entry : undefined
  }

  /** The newest `limit` messages, oldest first. */
  latest(limit: number): ChatMessage[] {
    return this.#entries.slice(-limit).map((entry) => entry.message)
  }

  /** Resolves on the next append, or when `signal` aborts. */
  waitForAppend(signal: AbortSignal): Promise<void> {
    return this.#appended.wait(signal)
  }

  /** Bytes in the file so far (0 for an in-memory log), for tests. */
  get fileSize(): number {
    return this.#fd === undefined ? 0 : fstatSync(this.#fd).size
  }

  /** Closes the file. Appending afterwards keeps messages in memory only. */
  close(): void {
    if (this.#fd === undefined) return
    closeSync(this.#fd)
    this.#fd = undefined
  }

  #toEntry(record: LogRecord): LogEntry {
    return { message: { id: record.id, room: this.room, from: record.from, text: record.text, at: new Date(record.at) }, key: record.key }
  }

  #remember(entry: LogEntry): void {
    this.#entries.push(entry)
    this.#lastId = entry.message.id
    if (entry.key !== undefined) this.#byKey.set(entry.key, entry.message)
    while (this.#entries.length > this.#capacity) {
      const old = this.#entries.shift()!
      if (old.key !== undefined) this.#byKey.delete(old.key)
    }
  }
}

/** A log line as a record, or `undefined` for anything malformed. */
function parseRecord(line: string): LogRecord | undefined {
  if (line.trim() === '') return undefined
  try {
    const value = JSON.parse(line) as Partial<LogRecord>
    if (
      !Number.isSafeInteger(value.id) ||
      value.id! < 1 ||
      typeof value.from !== 'string' ||
      typeof value.text !== 'string' ||
      typeof value.at !== 'string' ||
      Number.isNaN(Date.parse(value.at)) ||
      (value.key !== undefined && typeof value.key !== 'string')
    ) {
      return undefined
    }
    return value as LogRecord
  } catch {
    return undefined
  }
}
