import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { z } from 'zod'
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { initRpc, RpcError } from '@wirecall/core'
import { connectClient, gate, readyPeer, rpcErrorOf, startServer, untilAborted, waitUntil } from '../../../tests/helpers/harness'
import { histogramPoints, otelFixture, registerOtelGlobals, type OtelFixture } from './otel-fixture'

/**
 * A query or mutation traced end to end over real sockets: the client's
 * CLIENT span, its context in the call's `trace` field, the server's SERVER
 * span as its child with the resolver inside it, their attributes under
 * OpenTelemetry's RPC conventions, and what the server does with a trace
 * context it cannot or must not trust.
 */

registerOtelGlobals()

const rpc = initRpc.create()

function makeRouter(fixture: OtelFixture, hang = gate()) {
  return rpc.router({
    greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) =>
      // A span of the resolver's own: it must be the SERVER span's child.
      fixture.tracer.startActiveSpan('db.lookup', (span) => {
        span.end()
        return `hello ${input.name}`
      }),
    ),
    tenant: rpc.procedure.query(() => propagation.getBaggage(context.active())?.getAllEntries().map(([key, entry]) => `${key}=${entry.value}`) ?? []),
    missing: rpc.procedure.query((): string => {
      throw new RpcError('NOT_FOUND', 'no such post')
    }),
    broken: rpc.procedure.query((): string => {
      throw new Error('the database is down')
    }),
    post: { add: rpc.procedure.input(z.object({ title: z.string() })).mutation(({ input }) => input.title.length) },
    hang: rpc.procedure.query(async ({ signal }) => {
      hang.open()
      await untilAborted(signal)
      return 0
    }),
  })
}
type R = ReturnType<typeof makeRouter>

/** A server and a client, each with its own `wirecallOtel` of one fixture (as two processes would have). */
async function setup(options: { server?: Parameters<OtelFixture['otel']>[0]; client?: Parameters<OtelFixture['otel']>[0] } = {}) {
  const fixture = otelFixture()
  const hang = gate()
  const { url, port } = await startServer({ router: makeRouter(fixture, hang), instrumentation: [fixture.otel(options.server)] })
  const api = connectClient<R>(url, { instrumentation: [fixture.otel(options.client)] })
  return { fixture, api, url, port, hang }
}

/** Waits for the SERVER span `name` (it ends once the answer is written, which can be after the client has it). */
async function serverSpan(fixture: OtelFixture, name: string): Promise<ReadableSpan> {
  await waitUntil(() => fixture.spans().some((s) => s.name === name && s.kind === SpanKind.SERVER), `the SERVER span ${name}`)
  return fixture.span(name, SpanKind.SERVER)
}

const DEPRECATED = /^rpc\.(system|service)$|^rpc\.message\./
const isIPv4Loopback = (address: unknown) => address === '127.0.0.1' || address === '::ffff:127.0.0.1'

describe('a call traced from client to server', () => {
  it('makes one CLIENT and one SERVER span with the same trace id, the SERVER span the child of the CLIENT span, and the resolver inside it', async () => {
    const { fixture, api, port } = await setup()
    expect(await api.greet.query({ name: 'Ada' })).toBe('hello Ada')
    const server = await serverSpan(fixture, 'greet')
    const client = fixture.span('greet', SpanKind.CLIENT)
    const resolver = fixture.span('db.lookup', SpanKind.INTERNAL)

    expect(server.spanContext().traceId).toBe(client.spanContext().traceId)
    expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId)
    expect(client.parentSpanContext).toBeUndefined()
    expect(resolver.spanContext().traceId).toBe(client.spanContext().traceId)
    expect(resolver.parentSpanContext?.spanId).toBe(server.spanContext().spanId)

    expect(client.attributes).toEqual({
      'rpc.system.name': 'wirecall',
      'rpc.method': 'greet',
      'rpc.status_code': 'OK',
      'wirecall.method': 'query',
      'server.address': '127.0.0.1',
      'server.port': port,
    })
    expect(server.attributes).toMatchObject({ 'rpc.system.name': 'wirecall', 'rpc.method': 'greet', 'rpc.status_code': 'OK', 'wirecall.method': 'query' })
    expect(isIPv4Loopback(server.attributes['client.address'])).toBe(true)
    for (const span of [client, server]) {
      expect(span.status.code).toBe(SpanStatusCode.UNSET)
      expect(span.events).toEqual([])
      expect(Object.keys(span.attributes).filter((key) => DEPRECATED.test(key))).toEqual([])
      expect(span.attributes['wirecall.input']).toBeUndefined()
    }
  })

  it('works with one object on both sides, as when a server calls itself', async () => {
    const fixture = otelFixture()
    const otel = fixture.otel()
    const { url } = await startServer({ router: makeRouter(fixture), instrumentation: [otel] })
    const api = connectClient<R>(url, { instrumentation: [otel] })
    await api.greet.query({ name: 'Ada' })
    const server = await serverSpan(fixture, 'greet')
    expect(server.parentSpanContext?.spanId).toBe(fixture.span('greet', SpanKind.CLIENT).spanContext().spanId)
  })

  it('records a mutation, and both call durations in seconds with bounded attributes', async () => {
    const { fixture, api, port } = await setup()
    expect(await api.post.add.mutate({ title: 'hi' })).toBe(2)
    const server = await serverSpan(fixture, 'post.add')
    expect(server.attributes).toMatchObject({ 'rpc.method': 'post.add', 'wirecall.method': 'mutation' })
    expect(fixture.span('post.add', SpanKind.CLIENT).attributes).toMatchObject({ 'rpc.method': 'post.add', 'wirecall.method': 'mutation' })

    const metrics = await fixture.metrics()
    const serverDuration = metrics.get('rpc.server.call.duration')
    const clientDuration = metrics.get('rpc.client.call.duration')
    expect(serverDuration?.descriptor.unit).toBe('s')
    expect(clientDuration?.descriptor.unit).toBe('s')
    const [serverPoint] = histogramPoints(serverDuration, { 'rpc.method': 'post.add' })
    expect(serverPoint?.attributes).toEqual({ 'rpc.system.name': 'wirecall', 'rpc.method': 'post.add', 'rpc.status_code': 'OK' })
    expect(serverPoint?.value.count).toBe(1)
    const [clientPoint] = histogramPoints(clientDuration, { 'rpc.method': 'post.add' })
    expect(clientPoint?.attributes).toEqual({
      'rpc.system.name': 'wirecall',
      'rpc.method': 'post.add',
      'rpc.status_code': 'OK',
      'server.address': '127.0.0.1',
      'server.port': port,
    })
    // The client's wait includes the server's work.
    expect(clientPoint!.value.sum!).toBeGreaterThanOrEqual(serverPoint!.value.sum!)
  })

  it("records an error's code as rpc.status_code and error.type: an ERROR on the CLIENT span, and on the SERVER span only when it is the server's fault", async () => {
    const { fixture, api } = await setup()
    expect((await rpcErrorOf(api.missing.query())).code).toBe('NOT_FOUND')
    expect((await rpcErrorOf(api.broken.query())).code).toBe('INTERNAL')
    const notFound = { server: await serverSpan(fixture, 'missing'), client: fixture.span('missing', SpanKind.CLIENT) }
    const internal = { server: await serverSpan(fixture, 'broken'), client: fixture.span('broken', SpanKind.CLIENT) }

    for (const span of [notFound.client, notFound.server]) expect(span.attributes).toMatchObject({ 'rpc.status_code': 'NOT_FOUND', 'error.type': 'NOT_FOUND' })
    for (const span of [internal.client, internal.server]) expect(span.attributes).toMatchObject({ 'rpc.status_code': 'INTERNAL', 'error.type': 'INTERNAL' })
    expect(notFound.client.status).toEqual({ code: SpanStatusCode.ERROR, message: 'no such post' })
    expect(notFound.server.status.code).toBe(SpanStatusCode.UNSET)
    expect(internal.client.status.code).toBe(SpanStatusCode.ERROR)
    expect(internal.server.status.code).toBe(SpanStatusCode.ERROR)

    const durations = (await fixture.metrics()).get('rpc.server.call.duration')
    expect(histogramPoints(durations, { 'rpc.method': 'missing' })[0]?.attributes).toMatchObject({ 'rpc.status_code': 'NOT_FOUND', 'error.type': 'NOT_FOUND' })
  })

  it('names a path the router does not have _OTHER on the server, in the span and in the metric', async () => {
    const { fixture, api } = await setup()
    const untyped = api as unknown as { no: { such: { path: { query(): Promise<unknown> } } } }
    expect((await rpcErrorOf(untyped.no.such.path.query())).code).toBe('NOT_FOUND')
    const server = await serverSpan(fixture, '_OTHER')
    expect(server.attributes).toMatchObject({ 'rpc.method': '_OTHER', 'rpc.status_code': 'NOT_FOUND', 'error.type': 'NOT_FOUND' })
    // The client's paths come from its own code: it keeps its name, in the same trace.
    expect(fixture.span('no.such.path', SpanKind.CLIENT).spanContext().traceId).toBe(server.spanContext().traceId)
    const durations = (await fixture.metrics()).get('rpc.server.call.duration')
    expect(histogramPoints(durations).map((point) => point.attributes['rpc.method'])).toEqual(['_OTHER'])
  })

  it('records a cancelled call as a span event on both sides, not as an error', async () => {
    const { fixture, api, hang } = await setup()
    const controller = new AbortController()
    const call = api.hang.query(undefined, { signal: controller.signal })
    await hang.opened
    controller.abort()
    expect((await rpcErrorOf(call)).code).toBe('CANCELLED')
    const server = await serverSpan(fixture, 'hang')
    const client = fixture.span('hang', SpanKind.CLIENT)
    for (const span of [client, server]) {
      expect(span.status.code).toBe(SpanStatusCode.UNSET)
      expect(span.attributes['rpc.status_code']).toBe('CANCELLED')
      expect(span.attributes['error.type']).toBeUndefined()
      expect(span.events.map((event) => event.name)).toEqual(['cancelled'])
    }
    expect(server.events[0]?.attributes).toEqual({ 'wirecall.cancel.reason': 'cancel' })
  })

  it('traces updateParams as wirecall.reinit, without its params even when inputs are recorded', async () => {
    const { fixture, api } = await setup({ server: { recordInput: true }, client: { recordInput: true } })
    await api.greet.query({ name: 'Ada' })
    await api.$connection.updateParams({ token: 'secret' })
    const server = await serverSpan(fixture, 'wirecall.reinit')
    const client = fixture.span('wirecall.reinit', SpanKind.CLIENT)
    expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId)
    for (const span of [client, server]) {
      expect(span.attributes).toMatchObject({ 'wirecall.method': 'reinit', 'rpc.status_code': 'OK' })
      expect(span.attributes['rpc.method']).toBeUndefined()
      expect(span.attributes['wirecall.input']).toBeUndefined()
    }
  })
})

describe('inputs and baggage', () => {
  it('records the input as JSON only with recordInput, cut at 1,024 characters', async () => {
    const { fixture, api } = await setup({ server: { recordInput: true }, client: { recordInput: true } })
    await api.greet.query({ name: 'Ada' })
    await api.greet.query({ name: 'x'.repeat(2_000) })
    const servers = fixture.spans().filter((s) => s.name === 'greet')
    await waitUntil(() => fixture.spans().filter((s) => s.name === 'greet' && s.kind === SpanKind.SERVER).length === 2, 'both SERVER spans')
    const inputs = fixture
      .spans()
      .filter((s) => s.name === 'greet')
      .map((s) => s.attributes['wirecall.input'] as string)
    expect(servers.length).toBeGreaterThan(0)
    expect(inputs.filter((input) => input === '{"name":"Ada"}')).toHaveLength(2)
    const long = inputs.filter((input) => input.length > 100)
    expect(long).toHaveLength(2)
    for (const input of long) expect(input).toBe(`{"name":"${'x'.repeat(1_024 - 9)}`)
  })

  it('carries only the allow-listed baggage keys, and none by default', async () => {
    const listed = await setup({ server: { baggage: ['tenant'] }, client: { baggage: ['tenant'] } })
    const plain = await setup()
    const bag = propagation.createBaggage({ tenant: { value: 'acme' }, 'user.email': { value: 'ada@example.com' } })
    const withBaggage = <T>(run: () => Promise<T>) => context.with(propagation.setBaggage(context.active(), bag), run)
    expect(await withBaggage(() => listed.api.tenant.query())).toEqual(['tenant=acme'])
    expect(await withBaggage(() => plain.api.tenant.query())).toEqual([])
  })
})

describe('a trace context the server cannot or must not trust', () => {
  const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
  const PARENT_ID = '00f067aa0ba902b7'
  const VALID = `00-${TRACE_ID}-${PARENT_ID}-01`

  /** A raw peer's call to `greet` with `trace` as given; resolves with the SERVER span. */
  async function callWith(traceField: unknown): Promise<ReadableSpan> {
    const fixture = otelFixture()
    const { url } = await startServer({ router: makeRouter(fixture), instrumentation: [fixture.otel()] })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'greet', input: { name: 'Ada' }, trace: traceField })
    const answer = await peer.next((m) => m.id === 1)
    expect(answer.type).toBe('result')
    return serverSpan(fixture, 'greet')
  }

  it('continues a valid traceparent, and keeps a tracestate within 512 characters', async () => {
    const span = await callWith({ traceparent: VALID, tracestate: 'vendor=abc' })
    expect(span.spanContext().traceId).toBe(TRACE_ID)
    expect(span.parentSpanContext).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_ID, isRemote: true })
    expect(span.spanContext().traceState?.get('vendor')).toBe('abc')
  })

  it.each([
    ['a traceparent that is not one', { traceparent: 'not-a-traceparent' }],
    ['an all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` }],
    ['upper-case hex', { traceparent: VALID.toUpperCase() }],
    ['a traceparent of the wrong type', { traceparent: 42 }],
    ['a string instead of an object', VALID],
  ])('ignores %s: the SERVER span is a root of a new trace, and the call succeeds', async (_what, traceField) => {
    const span = await callWith(traceField)
    expect(span.parentSpanContext).toBeUndefined()
    expect(span.spanContext().traceId).not.toBe(TRACE_ID)
    expect(span.links).toEqual([])
  })

  it("parents calls that carry no trace context of their own with the upgrade request's traceparent header, and a call's own wins", async () => {
    const fixture = otelFixture()
    const { url } = await startServer({ router: makeRouter(fixture), instrumentation: [fixture.otel()] })
    const ws = new WebSocket(url, 'wirecall.v1', { headers: { traceparent: VALID } })
    onTestFinished(() => ws.terminate())
    const messages: { id?: number; type?: string }[] = []
    ws.on('message', (data) => messages.push(...([] as { id?: number }[]).concat(JSON.parse(String(data)) as { id?: number })))
    await new Promise((resolve) => ws.once('open', resolve))
    ws.send(JSON.stringify({ type: 'init' }))
    await waitUntil(() => messages.some((m) => m.type === 'ack'), 'the ack')
    ws.send(JSON.stringify({ type: 'call', id: 1, method: 'query', path: 'greet', input: { name: 'Ada' } }))
    await waitUntil(() => messages.some((m) => m.id === 1), 'the answer')
    const span = await serverSpan(fixture, 'greet')
    expect(span.parentSpanContext).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_ID, isRemote: true })

    const own = `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`
    ws.send(JSON.stringify({ type: 'call', id: 2, method: 'query', path: 'greet', input: { name: 'Bo' }, trace: { traceparent: own } }))
    await waitUntil(() => messages.some((m) => m.id === 2), 'the second answer')
    await waitUntil(() => fixture.spans().filter((s) => s.name === 'greet').length === 2, 'the second span')
    const second = fixture.spans().filter((s) => s.name === 'greet')[1]!
    expect(second.parentSpanContext).toMatchObject({ traceId: '1'.repeat(32), spanId: '2'.repeat(16) })
  })

  it('drops a tracestate over 512 characters and keeps the traceparent', async () => {
    const span = await callWith({ traceparent: VALID, tracestate: `vendor=${'a'.repeat(600)}` })
    expect(span.parentSpanContext?.spanId).toBe(PARENT_ID)
    expect(span.spanContext().traceState).toBeUndefined()
  })

  it('with propagate: false, starts a new trace and links the caller’s span', async () => {
    const { fixture, api } = await setup({ server: { propagate: false } })
    await api.greet.query({ name: 'Ada' })
    const server = await serverSpan(fixture, 'greet')
    const client = fixture.span('greet', SpanKind.CLIENT)
    expect(server.parentSpanContext).toBeUndefined()
    expect(server.spanContext().traceId).not.toBe(client.spanContext().traceId)
    expect(server.links.map((link) => link.context.spanId)).toEqual([client.spanContext().spanId])
    expect(server.links[0]?.context.traceId).toBe(client.spanContext().traceId)
    // The resolver still runs inside the server's own span.
    expect(fixture.span('db.lookup', SpanKind.INTERNAL).parentSpanContext?.spanId).toBe(server.spanContext().spanId)
  })

  it('with propagate: false on the client, sends no trace context', async () => {
    const { fixture, api } = await setup({ client: { propagate: false } })
    await api.greet.query({ name: 'Ada' })
    const server = await serverSpan(fixture, 'greet')
    expect(server.parentSpanContext).toBeUndefined()
    expect(server.links).toEqual([])
    expect(server.spanContext().traceId).not.toBe(fixture.span('greet', SpanKind.CLIENT).spanContext().traceId)
  })

  it('makes the CLIENT span a child of the span active where the call is made', async () => {
    const { fixture, api } = await setup()
    await fixture.tracer.startActiveSpan('page.load', async (span) => {
      await api.greet.query({ name: 'Ada' })
      span.end()
    })
    const page = fixture.span('page.load', SpanKind.INTERNAL)
    const client = fixture.span('greet', SpanKind.CLIENT)
    expect(client.parentSpanContext?.spanId).toBe(page.spanContext().spanId)
    expect((await serverSpan(fixture, 'greet')).spanContext().traceId).toBe(page.spanContext().traceId)
    expect(trace.getActiveSpan()).toBeUndefined()
  })
})
