/**
 * One traced call, printed as a tree: the rendering in
 * docs/observability.md ("What one traced call looks like"). A server and a
 * Node client in this process, on 127.0.0.1, each with its own
 * `wirecallOtel()` on one tracer provider that exports to memory; the
 * client calls `orders.place`, whose resolver starts a span of its own.
 * Uses the built packages (`pnpm build` first), as the bench does:
 *
 *   pnpm --filter @wirecall/bench trace-call
 */
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { createRpcClient } from '@wirecall/client'
import { wirecallOtel } from '@wirecall/otel'
import { createRpcServer, initRpc } from '@wirecall/server'
import WebSocket from 'ws'
import { z } from 'zod'

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = trace.getTracer('orders')
trace.setGlobalTracerProvider(provider)

const rpc = initRpc.create()
const router = rpc.router({
  orders: {
    place: rpc.procedure.input(z.object({ sku: z.string(), quantity: z.number().int().min(1) })).mutation(({ input }) =>
      tracer.startActiveSpan('db.insert order', async (span) => {
        try {
          await new Promise((resolve) => setTimeout(resolve, 5)) // the database's round trip
          return { orderId: `o-${input.sku}` }
        } finally {
          span.end()
        }
      }),
    ),
  },
})

const server = createRpcServer({ router, instrumentation: [wirecallOtel({ tracer: provider.getTracer('chat-server') })] })
const { port } = await server.listen({ port: 0, host: '127.0.0.1', path: '/rpc' })
const api = createRpcClient<typeof router>({
  url: `ws://127.0.0.1:${port}/rpc`,
  WebSocket,
  instrumentation: [wirecallOtel({ tracer: provider.getTracer('checkout-service') })],
})
// A first call opens the connection, so the traced one below shows a call, not a handshake.
await api.orders.place.mutate({ sku: 'warm-up', quantity: 1 })
// The client's span ends once the hook's `await next()` resumes, a turn after the caller's.
await new Promise((resolve) => setImmediate(resolve))
exporter.reset()
await api.orders.place.mutate({ sku: 'tea', quantity: 2 })
await api.$connection.close()
await server.close()
await provider.forceFlush()

const spans = exporter.getFinishedSpans()
const ms = (time: [number, number]) => time[0] * 1_000 + time[1] / 1e6
const origin = Math.min(...spans.map((span) => ms(span.startTime)))
const kinds = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER']
const childrenOf = (id: string | undefined) => spans.filter((span) => span.parentSpanContext?.spanId === id)

function render(span: ReadableSpan, depth: number): string[] {
  const { traceId, spanId } = span.spanContext()
  // The SDK stamps a span's start from Date.now() (whole milliseconds) and measures its duration with performance.now().
  const start = (ms(span.startTime) - origin).toFixed(0)
  const duration = (ms(span.endTime) - ms(span.startTime)).toFixed(2)
  const indent = '    '.repeat(depth)
  const attributes = Object.entries(span.attributes)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join(' ')
  const lines = [
    `${indent}${span.name}  ${kinds[span.kind]}  [${span.instrumentationScope.name}]  +${start} ms, ${duration} ms`,
    `${indent}  trace ${traceId}  span ${spanId}  parent ${span.parentSpanContext?.spanId ?? '(none)'}`,
  ]
  if (attributes !== '') lines.push(`${indent}  ${attributes}`)
  for (const child of childrenOf(spanId)) lines.push(...render(child, depth + 1))
  return lines
}

const roots = spans.filter((span) => !spans.some((other) => other.spanContext().spanId === span.parentSpanContext?.spanId))
console.log(roots.flatMap((root) => render(root, 0)).join('\n'))
