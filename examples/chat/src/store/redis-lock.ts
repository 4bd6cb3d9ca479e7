import { randomUUID } from 'node:crypto'
import { RpcError } from '@wirecall/core'
import type { RedisConnection } from '@wirecall/redis'

/** Deletes the lock only if it is still ours: a lease that ran out may belong to another node by now. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** How {@link withLock} waits and how long it holds. */
export interface LockOptions {
  /** How long the lock holds if its node dies holding it. */
  leaseMs: number
  /** How long to wait for it before giving up with `OVERLOADED`. */
  waitMs: number
}

/**
 * Runs `run` while holding the Redis lock `key` (`SET NX PX`), so that
 * only one node at a time runs it, whatever node calls. A node killed
 * while it holds the lock blocks the others for at most `leaseMs`.
 */
export async function withLock<T>(client: RedisConnection, key: string, options: LockOptions, run: () => Promise<T>): Promise<T> {
  const token = randomUUID()
  const deadline = Date.now() + options.waitMs
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    const taken = await client.sendCommand<string | null>(['SET', key, token, 'NX', 'PX', String(options.leaseMs)])
    if (taken === 'OK') break
    if (Date.now() > deadline) throw new RpcError('OVERLOADED', 'the room is busy: try again')
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
  try {
    return await run()
  } finally {
    await client.sendCommand(['EVAL', RELEASE, '1', key, token]).catch(() => {}) // else it expires after leaseMs
  }
}
