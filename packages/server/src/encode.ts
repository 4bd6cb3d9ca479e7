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

/**
 * Like {@link encodeWithData}, but returns only the fields, as JSON text to
 * splice after a message's `"type"` and `"id"` (empty, or starting with a
 * comma): an outcome kept for replay is encoded once and stamped with each
 * caller's id.
 */
export function encodeFields(serializer: Serializer, head: Record<string, unknown>, value: unknown): string {
  const text = encodeWithData(serializer, head, value)
  return text === '{}' ? '' : `,${text.slice(1, -1)}`
}
