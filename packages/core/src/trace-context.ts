/**
 * W3C Trace Context as it travels in a message's optional `trace` field
 * (`call`, `subscribe`, `reinit`, and `data` for an event that carries its
 * producer's context) and in the upgrade request's headers. wirecall only
 * carries it: what a span is, and whether to trust a peer's ids, is the
 * instrumentation's business (see `@wirecall/otel`).
 *
 * @example
 * ```json
 * {"type":"call","id":1,"method":"query","path":"greet","input":{"name":"Ada"},
 *  "trace":{"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}
 * ```
 */
export interface TraceContext {
  /** `version-traceid-parentid-flags`, lower-case hex, as W3C Trace Context writes it. */
  traceparent: string
  /** Vendor data, at most {@link MAX_TRACESTATE_LENGTH} characters. */
  tracestate?: string
  /** W3C Baggage; propagated by the instrumentation only for the keys it allows. */
  baggage?: string
}

/** Longest `tracestate` carried; a longer one is dropped (the `traceparent` stays). */
export const MAX_TRACESTATE_LENGTH = 512
/** Longest `baggage` carried; a longer one is dropped. W3C Baggage's own limit. */
export const MAX_BAGGAGE_LENGTH = 8_192

// Version 00 has exactly these four fields. A later version may append
// fields after a dash; its first four are read the same way (W3C's rule for
// versions it does not know), and `ff` is never valid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/
const ZERO_TRACE_ID = '0'.repeat(32)
const ZERO_PARENT_ID = '0'.repeat(16)

/**
 * The trace context a peer sent, checked; `undefined` when there is none or
 * its `traceparent` is not valid. Never throws, and never makes an invalid
 * value an error: a peer's bad trace context is dropped silently. An
 * over-long `tracestate` or `baggage` is dropped on its own.
 */
export function readTraceContext(value: unknown): TraceContext | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const fields = value as Record<string, unknown>
  const traceparent = fields.traceparent
  if (!isTraceparent(traceparent)) return undefined
  const context: TraceContext = { traceparent }
  const { tracestate, baggage } = fields
  if (typeof tracestate === 'string' && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE_LENGTH) context.tracestate = tracestate
  if (typeof baggage === 'string' && baggage.length > 0 && baggage.length <= MAX_BAGGAGE_LENGTH) context.baggage = baggage
  return context
}

/**
 * The trace context of an HTTP request's `traceparent`, `tracestate` and
 * `baggage` headers (the WebSocket upgrade), checked as {@link readTraceContext} does.
 */
export function traceContextOfHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): TraceContext | undefined {
  const one = (name: string) => {
    const value = headers[name]
    return Array.isArray(value) ? value.join(',') : value
  }
  return readTraceContext({ traceparent: one('traceparent'), tracestate: one('tracestate'), baggage: one('baggage') })
}

function isTraceparent(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 512) return false
  const match = TRACEPARENT.exec(value)
  if (match === null) return false
  const [, version, traceId, parentId, , rest] = match
  if (version === 'ff' || traceId === ZERO_TRACE_ID || parentId === ZERO_PARENT_ID) return false
  // Version 00 has nothing after the flags.
  return version !== '00' || rest === undefined
}
