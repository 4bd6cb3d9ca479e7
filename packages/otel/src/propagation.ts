import {
  createTraceState,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Baggage,
  type Context,
  type SpanContext,
} from '@opentelemetry/api'
import type { TraceContext } from '@wirecall/core'

/**
 * Between OpenTelemetry's context and wirecall's `trace` field. The global
 * propagator (W3C Trace Context and Baggage, which the Node SDK and
 * `WebTracerProvider.register()` install) reads and writes the carrier, so
 * an app's propagation settings hold on the socket as on HTTP. The field is
 * W3C Trace Context by definition, so when no propagator writes (or reads)
 * a `traceparent` (nothing registered, or another format such as B3), this
 * module writes (or reads) the W3C form of the span context itself.
 */

/** Longest `tracestate` sent: `@wirecall/core`'s MAX_TRACESTATE_LENGTH (a server drops a longer one). Written here so this package imports types only. */
const MAX_TRACESTATE_LENGTH = 512

/** Baggage keys allowed across the socket; `undefined` when none is. */
export type BaggageKeys = ReadonlySet<string> | undefined

/**
 * The trace context to send for `context`'s span, with the baggage entries
 * whose keys are allowed (none unless listed); `undefined` when the context
 * has no valid span (no SDK, or tracing off).
 */
export function injectTrace(context: Context, baggageKeys: BaggageKeys): TraceContext | undefined {
  const carrier: Record<string, string> = {}
  propagation.inject(withAllowedBaggage(context, baggageKeys), carrier)
  const spanContext = trace.getSpanContext(context)
  let traceparent = carrier.traceparent
  let tracestate = carrier.tracestate
  if (traceparent === undefined) {
    if (spanContext === undefined || !isSpanContextValid(spanContext)) return undefined
    traceparent = formatTraceparent(spanContext)
    tracestate = spanContext.traceState?.serialize()
  }
  const result: TraceContext = { traceparent }
  if (tracestate !== undefined && tracestate !== '' && tracestate.length <= MAX_TRACESTATE_LENGTH) result.tracestate = tracestate
  if (baggageKeys !== undefined && carrier.baggage !== undefined && carrier.baggage !== '') result.baggage = carrier.baggage
  return result
}

/** The trace context of a span alone, no baggage (a publisher's, stored with its event for every subscriber). */
export function spanTrace(context: Context): TraceContext | undefined {
  return injectTrace(propagation.deleteBaggage(context), undefined)
}

/** What a peer's trace context says: its span, and the baggage entries allowed (if any). */
export interface RemoteTrace {
  spanContext: SpanContext
  baggage: Baggage | undefined
}

/** The peer's span context and allowed baggage from a (checked) trace context; `undefined` when it holds no valid span. */
export function extractTrace(value: TraceContext, baggageKeys: BaggageKeys): RemoteTrace | undefined {
  const carrier: Record<string, string> = { traceparent: value.traceparent }
  if (value.tracestate !== undefined) carrier.tracestate = value.tracestate
  if (baggageKeys !== undefined && value.baggage !== undefined) carrier.baggage = value.baggage
  const extracted = propagation.extract(ROOT_CONTEXT, carrier)
  let spanContext = trace.getSpanContext(extracted)
  if (spanContext === undefined || !isSpanContextValid(spanContext)) spanContext = parseTraceparent(value)
  if (spanContext === undefined) return undefined
  const baggage = propagation.getBaggage(extracted)
  return { spanContext, baggage: baggage === undefined ? undefined : allowedBaggage(baggage, baggageKeys) }
}

/** `base` with the peer's span as its active span (a remote parent) and its allowed baggage. */
export function remoteParent(base: Context, remote: RemoteTrace): Context {
  const context = trace.setSpanContext(base, remote.spanContext)
  return remote.baggage === undefined ? propagation.deleteBaggage(context) : propagation.setBaggage(context, remote.baggage)
}

function withAllowedBaggage(context: Context, baggageKeys: BaggageKeys): Context {
  const baggage = propagation.getBaggage(context)
  if (baggage === undefined) return context
  const allowed = allowedBaggage(baggage, baggageKeys)
  return allowed === undefined ? propagation.deleteBaggage(context) : propagation.setBaggage(context, allowed)
}

function allowedBaggage(baggage: Baggage, baggageKeys: BaggageKeys): Baggage | undefined {
  if (baggageKeys === undefined) return undefined
  const entries = baggage.getAllEntries().filter(([key]) => baggageKeys.has(key))
  return entries.length === 0 ? undefined : propagation.createBaggage(Object.fromEntries(entries))
}

function formatTraceparent({ traceId, spanId, traceFlags }: SpanContext): string {
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

/** The span context of a W3C `traceparent` that `@wirecall/core` has already checked (version, lengths, hex, non-zero ids). */
function parseTraceparent({ traceparent, tracestate }: TraceContext): SpanContext | undefined {
  const [, traceId, spanId, flags] = traceparent.split('-')
  if (traceId === undefined || spanId === undefined || flags === undefined) return undefined
  const spanContext: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 0xff, isRemote: true }
  if (tracestate !== undefined) spanContext.traceState = createTraceState(tracestate)
  return isSpanContextValid(spanContext) ? spanContext : undefined
}
