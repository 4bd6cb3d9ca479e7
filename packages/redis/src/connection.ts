import { RpcError } from '@wirecall/core'

/**
 * What `@wirecall/redis` uses of a node-redis client (`createClient()` from
 * `redis` v5, connected, RESP2 — the default). Structural, so the package
 * does not pin your client's module, function or script types.
 */
export interface RedisConnection {
  sendCommand<T = unknown>(args: ReadonlyArray<string>): Promise<T>
  /** A new connection with the same options: the blocking reader gets its own. */
  duplicate(): RedisConnection
  connect(): Promise<unknown>
  close(): Promise<void>
  destroy(): void
  readonly isReady: boolean
  on(event: 'error', listener: (error: Error) => void): unknown
  /** Pub/sub, on a duplicate made for it: how volatile events reach other nodes. */
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<unknown>
  unsubscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<unknown>
}

/** A Redis failure as the error a caller sees: retryable, the cause kept for logs. */
export function redisError(cause: unknown, what: string): RpcError {
  return new RpcError('OVERLOADED', `Redis is unavailable: ${what}`, { cause })
}
