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
 * only nesting past the stack fails, which the frame's depth bound rules
 * out unless `payloadLimits.maxDepth` was raised very high.
 */
export function jsonOfPeerValue(value: unknown): string | undefined {
  try {
    return JSON.stringify(value)
  } catch {
    return undefined
  }
}
