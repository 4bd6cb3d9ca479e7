import { context, SpanKind, trace, TraceFlags, type Attributes } from '@opentelemetry/api'
import type { ChannelPublishEvent, TraceContext } from '@wirecall/core'
import { ATTR, SYSTEM } from './attributes'
import type { Setup } from './options'
import { spanTrace } from './propagation'

/**
 * A PRODUCER span for one publish, a child of whatever is active (the
 * resolver's SERVER span, say), ended at once: publishing is a hand-over,
 * not work. Its context is stored with the event and reaches every
 * subscriber, whose `process` spans link to it. Baggage never travels
 * with it: an event goes to many readers.
 */
export function publishHook(setup: Setup): (event: ChannelPublishEvent) => TraceContext | undefined {
  return (event) => {
    const attributes: Attributes = {
      [ATTR.messagingSystem]: SYSTEM,
      [ATTR.messagingOperationType]: 'send',
      [ATTR.messagingOperationName]: 'publish',
      [ATTR.channelTopic]: event.topic,
      [ATTR.channelSubscribers]: event.subscribers,
    }
    // A channel with a backend learns the id only once the backend stored the event: '' then, and no id attribute.
    if (event.eventId !== '') attributes[ATTR.messagingMessageId] = event.eventId
    // The channel's name is a template (`room:{id}`), never a topic key: safe as a destination.
    if (event.channel !== undefined) {
      attributes[ATTR.messagingDestinationName] = event.channel
      attributes[ATTR.messagingDestinationTemplate] = event.channel
    }
    const parent = context.active()
    const span = setup.tracer.startSpan(event.channel === undefined ? 'publish' : `publish ${event.channel}`, { kind: SpanKind.PRODUCER, attributes }, parent)
    span.end()
    // An unsampled publish sends nothing: its context would cost every subscriber's frame bytes to link to no span.
    return (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0 ? undefined : spanTrace(trace.setSpan(parent, span))
  }
}
