import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { createChannel, initRpc, type Channel } from '@wirecall/core'
import type { WirecallOtel } from '@wirecall/otel'
import { connectClient, startServer, waitUntil } from '../../../tests/helpers/harness'
import { startFaultProxy } from '../../../tests/helpers/fault-proxy'
import { otelFixture, registerOtelGlobals, sumOf, type OtelFixture } from './otel-fixture'

/**
 * Subscriptions and channels traced over real sockets: a short span for
 * each handshake with its outcome (started, resumed after a reconnect,
 * resync after the history was trimmed), on the server and on the client,
 * and never a span for a subscription's life; a channel publish as a
 * PRODUCER span whose context travels with the event to the client's
 * optional `process` span.
 */

registerOtelGlobals()

const rpc = initRpc.create()

function makeRouter(feed: Channel<string>) {
  return rpc.router({
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => feed.subscribe({ lastEventId, signal })),
    post: rpc.procedure.input(z.string()).mutation(({ input }) => feed.publish(input)),
  })
}
type R = ReturnType<typeof makeRouter>

/** A server with a `feed` channel (history 2), and a client reaching it through a fault proxy. */
async function setup(fixture: OtelFixture, client: { processSpans?: boolean } = {}) {
  const otel: WirecallOtel = fixture.otel()
  const feed = createChannel<string>({ history: 2, name: 'feed', instrumentation: [otel] })
  const { port } = await startServer({ router: makeRouter(feed), instrumentation: [otel] })
  const proxy = await startFaultProxy(port)
  const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 50 }, instrumentation: [fixture.otel(client)] })
  const log: string[] = []
  const handlers = {
    onStarted: ({ resumed }: { resumed: boolean }) => void log.push(`started:${resumed}`),
    onData: (value: string) => void log.push(value),
    onResync: () => void log.push('resync'),
  }
  /** Drops the connection, runs `whileAway` while the client cannot come back, then lets it. */
  const drop = async (whileAway: () => void) => {
    proxy.refuse(true)
    proxy.cut()
    await waitUntil(() => feed.subscriberCount === 0, 'the server to see the drop')
    whileAway()
    proxy.refuse(false)
  }
  return { feed, api, log, handlers, drop }
}

const handshakes = (fixture: OtelFixture, kind: SpanKind): ReadableSpan[] => fixture.spans().filter((s) => s.name === 'feed' && s.kind === kind)
const outcomes = (spans: ReadableSpan[]) => spans.map((s) => s.attributes['wirecall.subscription.outcome'])

describe('subscription handshakes', () => {
  it('a short span per handshake: started, then resumed after a reconnect, each SERVER span the child of its CLIENT span', async () => {
    const fixture = otelFixture()
    const { feed, api, log, handlers, drop } = await setup(fixture)
    const subscription = api.feed.subscribe(undefined, handlers)
    await waitUntil(() => log.includes('started:false'), 'the first start')
    feed.publish('one')
    await waitUntil(() => log.includes('one'), 'event one')
    await drop(() => feed.publish('two'))
    await waitUntil(() => log.includes('two'), 'event two, replayed', 5_000)
    expect(log).toEqual(['started:false', 'one', 'started:true', 'two'])

    const server = handshakes(fixture, SpanKind.SERVER)
    const client = handshakes(fixture, SpanKind.CLIENT)
    expect(outcomes(server)).toEqual(['started', 'resumed'])
    expect(outcomes(client)).toEqual(['started', 'resumed'])
    for (const [i, span] of server.entries()) {
      expect(span.parentSpanContext?.spanId).toBe(client[i]!.spanContext().spanId)
      expect(span.attributes).toMatchObject({ 'rpc.system.name': 'wirecall', 'rpc.method': 'feed', 'wirecall.method': 'subscription', 'rpc.status_code': 'OK' })
      expect(span.attributes['wirecall.subscription.resync_reason']).toBeUndefined()
    }
    // Both handshakes are over while the subscription runs on: no span lives as long as it does.
    expect(subscription).toBeDefined()
    expect(fixture.spans().filter((s) => s.name === 'feed')).toHaveLength(4)
    expect(sumOf((await fixture.metrics()).get('wirecall.subscription.resumes'), { 'wirecall.subscription.outcome': 'resumed' })).toBe(1)
    subscription.unsubscribe()
  })

  it('resync, with the reason trimmed on the server, when the history no longer holds the lastEventId', async () => {
    const fixture = otelFixture()
    const { feed, api, log, handlers, drop } = await setup(fixture)
    api.feed.subscribe(undefined, handlers)
    await waitUntil(() => log.includes('started:false'), 'the first start')
    feed.publish('one')
    await waitUntil(() => log.includes('one'), 'event one')
    // Three events while away, and a history of two: 'one' is trimmed.
    await drop(() => ['two', 'three', 'four'].forEach((value) => feed.publish(value)))
    await waitUntil(() => log.includes('resync'), 'the resync', 5_000)

    const server = handshakes(fixture, SpanKind.SERVER)
    expect(outcomes(server)).toEqual(['started', 'resync'])
    expect(server[1]!.attributes['wirecall.subscription.resync_reason']).toBe('trimmed')
    expect(server[1]!.status.code).toBe(SpanStatusCode.UNSET)
    expect(outcomes(handshakes(fixture, SpanKind.CLIENT))).toEqual(['started', 'resync'])
    const resumes = (await fixture.metrics()).get('wirecall.subscription.resumes')
    expect(sumOf(resumes, { 'wirecall.subscription.outcome': 'resync', 'wirecall.subscription.resync_reason': 'trimmed' })).toBe(1)
    expect(sumOf(resumes, { 'wirecall.subscription.outcome': 'resumed' })).toBe(0)
  })
  it('refused: a subscription to a path the router does not have, _OTHER on the server', async () => {
    const fixture = otelFixture()
    const { api } = await setup(fixture)
    const untyped = api as unknown as { nope: { subscribe(input: undefined, handlers: { onError(error: { code: string }): void }): unknown } }
    const errors: string[] = []
    untyped.nope.subscribe(undefined, { onError: (error) => void errors.push(error.code) })
    await waitUntil(() => errors.length === 1, 'the refusal')
    await waitUntil(() => fixture.spans().some((s) => s.name === '_OTHER'), 'the SERVER span')
    const server = fixture.span('_OTHER', SpanKind.SERVER)
    const client = fixture.span('nope', SpanKind.CLIENT)
    expect(errors).toEqual(['NOT_FOUND'])
    expect(server.attributes).toMatchObject({ 'rpc.method': '_OTHER', 'wirecall.subscription.outcome': 'refused', 'rpc.status_code': 'NOT_FOUND', 'error.type': 'NOT_FOUND' })
    expect(server.status.code).toBe(SpanStatusCode.UNSET)
    expect(client.attributes).toMatchObject({ 'rpc.method': 'nope', 'wirecall.subscription.outcome': 'refused', 'error.type': 'NOT_FOUND' })
    expect(client.status.code).toBe(SpanStatusCode.ERROR)
    expect(server.parentSpanContext?.spanId).toBe(client.spanContext().spanId)
    expect(sumOf((await fixture.metrics()).get('wirecall.server.subscriptions'))).toBe(0)
  })
})

describe('channel publish', () => {
  it('is a PRODUCER span in the publishing resolver’s trace, and its context reaches the client’s process span as a link', async () => {
    const fixture = otelFixture()
    const { api, log, handlers } = await setup(fixture, { processSpans: true })
    api.feed.subscribe(undefined, handlers)
    await waitUntil(() => log.includes('started:false'), 'the start')
    const id = await api.post.mutate('hello')
    await waitUntil(() => log.includes('hello'), 'the event')
    await waitUntil(() => fixture.spans().some((s) => s.kind === SpanKind.CONSUMER), 'the process span')

    const mutation = fixture.span('post', SpanKind.SERVER)
    const publish = fixture.span('publish feed', SpanKind.PRODUCER)
    const process = fixture.span('process feed', SpanKind.CONSUMER)
    expect(publish.parentSpanContext?.spanId).toBe(mutation.spanContext().spanId)
    expect(publish.attributes).toEqual({
      'messaging.system': 'wirecall',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.destination.name': 'feed',
      'messaging.destination.template': 'feed',
      'messaging.message.id': id,
      'wirecall.channel.topic': false,
      'wirecall.channel.subscribers': 1,
    })
    expect(process.links.map((link) => link.context.spanId)).toEqual([publish.spanContext().spanId])
    expect(process.attributes).toMatchObject({
      'messaging.system': 'wirecall',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'feed',
      'messaging.message.id': id,
    })
  })

  it('makes no process span unless asked; a publish outside any trace is a root PRODUCER span', async () => {
    const fixture = otelFixture()
    const { feed, api, log, handlers } = await setup(fixture)
    api.feed.subscribe(undefined, handlers)
    await waitUntil(() => log.includes('started:false'), 'the start')
    feed.publish('plain')
    await waitUntil(() => log.includes('plain'), 'the event')
    expect(fixture.span('publish feed', SpanKind.PRODUCER).parentSpanContext).toBeUndefined()
    expect(fixture.spans().filter((s) => s.kind === SpanKind.CONSUMER)).toEqual([])
  })

  it('names a publish without a channel name `publish`, and a topic’s publish after its channel', async () => {
    const fixture = otelFixture()
    const otel = fixture.otel()
    const unnamed = createChannel<number>({ instrumentation: [otel] })
    const rooms = createChannel<number>({ name: 'room:{id}', instrumentation: [otel] })
    unnamed.publish(1)
    rooms.topic('42').publish(2)
    expect(fixture.span('publish', SpanKind.PRODUCER).attributes['messaging.destination.name']).toBeUndefined()
    const topic = fixture.span('publish room:{id}', SpanKind.PRODUCER)
    expect(topic.attributes).toMatchObject({ 'messaging.destination.name': 'room:{id}', 'wirecall.channel.topic': true, 'wirecall.channel.subscribers': 0 })
  })
})
