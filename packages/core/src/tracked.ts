import { MAX_EVENT_ID_LENGTH } from './protocol-parse'
import type { TraceContext } from './trace-context'
import type { VolatileEnvelope } from './volatile'

/**
 * Subscription events with ids. A client remembers the id of the last
 * tracked event it received and sends it back as `lastEventId` when it
 * resubscribes, so the server can resume from there.
 */

const trackedBrand: unique symbol = /* @__PURE__ */ Symbol.for('wirecall.tracked')

/** An event with an id, as yielded by a subscription. */
export interface TrackedEnvelope<TData> {
  readonly [trackedBrand]: true
  readonly id: string
  readonly data: TData
}

/**
 * Marks a subscription event with an id (a string the client sends back as
 * `lastEventId` when it resubscribes). The client receives `data` only.
 *
 * @example
 * ```ts
 * yield tracked(String(seq), { seq, text })
 * ```
 */
export function tracked<TData>(id: string, data: TData): TrackedEnvelope<TData> {
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_EVENT_ID_LENGTH) {
    // Checked here, where the bug is, rather than by the client refusing the frame and dropping the whole connection.
    throw new TypeError(`tracked(): id must be a string of 1 to ${MAX_EVENT_ID_LENGTH} characters`)
  }
  return { [trackedBrand]: true, id, data }
}

/** True for a value made by {@link tracked}. */
export function isTracked(value: unknown): value is TrackedEnvelope<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[trackedBrand] === true
}

const traceKey: unique symbol = /* @__PURE__ */ Symbol.for('wirecall.trace')

/**
 * Records the trace context of the span that published `envelope` (a
 * channel does, when its instrumentation returns one), so that every
 * subscriber's `data` message carries it. Under a symbol, and only on the
 * envelopes that have one: an event without a trace costs nothing more.
 */
export function withTrace<T>(envelope: TrackedEnvelope<T>, trace: TraceContext): TrackedEnvelope<T> {
  ;(envelope as unknown as Record<symbol, unknown>)[traceKey] = trace
  return envelope
}

/** The trace context {@link withTrace} recorded on an envelope, if any. */
export function traceOf(envelope: TrackedEnvelope<unknown>): TraceContext | undefined {
  return (envelope as unknown as Partial<Record<symbol, TraceContext>>)[traceKey]
}


const resyncBrand: unique symbol = /* @__PURE__ */ Symbol.for('wirecall.resync')

/**
 * "You missed events that cannot be replayed: reload your state." Yielded
 * by channels (and by your own generators) when a resuming client's
 * `lastEventId` is older than what is kept, or when a subscriber fell too
 * far behind. The client receives it as `onResync` (callback form) or as
 * this value (iterator form; test with `isResync`), never as an error.
 */
export interface ResyncSignal {
  readonly [resyncBrand]: true
  /**
   * Why, when the source says: see {@link ResyncReason}. The server sends
   * it in the `resync` message, so the client's `onResync` and iterator
   * receive it too. A newer server may send a reason this version does not
   * list: compare with the ones you handle, and treat others as none.
   */
  readonly reason?: ResyncReason | undefined
}

/**
 * Why a subscription has to resync:
 * - `trimmed`: the `lastEventId` is older than the history still kept;
 * - `unknown-id`: it is not an id of this stream at all (another channel,
 *   another backend, a malformed id);
 * - `lagging`: the subscriber fell more than `maxLag` events behind;
 * - `stream-reset`: the stream was lost and started again (a Redis
 *   restarted without persistence, an expired stream): its epoch changed;
 * - `position-lost`: the `lastEventId` is newer than the stream's newest
 *   event (writes lost in a failover);
 * - `too-far-behind`: resuming would replay more than the backend's
 *   `maxReplay` events.
 */
export type ResyncReason = 'trimmed' | 'unknown-id' | 'lagging' | 'stream-reset' | 'position-lost' | 'too-far-behind'

/** Every {@link ResyncReason}, for code that checks a reason read from the wire. */
export const RESYNC_REASONS: readonly ResyncReason[] = ['trimmed', 'unknown-id', 'lagging', 'stream-reset', 'position-lost', 'too-far-behind']

const RESYNC: ResyncSignal = /* @__PURE__ */ Object.freeze({ [resyncBrand]: true as const })

/**
 * The resync signal, to yield from a subscription; with a reason when you
 * know it (the server sends it to the client, and its instrumentation
 * reports it).
 *
 * @example
 * ```ts
 * if (!history.has(lastEventId)) yield resync('trimmed')
 * ```
 */
export function resync(reason?: ResyncReason): ResyncSignal {
  // A signal with a reason is made each time: resyncs are rare, and a reason read from the wire is not one to keep.
  return reason === undefined ? RESYNC : Object.freeze({ [resyncBrand]: true as const, reason })
}

/** True for the resync signal (on the server as yielded, on the client as received). */
export function isResync(value: unknown): value is ResyncSignal {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[resyncBrand] === true
}

/**
 * What a client receives for a yielded value: the data inside `tracked(...)`
 * (or inside a channel's volatile event), the value itself otherwise.
 * `ResyncSignal` stays in the union, so an iterator over a subscription
 * that can resync has to handle it.
 */
export type UnwrapTracked<T> = T extends TrackedEnvelope<infer D> ? D : T extends VolatileEnvelope<infer D> ? D : T


const positionKey: unique symbol = /* @__PURE__ */ Symbol.for('wirecall.position')

/**
 * An async iterator that knows where it is in its stream: the id after
 * which its events come. Channels' iterators are; the server sends the
 * position in `started`, so a client that has not received an event yet
 * can still resume without missing what is published meanwhile.
 */
export interface PositionedIterator<T> extends AsyncIterator<T> {
  readonly [positionKey]: string | undefined
}

/**
 * Makes `iterator` report `position()` as its stream position (read once,
 * when the subscription starts). For your own sources with ids; channels
 * already do it.
 */
export function withPosition<T>(iterator: AsyncIterator<T>, position: () => string | undefined): PositionedIterator<T> {
  return Object.defineProperty(iterator, positionKey, { get: position, enumerable: false }) as PositionedIterator<T>
}

/** The stream position of an iterator made with {@link withPosition}, if any. */
export function positionOf(iterator: AsyncIterator<unknown>): string | undefined {
  const position: unknown = (iterator as Partial<Record<typeof positionKey, unknown>>)[positionKey]
  return typeof position === 'string' ? position : undefined
}
