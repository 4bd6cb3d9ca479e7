import type { Attributes } from '@opentelemetry/api'

/**
 * Attribute names and bounded values, from OpenTelemetry's current semantic
 * conventions (RPC, messaging, server, error) where one exists, and under
 * `wirecall.` otherwise. The deprecated `rpc.system`, `rpc.service` and
 * `rpc.message.*` are never written. Every value that can reach a metric is
 * from a small set (a procedure path of the router, a code, an outcome), so
 * metric cardinality stays bounded whatever peers send.
 */
export const ATTR = {
  rpcSystemName: 'rpc.system.name',
  rpcMethod: 'rpc.method',
  rpcStatusCode: 'rpc.status_code',
  errorType: 'error.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  clientAddress: 'client.address',
  messagingSystem: 'messaging.system',
  messagingOperationType: 'messaging.operation.type',
  messagingOperationName: 'messaging.operation.name',
  messagingDestinationName: 'messaging.destination.name',
  messagingDestinationTemplate: 'messaging.destination.template',
  messagingMessageId: 'messaging.message.id',
  /** `query`, `mutation`, `subscription` or `reinit`: what kind of operation a span is. */
  method: 'wirecall.method',
  input: 'wirecall.input',
  subscriptionOutcome: 'wirecall.subscription.outcome',
  resyncReason: 'wirecall.subscription.resync_reason',
  cancelReason: 'wirecall.cancel.reason',
  backpressureKind: 'wirecall.backpressure.kind',
  closeCode: 'wirecall.close_code',
  channelTopic: 'wirecall.channel.topic',
  channelSubscribers: 'wirecall.channel.subscribers',
} as const

/** `rpc.system.name` and `messaging.system`. */
export const SYSTEM = 'wirecall'
/** `rpc.method` (and the span name) of a path the router does not have: a peer's typo or probe must not mint a new metric series. */
export const OTHER_METHOD = '_OTHER'
/** The span of a `reinit` (new connection params): not a procedure, so it has no `rpc.method`. */
export const REINIT_SPAN = 'wirecall.reinit'
/** Span event of a call cancelled by its caller or by its connection closing: not an error. */
export const CANCELLED_EVENT = 'cancelled'
/** `rpc.status_code` of a call that succeeded. */
export const STATUS_OK = 'OK'
/** `rpc.status_code` of a cancelled call (cancelled calls are no error: no `error.type`, status left unset). */
export const STATUS_CANCELLED = 'CANCELLED'

/**
 * The error codes that are the server's fault (HTTP 5xx in the error table):
 * only these set a SERVER span's status to ERROR, as OpenTelemetry's HTTP
 * and gRPC conventions do; a BAD_REQUEST or a NOT_FOUND is the caller's
 * error, an ERROR on the CLIENT span. `error.type` is written for all.
 */
const SERVER_FAULTS: ReadonlySet<string> = new Set(['INTERNAL', 'NOT_IMPLEMENTED', 'OVERLOADED', 'CONNECTION_LOST'])

/** Whether a SERVER span ending with `code` is an error (see {@link SERVER_FAULTS}). */
export function isServerFault(code: string): boolean {
  return SERVER_FAULTS.has(code)
}

/** Longest `wirecall.input` recorded, in UTF-16 code units; the rest is cut. */
export const MAX_INPUT_LENGTH = 1_024

/**
 * The input as JSON for `wirecall.input`, cut to {@link MAX_INPUT_LENGTH};
 * `undefined` when there is none or it cannot be written (a cycle, a
 * decoding error: recording must never fail a call). A BigInt is written as
 * its digits; a Map or Set as JSON writes it (`{}`).
 */
export function inputAttribute(read: () => unknown): string | undefined {
  let json: string | undefined
  try {
    json = JSON.stringify(read(), (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))
  } catch {
    return undefined
  }
  if (json === undefined || json.length <= MAX_INPUT_LENGTH) return json
  // Never cut a surrogate pair in two: the attribute would not be valid UTF-16.
  const end = isHighSurrogate(json.charCodeAt(MAX_INPUT_LENGTH - 1)) ? MAX_INPUT_LENGTH - 1 : MAX_INPUT_LENGTH
  return json.slice(0, end)
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff
}

/** `server.address` and `server.port` of a WebSocket URL (the port from its scheme when the URL has none); empty for no URL or a bad one. */
export function serverAttributes(url: string | undefined): Attributes {
  if (url === undefined) return {}
  try {
    const { hostname, port, protocol } = new URL(url)
    const number = port !== '' ? Number(port) : protocol === 'wss:' || protocol === 'https:' ? 443 : 80
    // URL keeps an IPv6 host in brackets; the attribute is the bare address.
    const address = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname
    return { [ATTR.serverAddress]: address, [ATTR.serverPort]: number }
  } catch {
    return {}
  }
}
