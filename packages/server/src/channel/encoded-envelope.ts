import { decodePayload, markVolatile, withTrace, type Serializer, type TraceContext, type TrackedEnvelope, type VolatileEnvelope } from '@wirecall/core'
import type { BackendEntry } from './backend'

const encodedKey: unique symbol = Symbol.for('wirecall.encoded')
// The brand `tracked()` puts on its envelopes (a registered symbol, so `isTracked` knows this class's instances too).
const trackedKey = Symbol.for('wirecall.tracked')

/** A backend event's `data` message fields, ready to stamp with a subscription id, and the serializer that wrote them. */
export interface EncodedEvent {
  readonly serializer: Serializer
  /** `,"eventId":…` followed by the stored fields. */
  readonly fields: string
}

/**
 * An event read from a backend, as a tracked envelope. A class rather than
 * `tracked()` plus properties defined afterwards: one is made per event per
 * node, on the fan-out path, and a class keeps them all of one shape.
 */
class StoredEnvelope<T> {
  readonly [trackedKey] = true as const
  readonly [encodedKey]: EncodedEvent
  private decoded: { data: T } | undefined

  constructor(
    readonly id: string,
    private readonly stored: string,
    serializer: Serializer,
  ) {
    this[encodedKey] = { serializer, fields: `,"eventId":${JSON.stringify(id)}${stored}` }
  }

  /** Decoded on first read only (an output schema to check): sending the event needs none. */
  get data(): T {
    if (this.decoded === undefined) {
      const stored = JSON.parse(`{${this.stored.slice(1)}}`) as { data?: unknown; meta?: unknown; trace?: TraceContext }
      this.decoded = { data: decodePayload(this[encodedKey].serializer, stored.data, stored.meta) as T }
      // Read before the event is encoded again, so the publisher's trace still travels.
      if (stored.trace !== undefined) withTrace(this as unknown as TrackedEnvelope<T>, stored.trace)
    }
    return this.decoded.data
  }
}

/**
 * The tracked envelope of an event read from a backend. Its fields are sent
 * as they were stored (a subscription on a server with the same serializer
 * stamps them with its id and encodes nothing); `data` is decoded only if
 * something reads it.
 */
export function encodedEnvelope<T>(entry: BackendEntry, serializer: Serializer): TrackedEnvelope<T> {
  return new StoredEnvelope<T>(entry.id, entry.fields, serializer) as unknown as TrackedEnvelope<T>
}

/** A volatile event as a backend broadcast it: its encoded fields (`,"data":…`, no id), decoded only if something reads `data`. */
class BroadcastEnvelope<T> {
  readonly [encodedKey]: EncodedEvent
  private decoded: { data: T } | undefined

  constructor(fields: string, serializer: Serializer) {
    this[encodedKey] = { serializer, fields }
  }

  get data(): T {
    if (this.decoded === undefined) {
      const { fields, serializer } = this[encodedKey]
      const stored = JSON.parse(`{${fields.slice(1)}}`) as { data?: unknown; meta?: unknown }
      this.decoded = { data: decodePayload(serializer, stored.data, stored.meta) as T }
    }
    return this.decoded.data
  }
}

/**
 * The volatile envelope of an event a backend broadcast (`fields` as the
 * publisher encoded them); `skipped` counts a subscriber skipping it.
 */
export function broadcastEnvelope<T>(fields: string, serializer: Serializer, skipped: () => void): VolatileEnvelope<T> {
  return markVolatile(new BroadcastEnvelope<T>(fields, serializer), skipped)
}

/** The encoded fields of an envelope made by {@link encodedEnvelope} or {@link broadcastEnvelope}, if it is one. */
export function encodedOf(envelope: object): EncodedEvent | undefined {
  return envelope instanceof StoredEnvelope || envelope instanceof BroadcastEnvelope ? envelope[encodedKey] : undefined
}

const readyKey: unique symbol = Symbol.for('wirecall.ready')

/**
 * Marks an iterator whose stream position is known only once `ready`
 * settles (a backend answered): the server waits for it before it sends
 * `started`, so the position it sends is the real one.
 */
export function withReady<I extends AsyncIterator<unknown>>(iterator: I, ready: Promise<unknown>): I {
  return Object.defineProperty(iterator, readyKey, { value: ready, enumerable: false })
}

/** What {@link withReady} recorded, if anything. */
export function readyOf(iterator: AsyncIterator<unknown>): Promise<unknown> | undefined {
  return (iterator as Partial<Record<typeof readyKey, Promise<unknown>>>)[readyKey]
}
