import type { ResyncReason } from '@wirecall/core'

/**
 * Where a channel keeps its events when they must outlive one process or
 * reach other processes: `createChannel({ backend, name })`. A backend
 * stores each event **already encoded** and hands it back as such, so an
 * event is serialized once by its publisher, not once per node or per
 * subscriber. `@wirecall/redis` provides one on Redis Streams;
 * {@link memoryChannelBackend} is the same contract in one process.
 *
 * Every method is about one `stream` (a channel, or one of its topics),
 * named by a string the channel derives from its `name`. Ids are opaque to
 * clients; a backend orders the ids it wrote with {@link compare}.
 */
export interface ChannelBackend {
  /**
   * Appends an event to `stream`, keeping about the newest `history` (never
   * fewer), and resolves to its id. `fields` is the event's encoded
   * message fields (`,"data":…`), stored and handed back as they are.
   * Rejects with an `RpcError` when the event cannot be stored (too large,
   * backend unreachable).
   */
  publish(stream: string, fields: string, history: number): Promise<string>
  /**
   * The resume rule and the first page of the replay, decided in one atomic
   * step: the events after `after`, oldest first, at most `limit` of them;
   * or the reason the stream cannot be resumed from `after` (`stream-reset`,
   * `position-lost`, `trimmed`, `too-far-behind`, `unknown-id`), with the
   * stream's newest id to go on from. Never rejects for an id it cannot
   * read: that is a resync.
   */
  read(stream: string, after: string, limit: number): Promise<BackendRead>
  /**
   * Follows `stream` from its end: {@link TailListener.started} first, with
   * the position the tail starts after, then every event appended after it,
   * in order, until `close()`. A backend reading over a network resumes
   * from where it was after a reconnect, and calls `reset` when the stream
   * cannot be continued (lost, or behind what was already seen).
   */
  tail(stream: string, listener: TailListener): BackendTail
  /**
   * Orders two ids this backend wrote for the same stream and epoch:
   * negative when `a` comes first, 0 when equal, positive after.
   */
  compare(a: string, b: string): number
  /** Forgets a stream and its history (`channel.deleteTopic`). */
  delete(stream: string): Promise<void>
  /**
   * Hands a volatile event (`channel.publish(data, { volatile: true })`) to
   * every tail of `stream` on every node, now, without storing it: each
   * tail gets {@link TailListener.volatile}. `fields` is the encoded event
   * (`,"data":…`, no id); `after` is the id of the newest event the
   * publisher had seen, so that a node holds the volatile event until its
   * tail got that one (publish order, across nodes). At most once: a
   * backend that cannot reach the other nodes drops the event and
   * resolves; it never queues one. Optional: without it, a volatile
   * publish on a channel with this backend rejects with `NOT_IMPLEMENTED`.
   */
  broadcast?(stream: string, fields: string, after: string | undefined): Promise<void>
}

/** One stored event: its id and its encoded fields, as {@link ChannelBackend.publish} stored them. */
export interface BackendEntry {
  readonly id: string
  readonly fields: string
}

/** What {@link ChannelBackend.read} decided. */
export type BackendRead =
  | {
      readonly kind: 'events'
      /** Oldest first; empty when `after` is the newest event. */
      readonly events: readonly BackendEntry[]
    }
  | {
      readonly kind: 'resync'
      readonly reason: ResyncReason
    }

/** What a {@link ChannelBackend.tail} tells its channel. */
export interface TailListener {
  /** The tail runs: the events after `position` follow (`undefined`: from the stream's first event). Called once, first. */
  started(position: string | undefined): void
  /** Events appended to the stream, in order, with no gap since the previous call. */
  events(entries: readonly BackendEntry[]): void
  /**
   * The stream could not be continued: it was lost and started again
   * (`stream-reset`), it is now behind what this tail already delivered
   * (`position-lost`), or events were dropped before this tail read them
   * (`trimmed`). The events after `position` follow.
   */
  reset(reason: ResyncReason, position: string | undefined): void
  /** A volatile event {@link ChannelBackend.broadcast} handed over (on any node) while this tail ran. */
  volatile?(fields: string, after: string | undefined): void
}

/** A running {@link ChannelBackend.tail}. */
export interface BackendTail {
  /** Stops following the stream; no listener call comes after it. */
  close(): void
}
