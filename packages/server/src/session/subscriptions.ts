import { RpcError, type Serializer, type StreamSchema, type SubscribeMessage } from '@wirecall/core'
import type { FanoutCache } from './config'
import type { FlowControl } from './flow-control'
import { SubscriptionProbe, subscriptionRefused, traceOfMessage } from './hooks'
import { streamMismatch } from './incoming-streams'
import { isKnown, lookupProcedure } from './lookup'
import { decodeInput } from './payload'
import type { Session } from './session'
import { ServerSubscription, type SubscriptionHost } from './subscription'

/**
 * The live subscriptions of one session, by id (they share the id space
 * with calls), and what each of them needs from the session: it is their
 * {@link SubscriptionHost}. Made on the session's first `subscribe`.
 */
export class SubscriptionTable implements SubscriptionHost {
  private readonly live = new Map<number, ServerSubscription>()
  readonly serializer: Serializer
  readonly fanout: FanoutCache
  readonly flow: FlowControl

  constructor(private readonly session: Session) {
    this.serializer = session.config.serializer
    this.fanout = session.config.fanout
    this.flow = session.flow
  }

  get size(): number {
    return this.live.size
  }

  has(id: number): boolean {
    return this.live.has(id)
  }

  /** Starts a subscription, or answers why not with a per-subscription error. */
  subscribe(message: SubscribeMessage): void {
    const { session } = this
    const { id, path } = message
    const inUse = session.refuseIdInUse(id, path, 'subscription')
    if (inUse !== undefined) return this.refused(message, inUse)
    const { config } = session
    if (this.live.size >= config.maxSubscriptions) {
      const error = new RpcError('TOO_MANY_REQUESTS', `at most ${config.maxSubscriptions} subscriptions per connection`)
      return this.refused(message, session.sendError(id, error, path, 'subscription'))
    }
    const procedure = lookupProcedure(config, path, 'subscription')
    if (procedure instanceof RpcError) return this.refused(message, session.sendError(id, procedure, path, 'subscription'))
    const streamSchema = procedure._def.streamInput
    const mismatch = streamMismatch(path, streamSchema, message.stream === true, undefined)
    if (mismatch !== undefined) return this.refused(message, session.sendError(id, mismatch, path, 'subscription'))
    let input: unknown
    try {
      if (streamSchema === undefined) input = decodeInput(config, message.input, message.meta)
    } catch (error) {
      return this.refused(message, session.sendError(id, error, path, 'subscription'))
    }
    const hooks = config.instrumentation
    const probe =
      hooks === undefined
        ? undefined
        : new SubscriptionProbe(hooks, session, session.observed!.ref, id, path, traceOfMessage(message), message.lastEventId)
    const subscription = new ServerSubscription(id, path, procedure, this, probe)
    this.live.set(id, subscription)
    if (streamSchema !== undefined) input = this.openStream(subscription, streamSchema)
    session.track(subscription.run(session.ctx!, input, message.lastEventId))
  }

  /**
   * A duplex subscription's stream input, whose first credit goes out now:
   * it ends with the subscription (its iterator throws why), and a stream
   * that fails on its own (a bad chunk, a limit) ends the subscription with
   * its error.
   */
  private openStream(subscription: ServerSubscription, schema: StreamSchema): unknown {
    const stream = this.session.incomingStreams().open(subscription.id, schema, { fail: (error) => subscription.fail(error) })
    const { signal } = subscription
    signal.addEventListener('abort', () => stream.abort(RpcError.from(signal.reason)), { once: true })
    return stream
  }

  /** Tells the instrumentation, if any, of a subscribe refused before it had a subscription. */
  private refused(message: SubscribeMessage, error: RpcError): void {
    const hooks = this.session.config.instrumentation
    if (hooks === undefined) return
    subscriptionRefused(hooks, this.session, this.session.observed!.ref, message, isKnown(this.session.config, message.path, 'subscription'), error)
  }

  /** The client unsubscribed. Unknown ids are ignored: the subscription may have just ended. */
  unsubscribe(id: number): void {
    this.live.get(id)?.stop(new RpcError('CANCELLED', 'The client unsubscribed'), 'unsubscribed')
  }

  /** The session is gone: every subscription stops with `reason`. */
  stopAll(reason: RpcError): void {
    if (this.live.size === 0) return
    const subscriptions = [...this.live.values()]
    this.live.clear()
    for (const subscription of subscriptions) subscription.stop(reason, 'closed')
  }

  // ---- SubscriptionHost ----

  get peer(): object {
    return this.session.peer
  }

  send(frame: string): void {
    this.session.write(frame)
  }

  sendError(id: number, error: unknown, path: string): void {
    this.session.sendError(id, error, path, 'subscription')
  }

  released(subscription: ServerSubscription): void {
    if (this.live.get(subscription.id) === subscription) this.live.delete(subscription.id)
  }

  reportCleanupError(error: unknown, path: string): void {
    this.session.report(RpcError.from(error), path, 'subscription')
  }
}
