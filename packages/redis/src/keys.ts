/**
 * Key layout. Every key of one stream shares a hash tag (`{…}`), so the
 * stream and its meta hash live in one slot and a script may touch both on
 * a Redis Cluster. A name holding `}` still works: both keys are cut at the
 * same brace.
 */
export interface StreamKeys {
  /** The stream of encoded events. */
  readonly stream: string
  /** Hash: `e` the epoch, `n` events ever added, `h` the history publishers keep. */
  readonly meta: string
  /** Pub/sub channel of the stream's volatile events (never stored). */
  readonly volatile: string
}

export function streamKeys(prefix: string, stream: string): StreamKeys {
  return { stream: `${prefix}{${stream}}:s`, meta: `${prefix}{${stream}}:m`, volatile: `${prefix}{${stream}}:v` }
}

/** A key of its own slot for the other records (idempotency, presence). */
export function recordKey(prefix: string, kind: string, name: string): string {
  return `${prefix}{${kind}:${name}}`
}
