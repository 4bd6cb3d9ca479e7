import { context, SpanStatusCode, trace, type Attributes, type Context, type Span, type SpanKind } from '@opentelemetry/api'
import type { TraceContext } from '@wirecall/core'
import { ATTR, CANCELLED_EVENT, isServerFault, STATUS_OK } from './attributes'
import type { Setup } from './options'
import { extractTrace, remoteParent } from './propagation'

/** A span and the context to run its work in (the span active). */
export interface Started {
  span: Span
  context: Context
}

/**
 * Starts the span of something a peer asked for (a SERVER span) under the
 * peer's trace context: as its child when `propagate` is on, else as a new
 * root with a link to it, so a public endpoint keeps the caller's trace
 * reachable without letting the caller pick trace ids or force sampling.
 */
export function startRemoteChild(setup: Setup, name: string, kind: SpanKind, attributes: Attributes, value: TraceContext | undefined): Started {
  const base = context.active()
  const remote = value === undefined ? undefined : extractTrace(value, setup.propagate ? setup.baggageKeys : undefined)
  if (remote === undefined) return within(base, setup.tracer.startSpan(name, { kind, attributes }, base))
  if (setup.propagate) {
    const parent = remoteParent(base, remote)
    return within(parent, setup.tracer.startSpan(name, { kind, attributes }, parent))
  }
  return within(base, setup.tracer.startSpan(name, { kind, attributes, root: true, links: [{ context: remote.spanContext }] }, base))
}

function within(parent: Context, span: Span): Started {
  return { span, context: trace.setSpan(parent, span) }
}

/** How a call ended, in the terms both sides share. */
export type Ending =
  | { status: 'ok' }
  | { status: 'error'; code: string; message: string }
  /** `code`: `CANCELLED`, or a client's `TIMEOUT` (it gave up waiting: the server did not fail). */
  | { status: 'cancelled'; code: string; reason: string | undefined }

/** `rpc.status_code`, and `error.type` for an error: the attributes a call's span and duration metric share. */
export function endingAttributes(ending: Ending): Attributes {
  switch (ending.status) {
    case 'ok':
      return { [ATTR.rpcStatusCode]: STATUS_OK }
    case 'error':
      return { [ATTR.rpcStatusCode]: ending.code, [ATTR.errorType]: ending.code }
    case 'cancelled':
      return { [ATTR.rpcStatusCode]: ending.code }
  }
}

/**
 * Records how a call ended on its span, and ends it. An error sets the
 * status to ERROR on a CLIENT span always, and on a SERVER span only for
 * the server's own faults (see `isServerFault`). A cancellation is a span
 * event, not an error: the caller gave up, nothing failed.
 */
export function endCallSpan(span: Span, ending: Ending, side: 'server' | 'client'): void {
  span.setAttributes(endingAttributes(ending))
  if (ending.status === 'error' && (side === 'client' || isServerFault(ending.code))) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: ending.message })
  } else if (ending.status === 'cancelled') {
    span.addEvent(CANCELLED_EVENT, ending.reason === undefined ? undefined : { [ATTR.cancelReason]: ending.reason })
  }
  span.end()
}

/** Ends a span whose work threw (a hook chain broken below this one): ERROR, then rethrown by the caller. */
export function endThrown(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) })
  span.end()
}
