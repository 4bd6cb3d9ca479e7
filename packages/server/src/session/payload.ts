import { RpcError, checkPayload, decodePayload, isRpcError } from '@wirecall/core'
import type { SessionConfig } from './config'

/**
 * Decodes a payload from the peer (an input, connection params). The
 * bounds come first: a hostile `meta` must be refused before the
 * serializer walks it. Throws what the bounds or the serializer throw.
 */
export function decodeFromPeer(config: SessionConfig, json: unknown, meta: unknown): unknown {
  if (json === undefined && meta === undefined) return undefined
  checkPayload(json, config.serializer.metaFormat === 'superjson' ? meta : undefined, config.payloadLimits)
  return decodePayload(config.serializer, json, meta)
}

/** Decodes a call's or subscription's input; anything wrong with it is the caller's `BAD_REQUEST`. */
export function decodeInput(config: SessionConfig, json: unknown, meta: unknown): unknown {
  try {
    return decodeFromPeer(config, json, meta)
  } catch (cause) {
    // A payload bound already says which bound; anything else is the serializer refusing.
    throw isRpcError(cause) ? cause : new RpcError('BAD_REQUEST', 'The input could not be deserialized', { cause })
  }
}

/**
 * `JSON.stringify` of a value from the peer, or `undefined` when it cannot
 * be written: a value parsed from the wire has no cycle and no bigint, so
 * only nesting past the stack fails, which the frame's shape bound rules
 * out unless `payloadLimits.maxDepth` was raised very high.
 */
export function jsonOfPeerValue(value: unknown, replacer?: (key: string, value: unknown) => unknown): string | undefined {
  try {
    return JSON.stringify(value, replacer)
  } catch {
    return undefined
  }
}

/**
 * A value from the peer as canonical JSON: the keys of every object in an
 * order that depends only on the keys (sorted, then laid out as JavaScript
 * lays out own keys: integer-like ones first), so that two encodings of one
 * input that differ only in key order (a client in another language, a
 * retry that rebuilt its input) give the same text. `undefined` when it
 * cannot be written (see {@link jsonOfPeerValue}).
 */
export function canonicalJsonOfPeerValue(value: unknown): string | undefined {
  return jsonOfPeerValue(value, sortKeys)
}

/** A `JSON.stringify` replacer that rebuilds each plain object with its keys sorted; arrays keep their order. */
function sortKeys(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    // An own `__proto__` key is data: define it, or assigning would set the prototype.
    Object.defineProperty(sorted, key, { value: (value as Record<string, unknown>)[key], enumerable: true, writable: true, configurable: true })
  }
  return sorted
}
