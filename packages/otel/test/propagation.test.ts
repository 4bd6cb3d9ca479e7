import { describe, expect, it } from 'vitest'
import { context, propagation, ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api'
import { initRpc } from '@wirecall/core'
import { connectClient, startServer, waitUntil } from '../../../tests/helpers/harness'
import { extractTrace, injectTrace } from '../src/propagation'
import { otelFixture, registerOtelGlobals } from './otel-fixture'

/**
 * Trace context without a registered propagator (an app that set up a
 * tracer but not `propagation.setGlobalPropagator`): the `trace` field is
 * W3C Trace Context by definition, so `@wirecall/otel` writes and reads it
 * itself, and a call is still one trace. Baggage needs the W3C Baggage
 * propagator, so none travels here.
 */

registerOtelGlobals({ propagators: false })

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const SPAN_ID = '00f067aa0ba902b7'

describe('without a registered propagator', () => {
  it('writes the W3C traceparent and tracestate of the active span', () => {
    const spanContext = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: false }
    const active = trace.setSpanContext(ROOT_CONTEXT, spanContext)
    expect(injectTrace(active, undefined)).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` })
    expect(injectTrace(ROOT_CONTEXT, undefined)).toBeUndefined()
    const withState = trace.setSpanContext(ROOT_CONTEXT, { ...spanContext, traceFlags: TraceFlags.NONE, traceState: extractTrace({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`, tracestate: 'a=1,b=2' }, undefined)!.spanContext.traceState! })
    expect(injectTrace(withState, new Set(['tenant']))).toEqual({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00`, tracestate: 'a=1,b=2' })
  })

  it('reads a traceparent into a remote span context', () => {
    expect(extractTrace({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'vendor=x' }, undefined)).toMatchObject({
      spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true },
      baggage: undefined,
    })
    expect(extractTrace({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, tracestate: 'vendor=x' }, undefined)?.spanContext.traceState?.get('vendor')).toBe('x')
  })

  it('still makes one trace of a call over real sockets', async () => {
    const fixture = otelFixture()
    const rpc = initRpc.create()
    const router = rpc.router({ hello: rpc.procedure.query(() => 'hi') })
    const { url } = await startServer({ router, instrumentation: [fixture.otel()] })
    const api = connectClient<typeof router>(url, { instrumentation: [fixture.otel({ baggage: ['tenant'] })] })
    const bag = propagation.createBaggage({ tenant: { value: 'acme' } })
    await context.with(propagation.setBaggage(context.active(), bag), () => api.hello.query())
    await waitUntil(() => fixture.spans().some((s) => s.kind === SpanKind.SERVER), 'the SERVER span')
    const client = fixture.span('hello', SpanKind.CLIENT)
    const server = fixture.span('hello', SpanKind.SERVER)
    expect(server.spanContext().traceId).toBe(client.spanContext().traceId)
    expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId)
  })
})
