import { afterAll, beforeAll, onTestFinished } from 'vitest'
import { context, propagation, SpanKind } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { wirecallOtel, type WirecallOtel, type WirecallOtelOptions } from '@wirecall/otel'

/**
 * OpenTelemetry set up as an app's Node SDK sets it up, minus the network:
 * an AsyncLocalStorage context manager and the W3C propagators registered
 * globally for the file, spans through a SimpleSpanProcessor into an
 * InMemorySpanExporter, metrics through a reader into an
 * InMemoryMetricExporter (read on demand). Providers are shut down after
 * each test.
 */
export function registerOtelGlobals({ propagators = true }: { propagators?: boolean } = {}): void {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    if (propagators) {
      propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }))
    }
  })
  afterAll(() => {
    context.disable()
    propagation.disable()
  })
}

export interface OtelFixture {
  /** A `wirecallOtel` recording into this fixture's providers. */
  otel(options?: WirecallOtelOptions): WirecallOtel
  /** A tracer of the same provider, for spans a test or a resolver makes itself. */
  tracer: ReturnType<BasicTracerProvider['getTracer']>
  /** Finished spans, in the order they ended. */
  spans(): ReadableSpan[]
  /** The one finished span named `name` of `kind`; throws when there is not exactly one. */
  span(name: string, kind: SpanKind): ReadableSpan
  /** Every metric as of now (cumulative), by name. */
  metrics(): Promise<Map<string, MetricData>>
  /** The metrics once `predicate` holds of them, read every 20 ms; rejects after `timeoutMs` naming `what`. */
  metricsWhen(predicate: (metrics: Map<string, MetricData>) => boolean, what: string, timeoutMs?: number): Promise<Map<string, MetricData>>
}

export function otelFixture(): OtelFixture {
  const spanExporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] })
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  // Exports only when flushed: each read is a fresh cumulative snapshot.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  onTestFinished(async () => {
    await tracerProvider.shutdown()
    await meterProvider.shutdown()
  })
  const tracer = tracerProvider.getTracer('test')
  const meter = meterProvider.getMeter('test')
  const spans = () => spanExporter.getFinishedSpans()
  return {
    otel: (options = {}) => wirecallOtel({ tracer, meter, ...options }),
    tracer,
    spans,
    span(name, kind) {
      const found = spans().filter((s) => s.name === name && s.kind === kind)
      if (found.length !== 1) throw new Error(`expected one ${SpanKind[kind]} span "${name}", found ${found.length} among: ${spans().map((s) => `${SpanKind[s.kind]} ${s.name}`).join(', ')}`)
      return found[0]!
    },
    async metrics() {
      metricExporter.reset()
      await reader.forceFlush()
      const all = metricExporter.getMetrics().flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
      return new Map(all.map((metric) => [metric.descriptor.name, metric]))
    },
    async metricsWhen(predicate, what, timeoutMs = 3_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const metrics = await this.metrics()
        if (predicate(metrics)) return metrics
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
  }
}

/** The value of a sum (counter, up-down counter) data point whose attributes include `attributes`; 0 when there is none. */
export function sumOf(metric: MetricData | undefined, attributes: Record<string, unknown> = {}): number {
  if (metric === undefined) return 0
  if (metric.dataPointType !== DataPointType.SUM) throw new Error(`${metric.descriptor.name} is not a sum`)
  return (metric.dataPoints as DataPoint<number>[]).filter((point) => matches(point.attributes, attributes)).reduce((total, point) => total + point.value, 0)
}

/** The histogram data points of `metric` whose attributes include `attributes`. */
export function histogramPoints(metric: MetricData | undefined, attributes: Record<string, unknown> = {}): DataPoint<Histogram>[] {
  if (metric === undefined) return []
  if (metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${metric.descriptor.name} is not a histogram`)
  return metric.dataPoints.filter((point) => matches(point.attributes, attributes))
}

function matches(actual: Record<string, unknown>, wanted: Record<string, unknown>): boolean {
  return Object.entries(wanted).every(([key, value]) => actual[key] === value)
}
