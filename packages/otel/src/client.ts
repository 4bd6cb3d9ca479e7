import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Link, type Span } from '@opentelemetry/api'
import type {
  ClientCallEvent,
  ClientCallOutcome,
  ClientEventEvent,
  ClientReconnectEvent,
  ClientSubscriptionEvent,
} from '@wirecall/client'
import type { TraceContext } from '@wirecall/core'
import { ATTR, inputAttribute, REINIT_SPAN, serverAttributes, STATUS_OK, SYSTEM } from './attributes'
import type { Setup } from './options'
import { extractTrace, injectTrace } from './propagation'
import { endCallSpan, endingAttributes, endThrown, type Ending } from './spans'

/** The client's side of {@link wirecallOtel}: one function per `ClientInstrumentation` hook. */
export interface ClientHooks {
  call(call: ClientCallEvent, next: (trace?: TraceContext) => Promise<ClientCallOutcome>): Promise<ClientCallOutcome>
  subscription(event: ClientSubscriptionEvent): TraceContext | undefined
  event(event: ClientEventEvent): void
  reconnect(event: ClientReconnectEvent): void
  pong(event: { rttMs: number }): void
}

/** A subscription's handshake span, from its `subscribe` to the server's answer. */
interface Handshake {
  span: Span
  /** Whether the subscribe carried a `lastEventId`: an answer that did not resume then means a resync. */
  resuming: boolean
}

export function clientHooks(setup: Setup): ClientHooks {
  // Handshakes waiting for their answer, by subscription id and path (one
  // instance may serve several clients, whose ids overlap). One entry per
  // live handshake: removed at its answer, at the subscription's end, or
  // replaced by its next send.
  const handshakes = new Map<string, Handshake>()

  // Most clients use one URL: parse it once, not per call.
  let lastUrl: string | undefined
  let lastServer: Attributes = {}
  const serverOf = (url: string | undefined): Attributes => {
    if (url !== lastUrl) {
      lastUrl = url
      lastServer = serverAttributes(url)
    }
    return lastServer
  }

  async function call(event: ClientCallEvent, next: (trace?: TraceContext) => Promise<ClientCallOutcome>): Promise<ClientCallOutcome> {
    const reinit = event.method === 'reinit'
    // The client cannot tell a path its server lacks; its paths come from its own code, so they are bounded.
    const method = reinit ? undefined : event.path
    const server = serverOf(event.url)
    const attributes: Attributes = { [ATTR.rpcSystemName]: SYSTEM, [ATTR.method]: event.method, ...server }
    if (method !== undefined) attributes[ATTR.rpcMethod] = method
    // A reinit's input is connection params: credentials, never recorded.
    if (setup.recordInput && !reinit) {
      const input = inputAttribute(() => event.input)
      if (input !== undefined) attributes[ATTR.input] = input
    }
    const parent = context.active()
    const span = setup.tracer.startSpan(method ?? REINIT_SPAN, { kind: SpanKind.CLIENT, attributes }, parent)
    const active = trace.setSpan(parent, span)
    const sent = setup.propagate ? injectTrace(active, setup.baggageKeys) : undefined
    const startedAt = performance.now()
    let outcome: ClientCallOutcome
    try {
      // next() is called synchronously here, as the hook contract asks, inside this span's context.
      outcome = await context.with(active, () => next(sent))
    } catch (error) {
      endThrown(span, error)
      throw error
    }
    const ending: Ending =
      outcome.status === 'ok'
        ? { status: 'ok' }
        : outcome.status === 'error'
          ? { status: 'error', code: outcome.error.code, message: outcome.error.message }
          : { status: 'cancelled', code: outcome.error.code, reason: undefined }
    endCallSpan(span, ending, 'client')
    if (method !== undefined) {
      const seconds = (performance.now() - startedAt) / 1_000
      setup.instruments().clientCallDuration.record(seconds, { [ATTR.rpcSystemName]: SYSTEM, [ATTR.rpcMethod]: method, ...server, ...endingAttributes(ending) })
    }
    return outcome
  }

  function subscription(event: ClientSubscriptionEvent): TraceContext | undefined {
    const key = `${event.id} ${event.path}`
    switch (event.phase) {
      case 'send': {
        // A handshake the socket took away before its answer: ended without an outcome.
        handshakes.get(key)?.span.end()
        const attributes: Attributes = {
          [ATTR.rpcSystemName]: SYSTEM,
          [ATTR.method]: 'subscription',
          [ATTR.rpcMethod]: event.path,
          ...serverOf(event.url),
        }
        const parent = context.active()
        const span = setup.tracer.startSpan(event.path, { kind: SpanKind.CLIENT, attributes }, parent)
        handshakes.set(key, { span, resuming: event.lastEventId !== undefined })
        return setup.propagate ? injectTrace(trace.setSpan(parent, span), setup.baggageKeys) : undefined
      }
      case 'started': {
        const handshake = handshakes.get(key)
        if (handshake === undefined) return undefined
        handshakes.delete(key)
        // The client learns only that it did not resume: the server's span says why (trimmed, unknown-id).
        const outcome = event.resumed ? 'resumed' : handshake.resuming ? 'resync' : 'started'
        handshake.span.setAttributes({ [ATTR.subscriptionOutcome]: outcome, [ATTR.rpcStatusCode]: STATUS_OK })
        handshake.span.end()
        return undefined
      }
      case 'resync':
        // A resync after the handshake (a subscriber that fell behind) is no handshake's outcome.
        return undefined
      case 'end': {
        const handshake = handshakes.get(key)
        if (handshake === undefined) return undefined
        handshakes.delete(key)
        // Ended before it started: the server refused it, or the client gave up.
        if (event.error !== undefined) {
          const code = event.error.code
          handshake.span.setAttributes({ [ATTR.subscriptionOutcome]: 'refused', [ATTR.rpcStatusCode]: code, [ATTR.errorType]: code })
          handshake.span.setStatus({ code: SpanStatusCode.ERROR, message: event.error.message })
        }
        handshake.span.end()
        return undefined
      }
    }
  }

  function event(event: ClientEventEvent): void {
    if (!setup.processSpans) return
    const producer = event.trace === undefined ? undefined : extractTrace(event.trace, undefined)
    const links: Link[] = producer === undefined ? [] : [{ context: producer.spanContext }]
    const attributes: Attributes = {
      [ATTR.messagingSystem]: SYSTEM,
      [ATTR.messagingOperationType]: 'process',
      [ATTR.messagingOperationName]: 'process',
      [ATTR.messagingDestinationName]: event.path,
    }
    if (event.eventId !== undefined) attributes[ATTR.messagingMessageId] = event.eventId
    setup.tracer.startSpan(`process ${event.path}`, { kind: SpanKind.CONSUMER, attributes, links }, context.active()).end()
  }

  function reconnect(event: ClientReconnectEvent): void {
    setup.instruments().clientReconnects.add(1, { [ATTR.closeCode]: String(event.code) })
  }

  function pong(event: { rttMs: number }): void {
    setup.instruments().clientPingRtt.record(event.rttMs / 1_000)
  }

  return { call, subscription, event, reconnect, pong }
}
