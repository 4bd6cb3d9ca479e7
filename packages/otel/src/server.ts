import { context, SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api'
import type { TraceContext } from '@wirecall/core'
import type {
  CallOutcome,
  ConnectionRef,
  ServerBackpressureEvent,
  ServerCallEvent,
  ServerCloseEvent,
  ServerConnectionEvent,
  ServerSubscriptionEvent,
} from '@wirecall/server'
import { ATTR, inputAttribute, isServerFault, OTHER_METHOD, REINIT_SPAN, STATUS_CANCELLED, STATUS_OK, SYSTEM } from './attributes'
import type { Setup } from './options'
import { endCallSpan, endingAttributes, endThrown, startRemoteChild, type Ending } from './spans'

/** The server's side of {@link wirecallOtel}: one function per `ServerInstrumentation` hook. */
export interface ServerHooks {
  call(call: ServerCallEvent, next: () => Promise<CallOutcome>): Promise<CallOutcome>
  subscription(event: ServerSubscriptionEvent): void
  connection(event: ServerConnectionEvent): void
  backpressure(event: ServerBackpressureEvent): void
  close(event: ServerCloseEvent): void
}

export function serverHooks(setup: Setup): ServerHooks {
  // What was counted up, so that each is counted down once, whatever order
  // or repetition the events come in: the up-down counters return to 0.
  const open = new WeakSet<ConnectionRef>()
  /** The upgrade request's trace context, which parents the calls and subscriptions that bring none of their own. */
  const upgradeTrace = new WeakMap<ConnectionRef, TraceContext>()
  const running = new WeakMap<ConnectionRef, Set<number>>()

  /** The `rpc.method` of a path: itself when the router has it, `_OTHER` when not (a peer's path is unbounded). */
  const methodOf = (path: string | undefined, known: boolean) => (known && path !== undefined ? path : OTHER_METHOD)

  async function call(event: ServerCallEvent, next: () => Promise<CallOutcome>): Promise<CallOutcome> {
    const reinit = event.method === 'reinit'
    const method = reinit ? undefined : methodOf(event.path, event.known)
    const attributes: Attributes = { [ATTR.rpcSystemName]: SYSTEM, [ATTR.method]: event.method }
    if (method !== undefined) attributes[ATTR.rpcMethod] = method
    if (event.connection.remoteAddress !== undefined) attributes[ATTR.clientAddress] = event.connection.remoteAddress
    // A reinit's input is connection params: credentials, never recorded.
    if (setup.recordInput && !reinit) {
      const input = inputAttribute(() => event.readInput())
      if (input !== undefined) attributes[ATTR.input] = input
    }
    const parent = event.trace ?? upgradeTrace.get(event.connection)
    const { span, context: active } = startRemoteChild(setup, method ?? REINIT_SPAN, SpanKind.SERVER, attributes, parent)
    const startedAt = performance.now()
    let outcome: CallOutcome
    try {
      // The resolver runs in next(): spans it starts are this span's children.
      outcome = await context.with(active, next)
    } catch (error) {
      endThrown(span, error)
      throw error
    }
    const ending = endingOf(outcome)
    endCallSpan(span, ending, 'server')
    if (method !== undefined) {
      const seconds = (performance.now() - startedAt) / 1_000
      setup.instruments().serverCallDuration.record(seconds, { [ATTR.rpcSystemName]: SYSTEM, [ATTR.rpcMethod]: method, ...endingAttributes(ending) })
    }
    return outcome
  }

  function subscription(event: ServerSubscriptionEvent): void {
    const instruments = setup.instruments()
    if (event.phase === 'end') {
      const ids = running.get(event.connection)
      if (ids?.delete(event.id) === true) instruments.subscriptions.add(-1)
      return
    }
    const method = methodOf(event.path, event.known)
    const outcome: Attributes = { [ATTR.subscriptionOutcome]: event.outcome }
    if (event.reason !== undefined) outcome[ATTR.resyncReason] = event.reason
    const attributes: Attributes = { [ATTR.rpcSystemName]: SYSTEM, [ATTR.method]: 'subscription', [ATTR.rpcMethod]: method, ...outcome }
    if (event.connection.remoteAddress !== undefined) attributes[ATTR.clientAddress] = event.connection.remoteAddress
    // The handshake only: a span for a subscription's whole life would stay open for hours.
    const { span } = startRemoteChild(setup, method, SpanKind.SERVER, attributes, event.trace ?? upgradeTrace.get(event.connection))
    if (event.outcome === 'refused') {
      const code = event.error?.code ?? 'INTERNAL'
      span.setAttributes({ [ATTR.rpcStatusCode]: code, [ATTR.errorType]: code })
      if (isServerFault(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: event.error?.message ?? code })
    } else {
      span.setAttribute(ATTR.rpcStatusCode, STATUS_OK)
      let ids = running.get(event.connection)
      if (ids === undefined) running.set(event.connection, (ids = new Set()))
      if (!ids.has(event.id)) {
        ids.add(event.id)
        instruments.subscriptions.add(1)
      }
    }
    span.end()
    if (event.resuming) instruments.subscriptionResumes.add(1, outcome)
  }

  function connection(event: ServerConnectionEvent): void {
    if (open.has(event.connection)) return
    open.add(event.connection)
    if (event.trace !== undefined) upgradeTrace.set(event.connection, event.trace)
    setup.instruments().connections.add(1)
  }

  function backpressure(event: ServerBackpressureEvent): void {
    const instruments = setup.instruments()
    instruments.sendBuffer.record(event.bufferedAmount, { [ATTR.backpressureKind]: event.kind })
    if (event.kind === 'pause') instruments.backpressurePauses.add(1)
    else if (event.kind === 'slow-consumer') instruments.slowConsumerCloses.add(1)
  }

  function close(event: ServerCloseEvent): void {
    const instruments = setup.instruments()
    // Subscriptions still counted when their connection goes (an `end` that never came) are counted down here.
    const ids = running.get(event.connection)
    if (ids !== undefined && ids.size > 0) instruments.subscriptions.add(-ids.size)
    running.delete(event.connection)
    if (open.delete(event.connection)) instruments.connections.add(-1)
  }

  return { call, subscription, connection, backpressure, close }
}

function endingOf(outcome: CallOutcome): Ending {
  switch (outcome.status) {
    case 'ok':
      return { status: 'ok' }
    case 'error':
      return { status: 'error', code: outcome.error.code, message: outcome.error.message }
    case 'cancelled':
      return { status: 'cancelled', code: STATUS_CANCELLED, reason: outcome.reason }
  }
}
