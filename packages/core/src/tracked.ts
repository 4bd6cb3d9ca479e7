/**
 * Subscription events with ids. A client remembers the id of the last
 * tracked event it received and sends it back as `lastEventId` when it
 * resubscribes, so the server can resume from there.
 */

const trackedBrand: unique symbol = Symbol.for('wirecall.tracked')

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
  if (typeof id !== 'string' || id.length === 0) throw new TypeError('tracked(): id must be a non-empty string')
  return { [trackedBrand]: true, id, data }
}

/** True for a value made by {@link tracked}. */
export function isTracked(value: unknown): value is TrackedEnvelope<unknown> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[trackedBrand] === true
}

/** The data type inside `tracked(...)`, or the type itself. */
export type UnwrapTracked<T> = T extends TrackedEnvelope<infer D> ? D : T
