import { metrics, trace, type Meter, type Tracer } from '@opentelemetry/api'
import { createInstruments, type Instruments } from './metrics'
import type { BaggageKeys } from './propagation'
import { SCOPE_NAME, VERSION } from './version'

/** Options of {@link wirecallOtel}. */
export interface WirecallOtelOptions {
  /**
   * Where spans go.
   * @default trace.getTracer('@wirecall/otel', version): the global tracer provider's
   */
  tracer?: Tracer
  /**
   * Where metrics go. The default is read from the global meter provider
   * when the first metric is recorded, so start the SDK before the first
   * connection or call (OpenTelemetry's global meter is not a proxy).
   * @default metrics.getMeter('@wirecall/otel', version)
   */
  meter?: Meter
  /**
   * Whether trace context crosses the socket. On a server, `true` makes a
   * call's span the child of the caller's span (same trace id); `false`
   * starts a new trace and only links the caller's span, for public
   * endpoints where a client's trace ids must not be trusted (it cannot
   * then force sampling or join your traces). On a client, `false` sends no
   * trace context at all.
   * @default true
   */
  propagate?: boolean
  /**
   * Whether spans get the call's input as `wirecall.input` (JSON, cut at
   * 1,024 characters). Inputs may hold personal data: leave it off in
   * production unless you scrub them. Never recorded for a `reinit` (its
   * params hold credentials), never on metrics.
   * @default false
   */
  recordInput?: boolean
  /**
   * W3C Baggage keys sent with a call's trace context (client) and
   * accepted from one (server). Baggage reaches every downstream service,
   * so nothing is propagated unless its key is listed here.
   * @default [] (no baggage)
   */
  baggage?: readonly string[]
  /**
   * Whether a client starts a CONSUMER span (`process <path>`) for each
   * subscription event, linked to the PRODUCER span of its publisher. One
   * span per event can be a lot: sample them with your tracer provider's sampler.
   * @default false
   */
  processSpans?: boolean
}

/** The options resolved, shared by the server, client and channel hooks. */
export interface Setup {
  tracer: Tracer
  /** The instruments, created on first use (see {@link WirecallOtelOptions.meter}). */
  instruments(): Instruments
  propagate: boolean
  recordInput: boolean
  baggageKeys: BaggageKeys
  processSpans: boolean
}

export function resolveOptions(options: WirecallOtelOptions): Setup {
  let instruments: Instruments | undefined
  return {
    tracer: options.tracer ?? trace.getTracer(SCOPE_NAME, VERSION),
    instruments: () => (instruments ??= createInstruments(options.meter ?? metrics.getMeter(SCOPE_NAME, VERSION))),
    propagate: options.propagate ?? true,
    recordInput: options.recordInput ?? false,
    baggageKeys: options.baggage !== undefined && options.baggage.length > 0 ? new Set(options.baggage) : undefined,
    processSpans: options.processSpans ?? false,
  }
}
