import {
  MAX_EVENT_ID_LENGTH,
  RpcError,
  callProcedure,
  completeFrame,
  dataFrame,
  eventFields,
  eventFieldsWithoutId,
  isResync,
  isTracked,
  isVolatile,
  positionOf,
  resyncFrame,
  stampFrame,
  startedFrame,
  traceOf,
  validate,
  volatileMarkOf,
  volatileNow,
  type AnyProcedure,
  type EncodedFields,
  type Serializer,
  type TrackedEnvelope,
  type VolatileEnvelope,
} from '@wirecall/core'
import { encodedOf, readyOf } from '../channel/encoded-envelope'
import type { FanoutCache } from './config'
import type { FlowControl } from './flow-control'
import type { SubscriptionEnd, SubscriptionProbe } from './hooks'

/** What a subscription needs from its session (the session's {@link SubscriptionTable}). */
export interface SubscriptionHost {
  readonly serializer: Serializer
  /** Encoded events shared across subscriptions: see {@link FanoutCache}. */
  readonly fanout: FanoutCache
  /** The session's flow control: no pulling while the reader is behind. */
  readonly flow: FlowControl
  /** The connection's client, handed to the resolver as `peer`. */
  readonly peer: object
  /** Writes a frame to the socket. */
  send(frame: string): void
  /** Sends a per-subscription error (masked like call errors). */
  sendError(id: number, error: unknown, path: string): void
  /** The subscription ended and its id is free again. Called exactly once. */
  released(subscription: ServerSubscription): void
  /** An error nobody can be told about any more (a generator throwing from its `finally`): log it. */
  reportCleanupError(error: unknown, path: string): void
}

/**
 * One subscription on the server: runs the procedure, pulls its iterator one
 * event at a time and sends each as a `data` message.
 *
 * Ownership: the subscription owns its iterator. Whatever ends it —
 * `unsubscribe`, the session closing, the server closing, the generator
 * throwing, an event failing output validation or serialization — goes
 * through {@link stop}, which aborts `signal` and calls the iterator's
 * `return()`. An async generator that is busy (ignoring its signal) gets
 * that `return()` queued and runs its `finally` at its next `yield`.
 */
export class ServerSubscription {
  private readonly controller = new AbortController()
  private iterator: AsyncIterator<unknown> | undefined
  private active = true
  /** Settles when the iterator's `return()` has (the generator's `finally` ran). */
  private cleanup: Promise<void> | undefined
  /** Volatile events published before this time waited while the reader was behind: stale, skipped. */
  private staleBefore = Number.NEGATIVE_INFINITY

  constructor(
    readonly id: number,
    readonly path: string,
    private readonly procedure: AnyProcedure,
    private readonly host: SubscriptionHost,
    /** What the server's instrumentation is told; `undefined` without instrumentation. */
    private readonly probe: SubscriptionProbe | undefined = undefined,
  ) {}

  /**
   * Runs until the subscription ends, then waits for the iterator's cleanup.
   * Never throws. The returned promise settling means the resolver and its
   * generator are gone, which is what a graceful `server.close()` waits for.
   */
  async run(ctx: object, input: unknown, lastEventId: string | undefined): Promise<void> {
    await this.pump(ctx, input, lastEventId)
    await this.cleanup
  }

  private async pump(ctx: object, input: unknown, lastEventId: string | undefined): Promise<void> {
    let iterable: unknown
    try {
      iterable = await callProcedure({ procedure: this.procedure, path: this.path, ctx, input, signal: this.controller.signal, lastEventId, peer: this.host.peer })
      if (!isAsyncIterable(iterable)) throw new RpcError('INTERNAL', `subscription "${this.path}" did not return an AsyncIterable`)
    } catch (error) {
      return this.fail(error)
    }
    const iterator = iterable[Symbol.asyncIterator]()
    this.iterator = iterator
    if (!this.active) return this.closeIterator(iterator)
    // A backend channel knows its position once the backend answered; the in-memory one at once.
    const ready = readyOf(iterator)
    if (ready !== undefined) {
      await ready
      if (!this.active) return
    }
    const position = positionOf(iterator)
    this.host.send(startedFrame(this.id, position))
    this.probe?.started(position)
    try {
      for (;;) {
        // Backpressure: a reader that is behind gets no more events pulled for it, so a generator waits at its yield.
        if (this.host.flow.congested) {
          await this.host.flow.writable()
          if (!this.active) return
          this.staleBefore = volatileNow()
        }
        const result = await iterator.next()
        if (!this.active) return
        if (result.done === true) {
          this.stop(new RpcError('CANCELLED', 'The subscription completed'), 'complete')
          return this.host.send(completeFrame(this.id))
        }
        const volatile = isVolatile(result.value) ? result.value : undefined
        if (volatile !== undefined && this.skips(volatile)) continue
        const encoded = this.encode(result.value)
        const frame = typeof encoded === 'string' ? encoded : await encoded
        if (!this.active) return
        // An output schema took a turn: the buffer may have filled meanwhile.
        if (volatile !== undefined && typeof encoded !== 'string' && this.skips(volatile)) continue
        this.host.send(frame)
        this.probe?.sent(result.value)
      }
    } catch (error) {
      this.fail(error)
    }
  }

  /** Ends the subscription (unsubscribe, disconnect, server close, its end or its error); `end` says which, for the instrumentation. Idempotent. */
  stop(reason: RpcError, end: SubscriptionEnd): void {
    if (!this.active) return
    this.release()
    this.probe?.ended(end, reason)
    this.controller.abort(reason)
    const iterator = this.iterator
    if (iterator !== undefined) this.closeIterator(iterator)
  }

  private closeIterator(iterator: AsyncIterator<unknown>): void {
    this.cleanup ??= (async () => {
      try {
        await iterator.return?.()
      } catch (error) {
        this.host.reportCleanupError(error, this.path)
      }
    })()
  }

  /**
   * Whether to skip a volatile event rather than send it: the reader is
   * above the high-water mark now (sending would only add to its buffer),
   * or the event waited while it was paused. Counts the skip.
   */
  private skips(event: VolatileEnvelope<unknown>): boolean {
    const mark = volatileMarkOf(event)
    if (mark.at > this.staleBefore && !this.host.flow.full) return false
    mark.skipped?.()
    return true
  }

  /** The frame for one yielded value; synchronous unless an output schema must be awaited. */
  private encode(value: unknown): string | Promise<string> {
    if (isResync(value)) return resyncFrame(this.id, value.reason)
    const tracked = isTracked(value)
    // What channels hand every subscriber, tracked or volatile: encoded once, stamped with each subscriber's id.
    const shared = tracked || isVolatile(value) ? value : undefined
    const output = this.procedure._def.output
    if (shared !== undefined) {
      // An event from a channel backend is sent as it was stored (or broadcast): no encoding at all.
      const stored = output === undefined ? encodedOf(shared) : undefined
      if (stored !== undefined && stored.serializer === this.host.serializer) return stampFrame('data', this.id, stored.fields)
      const cached = this.host.fanout.get(shared)
      if (cached !== undefined && cached.procedure === this.procedure) return stampFrame('data', this.id, cached.fields)
      // tracked() checks the id; an envelope made some other way is checked here, so a bad id fails this subscription, not the session.
      if (tracked && (typeof value.id !== 'string' || value.id.length > MAX_EVENT_ID_LENGTH)) {
        throw new RpcError('INTERNAL', `an event id must be a string of at most ${MAX_EVENT_ID_LENGTH} characters`)
      }
    }
    const data = shared !== undefined ? shared.data : value
    if (output === undefined) return this.serialize(shared, data)
    return validate(output, data, 'output').then((checked) => this.serialize(shared, checked))
  }

  /**
   * The `data` frame for an event. An envelope a channel hands every
   * subscriber is encoded once, as fields the next subscriber stamps with
   * its own id: a tracked one with its `eventId`, a volatile one without
   * (the client neither remembers nor resumes from it). Any other value is
   * encoded in one pass and not cached, since a generator may yield the
   * same object again after changing it.
   */
  private serialize(envelope: TrackedEnvelope<unknown> | VolatileEnvelope<unknown> | undefined, data: unknown): string {
    try {
      if (envelope === undefined) return dataFrame(this.host.serializer, this.id, data)
      // The publisher's trace context, when its channel recorded one, travels to every subscriber.
      const fields: EncodedFields = isVolatile(envelope)
        ? eventFieldsWithoutId(this.host.serializer, data, volatileMarkOf(envelope).trace)
        : eventFields(this.host.serializer, envelope.id, data, traceOf(envelope))
      this.host.fanout.set(envelope, { procedure: this.procedure, fields })
      return stampFrame('data', this.id, fields)
    } catch (cause) {
      throw new RpcError('INTERNAL', 'An event could not be serialized', { cause })
    }
  }

  /** Aborted when the subscription ends, with why: what a duplex subscription's stream input ends with. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Ends it with `error`, sent to the client (the generator threw, or its stream input failed). */
  fail(error: unknown): void {
    if (!this.active) return
    this.stop(RpcError.from(error), 'error')
    this.host.sendError(this.id, error, this.path)
  }

  private release(): void {
    if (!this.active) return
    this.active = false
    this.host.released(this)
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
}

