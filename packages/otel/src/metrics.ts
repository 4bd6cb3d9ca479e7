import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api'

/**
 * Every instrument this package records. Names and units follow
 * OpenTelemetry's RPC conventions where they exist (`rpc.*.call.duration`
 * in seconds), and are `wirecall.*` otherwise; sizes are bytes (`By`).
 */
export interface Instruments {
  serverCallDuration: Histogram
  clientCallDuration: Histogram
  connections: UpDownCounter
  subscriptions: UpDownCounter
  sendBuffer: Histogram
  backpressurePauses: Counter
  slowConsumerCloses: Counter
  subscriptionResumes: Counter
  clientReconnects: Counter
  clientPingRtt: Histogram
}

// Call durations of a WebSocket RPC are mostly well under 100 ms: finer
// buckets at the low end than the SDK's defaults (which start at 5 s for `s`).
const DURATION_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
// The server's high-water mark is 1 MiB and its hard cap 8 MiB by default.
const BUFFER_BUCKETS_BYTES = [65_536, 262_144, 524_288, 1_048_576, 2_097_152, 4_194_304, 8_388_608, 16_777_216, 33_554_432]

/** Creates the instruments on `meter`. */
export function createInstruments(meter: Meter): Instruments {
  const duration = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } })
  return {
    serverCallDuration: duration('rpc.server.call.duration', 'Duration of a query or mutation on the server, from its arrival to its answer.'),
    clientCallDuration: duration('rpc.client.call.duration', 'Duration of a query or mutation on the client, from the call to its settling, retries included.'),
    connections: meter.createUpDownCounter('wirecall.server.connections', { unit: '{connection}', description: 'WebSocket connections open on the server.' }),
    subscriptions: meter.createUpDownCounter('wirecall.server.subscriptions', { unit: '{subscription}', description: 'Subscriptions running on the server.' }),
    sendBuffer: meter.createHistogram('wirecall.server.send_buffer', {
      unit: 'By',
      description: "A connection's send buffer (bufferedAmount) at each backpressure event: pause, resume, slow-consumer close.",
      advice: { explicitBucketBoundaries: BUFFER_BUCKETS_BYTES },
    }),
    backpressurePauses: meter.createCounter('wirecall.server.backpressure.pauses', {
      unit: '{pause}',
      description: "Times a connection's send buffer crossed the high-water mark and its subscriptions were paused.",
    }),
    slowConsumerCloses: meter.createCounter('wirecall.server.slow_consumer.closes', {
      unit: '{connection}',
      description: 'Connections closed because their reader stayed too slow (close code 1013).',
    }),
    subscriptionResumes: meter.createCounter('wirecall.subscription.resumes', {
      unit: '{subscription}',
      description: 'Subscriptions that arrived with a lastEventId, by outcome (resumed, resync, refused) and resync reason.',
    }),
    clientReconnects: meter.createCounter('wirecall.client.reconnects', {
      unit: '{reconnect}',
      description: 'Reconnects a client scheduled, by the close code of the socket that went.',
    }),
    clientPingRtt: meter.createHistogram('wirecall.client.ping.rtt', {
      unit: 's',
      description: "Round-trip time of a client's keep-alive ping.",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    }),
  }
}
