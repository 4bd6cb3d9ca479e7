import {
  RpcError,
  decodePayload,
  encodePayload,
  isStreamSource,
  resync,
  subscribeFrame,
  unsubscribeFrame,
  type DataMessage,
  type EncodedPayload,
  type ResyncReason,
  type StartedMessage,
} from '@wirecall/core'
import type { ClientLink } from './calls'
import type { Connection } from './connection'
import { streamRefusal } from './outgoing-streams'
import { IteratorSink, handlerSink, isHandlers, type SubscriptionSink } from './sinks'
import type { SubscribeOptions, SubscriptionHandlers, SubscriptionIterable, SubscriptionState } from './types'

/**
 * One subscription, from `subscribe()` to its end: the record the client
 * keeps (id, input, last event id, whether it went out on this socket), the
 * handle the app holds (`unsubscribe`, `state`, `lastEventId`, and `for
 * await` in the iterator form), and the one that delivers its events, to
 * the handlers or to the loop, through its {@link SubscriptionSink}.
 *
 * It outlives connections: when a socket drops it goes back to `pending`,
 * and the next connection sends it again with its `lastEventId`.
 */
export class ClientSubscription implements SubscriptionIterable<unknown> {
  state: SubscriptionState = 'pending'
  lastEventId: string | undefined
  /** The input, serialized once, re-sent on every (re)subscribe. */
  input: EncodedPayload | undefined
  /** Whether the subscribe message went out on the current socket. */
  sent = false
  /** It went out on an earlier socket that dropped: the next send is a resubscribe. */
  resubscribing = false
  /** The `lastEventId` the subscribe on the current socket carried: what `started` says whether it resumed from. */
  private resumingFrom: string | undefined
  /** `started` came from a stream without a position: `onStarted` waits to see whether a resync comes with it. */
  private startUndecided = false
  private declare readonly sink: SubscriptionSink
  private declare readonly signal: AbortSignal | undefined

  constructor(
    private readonly table: Subscriptions,
    readonly id: number,
    readonly path: string,
    handlers: SubscriptionHandlers<unknown> | undefined,
    options: SubscribeOptions | undefined,
  ) {
    this.lastEventId = options?.lastEventId
    this.sink = handlers === undefined ? new IteratorSink(this) : handlerSink(handlers)
    this.signal = options?.signal
  }

  /** Stops it; the server ends its generator. No callback runs afterwards. Idempotent. */
  unsubscribe(): void {
    if (this.state === 'ended') return
    this.startUndecided = false
    this.table.remove(this, 'unsubscribed')
    if (this.sent) this.table.send(unsubscribeFrame(this.id))
    this.sink.stopped()
  }

  /** The iterator form's `for await`. (The handler form's type has no iterator.) */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    const sink = this.sink as IteratorSink
    return { next: () => sink.next(), return: () => sink.return() }
  }

  /** Starts listening to the caller's signal (the subscription is its own listener); false when it has already aborted. */
  listen(): boolean {
    if (this.signal?.aborted === true) return false
    this.signal?.addEventListener('abort', this, { once: true })
    return true
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.unsubscribe()
  }

  /** Stops listening to the caller's signal: the subscription has ended. */
  dispose(): void {
    this.signal?.removeEventListener('abort', this)
  }

  /**
   * Ends it before it began: with `error` (closed client, unserializable
   * input), told to its sink once the caller has its handle; or quietly,
   * when the caller's signal had already aborted.
   */
  endEarly(error: RpcError | undefined): this {
    this.state = 'ended'
    if (error === undefined) this.sink.stopped()
    else queueMicrotask(() => this.sink.error(error))
    return this
  }

  /** The `subscribe` message for the current socket, with the trace context the instrumentation gives it. */
  frame(): string {
    const { id, path, lastEventId } = this
    this.resumingFrom = lastEventId
    const trace = this.table.link.tell?.('onSubscription', { phase: 'send', id, path, resubscribe: this.resubscribing, lastEventId, url: this.table.link.url })
    const stream = this.table.link.streams.get(id) === undefined ? undefined : true
    return subscribeFrame({ id, path, lastEventId, trace, stream }, this.input)
  }

  // ---- from the wire ----

  /**
   * The stream runs. Whether it resumed is read from the frames: a stream
   * with a position (a channel) starts at the `lastEventId` sent exactly
   * when it continued from it, and at its newest event, followed by a
   * resync, when it could not. A stream without one got the `lastEventId`
   * and resumed, unless its first message is a resync: that comes in the
   * same frame, so `onStarted` waits for the rest of the frame (a
   * microtask), or for the next message of this subscription, whichever
   * is first.
   */
  started(message: StartedMessage): void {
    if (this.state !== 'pending') return
    this.state = 'started'
    const from = this.resumingFrom
    // The position the server's stream started from: resuming from it misses nothing even before the first event.
    if (message.eventId !== undefined) this.lastEventId = message.eventId
    this.startUndecided = true
    if (from === undefined || message.eventId !== undefined) return this.decideStart(from !== undefined && message.eventId === from)
    queueMicrotask(() => this.decideStart(true))
  }

  /** Tells the instrumentation and the sink of the start, once (a start that waited, once it knows what followed it). */
  private decideStart(resumed: boolean): void {
    if (!this.startUndecided) return
    this.startUndecided = false
    this.table.link.tell?.('onSubscription', { phase: 'started', id: this.id, path: this.path, resumed })
    this.sink.started({ resumed })
  }

  /** An event, with its producer's trace context for the instrumentation (told after a start that waited for it). */
  data(value: unknown, { eventId, trace }: DataMessage): void {
    this.decideStart(true)
    if (eventId !== undefined) this.lastEventId = eventId
    this.table.link.tell?.('onEvent', { id: this.id, path: this.path, eventId, trace })
    this.sink.data(value)
  }

  resync(reason: string | undefined): void {
    this.decideStart(false)
    this.table.link.tell?.('onSubscription', { phase: 'resync', id: this.id, path: this.path })
    this.sink.resync(resync(reason as ResyncReason))
  }

  /** Ended by the server (`complete`, `error`), or by the client closing. */
  ended(error: RpcError | undefined): void {
    this.decideStart(true)
    this.table.remove(this, error ? 'error' : 'complete', error)
    if (error === undefined) this.sink.complete()
    else this.sink.error(error)
  }
}

/**
 * The live subscriptions of one client by id, across connections: starts
 * each, routes the server's messages to it, and sends them all again on a
 * new connection, each resuming after its `lastEventId`.
 */
export class Subscriptions {
  private readonly live = new Map<number, ClientSubscription>()

  constructor(readonly link: ClientLink) {}

  get size(): number {
    return this.live.size
  }

  /**
   * Starts a subscription in the handler form (when `second` holds at least
   * one handler) or the iterator form. `closed` is why the client is
   * closed, if it is: the subscription then fails at once.
   */
  subscribe(path: string, input: unknown, second: unknown, closed: RpcError | undefined): ClientSubscription {
    const handlers = isHandlers(second) ? second : undefined
    const subscription = new ClientSubscription(this, this.link.nextId(), path, handlers, second as SubscribeOptions | undefined)
    if (closed !== undefined) return subscription.endEarly(closed)
    if (!subscription.listen()) return subscription.endEarly(undefined)
    const streamed = isStreamSource(input)
    try {
      if (!streamed) subscription.input = encodePayload(this.link.serializer, input)
    } catch (cause) {
      subscription.dispose()
      return subscription.endEarly(new RpcError('BAD_REQUEST', 'The input could not be serialized', { cause }))
    }
    const max = this.link.limits?.maxSubscriptions
    if (max !== undefined && this.live.size >= max) {
      // The server would refuse it: it fails here, without a round trip.
      subscription.dispose()
      return subscription.endEarly(tooManySubscriptions(max))
    }
    this.live.set(subscription.id, subscription)
    if (streamed) {
      // A duplex subscription: its input goes out as chunks, on each connection it is sent on.
      this.link.streams.open(subscription.id, input, {
        idempotent: (second as SubscribeOptions | undefined)?.idempotent,
        fail: (error) => {
          if (subscription.sent) this.send(unsubscribeFrame(subscription.id))
          subscription.ended(error)
        },
      })
    }
    this.link.touch()
    const connection = this.link.openConnection()
    if (connection !== undefined) this.transmit(connection, subscription)
    else this.link.connect()
    return subscription
  }

  /** The connection is open: sends every subscription not yet sent on it. Returns those that resume from an earlier socket. */
  resubscribe(connection: Connection): ClientSubscription[] {
    const resumed: ClientSubscription[] = []
    const max = connection.limits.maxSubscriptions ?? Infinity
    let count = 0
    for (const subscription of [...this.live.values()]) {
      // A server that takes fewer than this client holds (a new deployment): the newest fail here, not there.
      if (++count > max) {
        subscription.ended(tooManySubscriptions(max))
        continue
      }
      if (subscription.sent) continue
      if (subscription.resubscribing) resumed.push(subscription)
      // Sent first: the frame tells the instrumentation whether it is a resubscribe.
      this.transmit(connection, subscription)
      subscription.resubscribing = false
    }
    return resumed
  }

  /** The socket dropped: every subscription waits to be sent again. */
  connectionLost(): void {
    for (const subscription of this.live.values()) {
      if (subscription.sent) subscription.resubscribing = true
      subscription.sent = false
      if (subscription.state === 'started') subscription.state = 'pending'
    }
  }

  /** The client is closed: every subscription ends with `error`. */
  endAll(error: RpcError): void {
    for (const subscription of [...this.live.values()]) subscription.ended(error)
  }

  get(id: number): ClientSubscription | undefined {
    return this.live.get(id)
  }

  /** A `data` message: decoded and delivered, or, if it cannot be decoded, the subscription ends and the server is told. */
  data(message: DataMessage): void {
    const subscription = this.live.get(message.id)
    if (subscription === undefined) return // unsubscribed: a late event is dropped
    let value: unknown
    try {
      value = decodePayload(this.link.serializer, message.data, message.meta)
    } catch (cause) {
      this.send(unsubscribeFrame(subscription.id))
      return subscription.ended(new RpcError('INTERNAL', 'An event could not be deserialized', { cause }))
    }
    subscription.data(value, message)
  }

  /** Takes a subscription out, and tells the instrumentation why; it gets no more messages from the wire. */
  remove(subscription: ClientSubscription, reason: 'complete' | 'error' | 'unsubscribed', error?: RpcError): void {
    this.link.tell?.('onSubscription', { phase: 'end', id: subscription.id, path: subscription.path, reason, error })
    subscription.state = 'ended'
    subscription.dispose()
    this.link.streams.get(subscription.id)?.stop()
    if (this.live.get(subscription.id) === subscription) this.live.delete(subscription.id)
    this.link.touch()
  }

  /** Writes a frame on the open connection, if there is one. */
  send(frame: string): void {
    this.link.openConnection()?.send(frame)
  }

  private transmit(connection: Connection, subscription: ClientSubscription): void {
    const stream = this.link.streams.get(subscription.id)
    const refused = stream === undefined ? undefined : streamRefusal(connection)
    if (refused !== undefined) return subscription.ended(refused)
    subscription.sent = true
    connection.sendPaced(subscription.frame(), subscription.id)
    stream?.attach(connection)
  }
}

function tooManySubscriptions(max: number): RpcError {
  return new RpcError('TOO_MANY_REQUESTS', `at most ${max} subscriptions per connection`, { data: { maxSubscriptions: max } })
}
