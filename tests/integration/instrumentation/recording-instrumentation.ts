import type { TraceContext } from '@wirecall/core'
import type {
  CallOutcome,
  ServerBackpressureEvent,
  ServerCallEvent,
  ServerCloseEvent,
  ServerConnectionEvent,
  ServerDeliverEvent,
  ServerInstrumentation,
  ServerSubscriptionEvent,
} from '@wirecall/server'
import type { ChannelPublishEvent } from '@wirecall/core'

/** One hook call, in the order they came. */
export type Recorded =
  | { hook: 'connection'; event: ServerConnectionEvent }
  | { hook: 'call'; event: ServerCallEvent }
  | { hook: 'outcome'; event: ServerCallEvent; outcome: CallOutcome }
  | { hook: 'subscription'; event: ServerSubscriptionEvent }
  | { hook: 'deliver'; event: ServerDeliverEvent }
  | { hook: 'backpressure'; event: ServerBackpressureEvent }
  | { hook: 'close'; event: ServerCloseEvent }
  | { hook: 'publish'; event: ChannelPublishEvent }

type Of<H extends Recorded['hook']> = Extract<Recorded, { hook: H }>

/**
 * An instrumentation that writes down every hook call, with no
 * OpenTelemetry: what a logger or a metrics system would see. `publishTrace`
 * is what its `onPublish` returns (a channel records it with the event).
 */
export function recordingInstrumentation(options: { publishTrace?: TraceContext; onBackpressure?: (event: ServerBackpressureEvent) => void } = {}) {
  const log: Recorded[] = []
  const instrumentation: ServerInstrumentation = {
    onConnection: (event) => void log.push({ hook: 'connection', event }),
    onCall: async (event, next) => {
      log.push({ hook: 'call', event })
      const outcome = await next()
      log.push({ hook: 'outcome', event, outcome })
      return outcome
    },
    onSubscription: (event) => void log.push({ hook: 'subscription', event }),
    onDeliver: (event) => void log.push({ hook: 'deliver', event }),
    onBackpressure: (event) => {
      log.push({ hook: 'backpressure', event })
      options.onBackpressure?.(event)
    },
    onClose: (event) => void log.push({ hook: 'close', event }),
    onPublish: (event) => {
      log.push({ hook: 'publish', event })
      return options.publishTrace
    },
  }
  return {
    instrumentation,
    log,
    /** The recorded calls of one hook, in order. */
    of<H extends Recorded['hook']>(hook: H): Of<H>[] {
      return log.filter((entry): entry is Of<H> => entry.hook === hook)
    },
    /** The outcome recorded for call `id` on connection `connection` (the first connection by default). */
    outcomeOf(id: number, connection?: number): CallOutcome | undefined {
      return log.find((entry): entry is Of<'outcome'> => entry.hook === 'outcome' && entry.event.id === id && (connection === undefined || entry.event.connection.id === connection))
        ?.outcome
    },
    /** The subscription events of subscription `id`, in order. */
    subscription(id: number): ServerSubscriptionEvent[] {
      return log.filter((entry): entry is Of<'subscription'> => entry.hook === 'subscription' && entry.event.id === id).map((entry) => entry.event)
    },
  }
}

export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
export const PRODUCER_TRACE: TraceContext = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'vendor=p' }
