import type { Serializer } from '@wirecall/core'

/**
 * Encodes a message whose payload goes through the serializer: `head` holds
 * the envelope fields, `value` becomes `data` (+ `meta`). Throws what the
 * serializer or `JSON.stringify` throws (circular values, say); callers
 * turn that into a per-call error.
 */
export function encodeWithData(serializer: Serializer, head: Record<string, unknown>, value: unknown): string {
  if (value === undefined) return JSON.stringify(head)
  const { json, meta } = serializer.serialize(value)
  head.data = json
  if (meta !== undefined) head.meta = meta
  return JSON.stringify(head)
}
