import type { ChannelPublishEvent, TraceContext } from '@wirecall/core'
import type {
  CallOutcome,
  ServerBackpressureEvent,
  ServerCallEvent,
  ServerCloseEvent,
  ServerConnectionEvent,
  ServerSubscriptionEvent,
} from '@wirecall/server'
import type {
  ClientCallEvent,
  ClientCallOutcome,
  ClientEventEvent,
  ClientReconnectEvent,
  ClientSubscriptionEvent,
} from '@wirecall/client'
import { publishHook } from './channel'
import { clientHooks } from './client'
import { resolveOptions, type WirecallOtelOptions } from './options'
import { serverHooks } from './server'

/**
 * OpenTelemetry instrumentation for wirecall: one object for
 * `createRpcServer({ instrumentation })`, `createChannel({ instrumentation })`
 * and `createRpcClient({ instrumentation })`, which tells a server's events
 * from a client's by their shape (a server's carry their `connection`). Its
 * type is a `ServerInstrumentation`, a `ChannelInstrumentation` and a
 * `ClientInstrumentation` at once. It has no `onDeliver` or
 * `onStateChange`, so the server and client skip those events entirely.
 */
export interface WirecallOtel {
  /** Server: a SERVER span per query, mutation or `reinit`, the resolver inside it; `rpc.server.call.duration`. */
  onCall(call: ServerCallEvent, next: () => Promise<CallOutcome>): Promise<CallOutcome>
  /** Client: a CLIENT span per query, mutation or `updateParams` (retries inside it), its context sent with the call; `rpc.client.call.duration`. */
  onCall(call: ClientCallEvent, next: (trace?: TraceContext) => Promise<ClientCallOutcome>): Promise<ClientCallOutcome>
  /** Server: a short SERVER span per subscription handshake with its outcome; the `wirecall.server.subscriptions` count and `wirecall.subscription.resumes`. */
  onSubscription(event: ServerSubscriptionEvent): void
  /** Client: a CLIENT span from `subscribe` to the server's answer, with its outcome; returns its context, sent with the `subscribe`. */
  onSubscription(event: ClientSubscriptionEvent): TraceContext | undefined
  /** Channel: a PRODUCER span `publish <channel name>`; returns its context, stored with the event. */
  onPublish(event: ChannelPublishEvent): TraceContext | undefined
  /** Server: `wirecall.server.connections` up. */
  onConnection(event: ServerConnectionEvent): void
  /** Server: `wirecall.server.send_buffer`, `wirecall.server.backpressure.pauses`, `wirecall.server.slow_consumer.closes`. */
  onBackpressure(event: ServerBackpressureEvent): void
  /** Server: `wirecall.server.connections` down (and any subscription still counted). */
  onClose(event: ServerCloseEvent): void
  /** Client: with `processSpans`, a CONSUMER span `process <path>` linked to the event's publisher. */
  onEvent(event: ClientEventEvent): void
  /** Client: `wirecall.client.reconnects` by close code. */
  onReconnect(event: ClientReconnectEvent): void
  /** Client: `wirecall.client.ping.rtt`. */
  onPong(event: { rttMs: number }): void
}

/**
 * Traces and metrics for a wirecall server, its channels and its clients,
 * through `@opentelemetry/api` only: spans and metrics go wherever the app's
 * OpenTelemetry SDK sends them. The same object serves every side.
 *
 * Spans follow OpenTelemetry's RPC and messaging conventions
 * (`rpc.system.name` = `wirecall`, `rpc.method` = the procedure's path or
 * `_OTHER`, `rpc.status_code`, `error.type`); a call's CLIENT span and its
 * SERVER span share one trace, through the message's `trace` field.
 * Metric attributes are bounded: paths of the router, codes, outcomes.
 *
 * @example
 * ```ts
 * import { wirecallOtel } from '@wirecall/otel'
 *
 * const otel = wirecallOtel()                       // after the OpenTelemetry SDK has started
 * const server = createRpcServer({ router, instrumentation: [otel] })
 * const room = createChannel<Message>({ name: 'room:{id}', history: 100, instrumentation: [otel] })
 * const api = createRpcClient<AppRouter>({ url, instrumentation: [otel] })
 * ```
 */
export function wirecallOtel(options: WirecallOtelOptions = {}): WirecallOtel {
  const setup = resolveOptions(options)
  const server = serverHooks(setup)
  const client = clientHooks(setup)

  function onCall(call: ServerCallEvent, next: () => Promise<CallOutcome>): Promise<CallOutcome>
  function onCall(call: ClientCallEvent, next: (trace?: TraceContext) => Promise<ClientCallOutcome>): Promise<ClientCallOutcome>
  function onCall(
    call: ServerCallEvent | ClientCallEvent,
    next: (() => Promise<CallOutcome>) | ((trace?: TraceContext) => Promise<ClientCallOutcome>),
  ): Promise<CallOutcome | ClientCallOutcome> {
    return 'connection' in call
      ? server.call(call, next as () => Promise<CallOutcome>)
      : client.call(call, next as (trace?: TraceContext) => Promise<ClientCallOutcome>)
  }

  function onSubscription(event: ServerSubscriptionEvent): void
  function onSubscription(event: ClientSubscriptionEvent): TraceContext | undefined
  function onSubscription(event: ServerSubscriptionEvent | ClientSubscriptionEvent): TraceContext | undefined {
    if (!('connection' in event)) return client.subscription(event)
    server.subscription(event)
    return undefined
  }

  return {
    onCall,
    onSubscription,
    onPublish: publishHook(setup),
    onConnection: server.connection,
    onBackpressure: server.backpressure,
    onClose: server.close,
    onEvent: client.event,
    onReconnect: client.reconnect,
    onPong: client.pong,
  }
}
