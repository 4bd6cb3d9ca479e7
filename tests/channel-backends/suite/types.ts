import type { ChannelEvent, ChannelSubscribeOptions, ResyncReason } from '@wirecall/core'

/**
 * The channel contract every kind of channel is held to: the in-memory ring
 * (`createChannel()`), and `createChannel({ backend, name })` on each
 * backend. Only what they share is used: `await channel.publish(x)` works
 * whether publish returns the id or a promise of it.
 */
export interface ConformanceChannel<T> {
  publish(data: T): string | Promise<string>
  subscribe(options?: ChannelSubscribeOptions): AsyncIterable<ChannelEvent<T>>
  topic(key: string): ConformanceChannel<T>
  deleteTopic(key: string): void | Promise<void>
  readonly lastEventId: string | undefined
  readonly subscriberCount: number
  close(): void
}

/** What a channel is made with in the suite; `name` is unique per test, so a shared backend needs no flush between tests. */
export interface ConformanceChannelOptions {
  name: string
  history?: number
  maxLag?: number
}

/**
 * Where kinds of channels are documented to differ. The suite asserts the
 * documented behaviour of each, rather than skipping what differs.
 */
export interface ConformanceBehaviour {
  /**
   * Two channels made with the same `name` share one stream, as two nodes
   * on one backend do: what one publishes, the other delivers, and an id of
   * one resumes on the other. False for the ring, where each channel is its
   * own stream (a second node's channel answers `unknown-id`).
   */
  readonly shared: boolean
  /**
   * When a subscriber's position is fixed: at `subscribe()` (the ring:
   * `const events = channel.subscribe(); await snapshot(); yield* events`
   * misses nothing), or only once the backend answered (the server sends
   * `started` after that; the snapshot pattern then holds from `started`).
   */
  readonly positionTakenAt: 'subscribe' | 'ready'
  /**
   * A live subscriber more than `maxLag` events behind: told to resync
   * (`lagging`) and skipped ahead, or it reads the rest from the backend
   * with no resync (`catch-up`) while the backend's history holds it.
   */
  readonly slowSubscriber: 'lagging' | 'catch-up'
  /** The reason given for an id of this stream newer than its newest event. */
  readonly futureIdReason: ResyncReason
  /**
   * An id of the same stream and epoch as `id`, far newer than it (ids are
   * opaque to clients; the suite needs each kind's format for this one case).
   */
  futureId(id: string): string
  /** The reasons an id of another stream (another channel or backend) may get. */
  readonly foreignIdReasons: readonly ResyncReason[]
  /**
   * Whether a stream with no event yet still has a position (the ring's
   * `epoch.0`), so that a client that subscribed before the first event
   * resumes from `started` without a resync.
   */
  readonly positionBeforeFirstEvent: boolean
}

/** One run of the suite: a fresh backend (or none) per test. */
export interface ChannelUnderTest {
  make<T>(options: ConformanceChannelOptions): ConformanceChannel<T>
  readonly behaviour: ConformanceBehaviour
  /** Releases what `setup` made (clients, servers); the suite has closed every channel it made by then. */
  cleanup(): Promise<void>
}
