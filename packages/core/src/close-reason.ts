/** Most bytes a close frame's reason may hold (RFC 6455, 125 - 2 for the code). */
const MAX_CLOSE_REASON_BYTES = 123

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Cuts `reason` to what a close frame can carry, without splitting a character. */
export function truncateCloseReason(reason: string): string {
  const bytes = encoder.encode(reason)
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason
  let end = MAX_CLOSE_REASON_BYTES
  // Step back over UTF-8 continuation bytes (10xxxxxx) to a character boundary.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--
  return decoder.decode(bytes.subarray(0, end))
}
