import type { TraceContext } from './trace-context'

/**
 * Volatile events: published with `channel.publish(data, { volatile: true })`,
 * delivered to the subscribers whose connection keeps up and skipped for
 * the others, never stored, without an id. Typing indicators, cursors,
 * progress: what is worthless once late.
 */

const volatileBrand: unique symbol = /* @__PURE__ */ Symbol.for('wirecall.volatile')
const markKey: unique symbol = /* @__PURE__ */ Symbol.for('wirecall.volatile.mark')

/**
 * A volatile event as a channel's iterator yields it. The client receives
 * `data` only, as an untracked event: it has no id, so it never moves the
 * client's `lastEventId` and is never replayed.
 */
export interface VolatileEnvelope<TData> {
  readonly [volatileBrand]: true
  /** None: a volatile event cannot be resumed from. (Declared so that `event.id` reads as `string | undefined` on a channel's events.) */
  readonly id?: undefined
  readonly data: TData
}

/** What the server needs to know of a volatile event to decide whether to send it. */
export interface VolatileMark {
  /** When it was published (`performance.now()` of this process): a subscriber that was paused since drops it as stale. */
  readonly at: number
  /** Counts a subscriber skipping it (the channel's `volatileSkips`). */
  readonly skipped: (() => void) | undefined
  /** The publisher's trace context, when the channel's instrumentation returned one. */
  readonly trace: TraceContext | undefined
}

/** The clock volatile events are stamped with; monotonic, and the same in every copy of this module. */
export const volatileNow = (): number => performance.now()

/**
 * Wraps a volatile event; `skipped` is called each time a subscriber skips it.
 * @internal
 */
export function volatileEnvelope<T>(data: T, skipped?: () => void, trace?: TraceContext): VolatileEnvelope<T> {
  const mark: VolatileMark = { at: volatileNow(), skipped, trace }
  return { [volatileBrand]: true, data, [markKey]: mark } as VolatileEnvelope<T>
}

/**
 * True for a volatile event, as a channel's iterator yields it.
 *
 * @example
 * ```ts
 * for await (const event of typing.subscribe({ signal })) {
 *   if (isVolatile(event)) show(event.data)            // no id
 *   else if (!isResync(event)) save(event.id, event.data)
 * }
 * ```
 */
export function isVolatile(value: unknown): value is VolatileEnvelope<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[volatileBrand] === true
}

/**
 * The mark of a volatile event (when it was published, whom to tell of a skip).
 * @internal
 */
export function volatileMarkOf(envelope: VolatileEnvelope<unknown>): VolatileMark {
  return (envelope as unknown as Record<typeof markKey, VolatileMark | undefined>)[markKey] ?? { at: 0, skipped: undefined, trace: undefined }
}

/**
 * Marks an object made elsewhere (a backend's encoded event) as volatile.
 * @internal
 */
export function markVolatile<E extends object>(event: E, skipped?: () => void, trace?: TraceContext): E & VolatileEnvelope<unknown> {
  const mark: VolatileMark = { at: volatileNow(), skipped, trace }
  Object.defineProperty(event, volatileBrand, { value: true, enumerable: false })
  Object.defineProperty(event, markKey, { value: mark, enumerable: false })
  return event as E & VolatileEnvelope<unknown>
}
