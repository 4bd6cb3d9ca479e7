/**
 * wirecall with `@wirecall/otel` on both sides, set up as
 * docs/observability.md sets it up for Node, the exporter aside: the
 * OpenTelemetry SDK with an AsyncLocalStorage context manager, every span
 * through a `SimpleSpanProcessor` into an `InMemorySpanExporter`, and the
 * metrics into a `MeterProvider` whose reader keeps them in memory. Every
 * span is recorded (no sampling, no batch dropping spans when its queue is
 * full), so this is the whole price: spans, attributes, metrics, and the
 * trace context sent with every call.
 *
 * The exporter keeps every span for the life of the process (a run makes
 * some 22,000 per side at most), as a real exporter would hold them until
 * sent.
 */
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { wirecallOtel as instrument } from '@wirecall/otel'
import type { Impl } from '../contract'
import { createWirecallImpl } from './wirecall'

/** The process's instrumentation: a process runs one side, and its connections share one SDK, as an app's do. */
let made: ReturnType<typeof instrument> | undefined

function otel(service: string): ReturnType<typeof instrument> {
  if (made !== undefined) return made
  // What the Node SDK registers: the server span's context reaches the resolver through it.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] })
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 10_000 }),
    ],
  })
  made = instrument({ tracer: tracerProvider.getTracer(service), meter: meterProvider.getMeter(service) })
  return made
}

/** wirecall with `@wirecall/otel` and in-memory exporters. */
export const wirecallOtel: Impl = createWirecallImpl('wirecall-otel', {
  server: () => [otel('bench-server')],
  client: () => [otel('bench-client')],
})
