import { ackFrame, defaultSerializer, payloadLimitDefaults, type AnnouncedLimits, type AnyClientRouter, type AnyProcedure, type FrameShapeLimits, type AnyRouter, type PayloadLimits, type Serializer, type StreamOptions } from '@wirecall/core'
import { ServerHooks } from './hooks'
import { IdempotencyCache } from './idempotency'
import { schemaEndpointProcedure } from './schema-endpoint'
import { serverDefaults, type BackpressureOptions, type CreateContextOptions, type ErrorHandlerOptions, type RateLimitOptions, type RpcServerOptions } from '../options'

/**
 * A server's options, resolved against the defaults once, plus the state
 * its sessions share. Every session of one server holds the same object.
 */
export interface SessionConfig {
  router: AnyRouter
  serializer: Serializer
  createContext: ((opts: CreateContextOptions) => unknown) | undefined
  initTimeoutMs: number
  exposeInternalErrors: boolean
  maxBatchSize: number
  /** Largest frame accepted from the client, announced in `ack` so the client's batches stay under it. */
  maxPayload: number
  /** Outcomes of idempotent mutations, shared by every session so a retry on a new connection finds them. */
  idempotency: IdempotencyCache
  backpressure: Required<BackpressureOptions>
  maxInFlightCalls: number
  maxSubscriptions: number
  /** `undefined`: no rate limit. */
  rateLimit: Required<RateLimitOptions> | undefined
  maxConnectionParamsBytes: number
  payloadLimits: PayloadLimits
  /** The shape of a frame that may be parsed; any other closes with 1009 before `JSON.parse` sees it. */
  frameShape: FrameShapeLimits
  /** Encoded events shared by the subscriptions of all sessions (fan-out encodes once). */
  fanout: FanoutCache
  onError: ((opts: ErrorHandlerOptions) => void) | undefined
  /** The `instrumentation` option, ready to call; `undefined` without one, and then no event is ever built. */
  instrumentation: ServerHooks | undefined
  /** The `ack` frame, the same for every session: `maxPayload`, the limits, the idempotent paths. */
  ack: string
  /** The query served at `SCHEMA_ENDPOINT_PATH` when `schemaEndpoint` is on; `undefined` when off (the path is then unknown like any other). */
  schemaEndpoint: AnyProcedure | undefined
  /** The server's calls to client procedures: their bounds, the `clientRouter` option, and how many are in flight on every session (for `stats()`). */
  peerCalls: { timeoutMs: number; maxInFlight: number; router: AnyClientRouter | undefined; inFlight: number }
  /** Bounds of client streams, where a procedure's `stream(schema, options)` leaves them out. */
  streams: Required<{ [K in keyof StreamOptions]: number }>
}

/**
 * Encoded events by the value a subscription yielded: a channel hands the
 * same event object to every subscriber, so the serializer and
 * `JSON.stringify` run once per event, not once per subscriber. Weak, so
 * events are freed with the channel's ring.
 */
export type FanoutCache = WeakMap<object, { procedure: AnyProcedure; fields: string }>

/**
 * How much deeper than `payloadLimits.maxDepth` a frame may nest and still
 * be parsed: the envelope takes two levels (a batch, a message) and `meta`
 * a few, and a payload a little too deep is better answered `BAD_REQUEST`
 * on its own call than refused with the whole frame.
 */
const FRAME_DEPTH_MARGIN = 64

/** Resolves a server's options against {@link serverDefaults}. */
export function resolveConfig(options: RpcServerOptions<AnyRouter>): SessionConfig {
  const config: SessionConfig = {
    router: options.router,
    serializer: options.serializer ?? defaultSerializer,
    createContext: options.createContext,
    initTimeoutMs: options.initTimeoutMs ?? serverDefaults.initTimeoutMs,
    exposeInternalErrors: options.exposeInternalErrors ?? serverDefaults.exposeInternalErrors,
    maxBatchSize: serverDefaults.maxBatchSize,
    maxPayload: options.maxPayload ?? serverDefaults.maxPayload,
    idempotency: new IdempotencyCache(options.idempotency),
    backpressure: { ...serverDefaults.backpressure, ...options.backpressure },
    maxInFlightCalls: options.maxInFlightCalls ?? serverDefaults.maxInFlightCalls,
    maxSubscriptions: options.maxSubscriptions ?? serverDefaults.maxSubscriptions,
    rateLimit: options.rateLimit === false ? undefined : { ...serverDefaults.rateLimit, ...options.rateLimit },
    maxConnectionParamsBytes: options.maxConnectionParamsBytes ?? serverDefaults.maxConnectionParamsBytes,
    payloadLimits: options.payloadLimits ?? {},
    frameShape: {
      maxDepth: (options.payloadLimits?.maxDepth ?? payloadLimitDefaults.maxDepth) + FRAME_DEPTH_MARGIN,
      maxContainers: options.maxFrameContainers ?? serverDefaults.maxFrameContainers,
    },
    fanout: new WeakMap(),
    onError: options.onError,
    instrumentation: ServerHooks.of(options.instrumentation),
    ack: '',
    schemaEndpoint:
      options.schemaEndpoint === undefined || options.schemaEndpoint === false
        ? undefined
        : schemaEndpointProcedure(options.router, options.schemaEndpoint === true ? {} : options.schemaEndpoint),
    peerCalls: {
      timeoutMs: options.peerCalls?.timeoutMs ?? serverDefaults.peerCalls.timeoutMs,
      maxInFlight: options.peerCalls?.maxInFlight ?? serverDefaults.peerCalls.maxInFlight,
      router: options.clientRouter,
      inFlight: 0,
    },
    streams: {
      window: options.streams?.window ?? serverDefaults.streams.window,
      maxChunks: options.streams?.maxChunks ?? serverDefaults.streams.maxChunks,
      maxBytes: options.streams?.maxBytes ?? serverDefaults.streams.maxBytes,
      maxDurationMs: options.streams?.maxDurationMs ?? serverDefaults.streams.maxDurationMs,
    },
  }
  config.ack = ackFrame({ maxPayload: config.maxPayload, limits: announcedLimits(config), idempotent: idempotentPaths(config.router), features: ['streams'] })
  return config
}

/** The limits a session enforces, as `ack` announces them: a limit that is off (or not a whole number) is left out. */
function announcedLimits(config: SessionConfig): AnnouncedLimits {
  const limits: AnnouncedLimits = {}
  const set = (key: keyof AnnouncedLimits, value: number | undefined, whole = true) => {
    if (value !== undefined && value > 0 && (whole ? Number.isSafeInteger(value) : Number.isFinite(value))) limits[key] = value
  }
  set('maxInFlightCalls', config.maxInFlightCalls)
  set('maxSubscriptions', config.maxSubscriptions)
  set('messagesPerSecond', config.rateLimit?.messagesPerSecond, false)
  set('burst', config.rateLimit?.burst)
  return limits
}

/** The mutations declared `.idempotent()`, by path. */
function idempotentPaths(router: AnyRouter): string[] {
  const paths: string[] = []
  for (const [path, procedure] of router._def.procedures) if (procedure._def.idempotent !== undefined) paths.push(path)
  return paths
}
