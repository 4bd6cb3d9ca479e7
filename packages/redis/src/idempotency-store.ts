import { RpcError } from '@wirecall/core'
import { errorOutcome, type IdempotencyClaim, type IdempotencyClaimRequest, type IdempotencyOutcome, type IdempotencyStore } from '@wirecall/server'
import { redisError, type RedisConnection } from './connection'
import { recordKey } from './keys'
import { CLAIM, RENEW, runScript } from './scripts'

/** Options of {@link redisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /** A connected node-redis v5 client. */
  client: RedisConnection
  /** Prefix of every key. @default 'wirecall:' */
  prefix?: string
  /**
   * How long a run holds its key without news from its node. The node renews
   * it every third of this while the mutation runs; a retry that finds it
   * expired gets `CONFLICT` (the node died: the outcome is unknown).
   * @default 5_000
   */
  leaseMs?: number
  /** How often a retry looks again while the first run goes on elsewhere. @default 50 */
  pollMs?: number
}

/** Defaults of {@link RedisIdempotencyStoreOptions}; the docs quote these. */
export const redisIdempotencyDefaults = { prefix: 'wirecall:', leaseMs: 5_000, pollMs: 50 } as const

/**
 * Idempotent mutations that run once across server processes: pass it as
 * `createRpcServer({ idempotency: { store } })`. A run is a Redis hash set
 * with `NX` semantics (one script): `running` with a lease its node renews,
 * then `done` with the encoded outcome, kept `idempotency.ttlMs`. A retry
 * on another node waits for the outcome and replays it; if the lease runs
 * out first (the node died mid-run), the retry gets `CONFLICT`, since the
 * mutation may or may not have happened — never a silent second run.
 *
 * @example
 * ```ts
 * createRpcServer({ router, idempotency: { store: redisIdempotencyStore({ client }) } })
 * ```
 */
export function redisIdempotencyStore(options: RedisIdempotencyStoreOptions): IdempotencyStore {
  const { client } = options
  const prefix = options.prefix ?? redisIdempotencyDefaults.prefix
  const leaseMs = Math.max(100, Math.floor(options.leaseMs ?? redisIdempotencyDefaults.leaseMs))
  const pollMs = Math.max(1, Math.floor(options.pollMs ?? redisIdempotencyDefaults.pollMs))

  /**
   * Sends a write, waiting for its reply only while Redis is reachable: the
   * caller's answer must not wait for Redis to come back. While node-redis
   * reconnects, the write waits in its queue and lands once Redis is back
   * (meanwhile a retry elsewhere finds the lease run out: `CONFLICT`).
   */
  const settle = (args: string[]): Promise<unknown> => {
    const sent = client.sendCommand(args).catch(() => {})
    return client.isReady ? sent : Promise.resolve()
  }

  return {
    async claim(request: IdempotencyClaimRequest): Promise<IdempotencyClaim> {
      const key = recordKey(prefix, 'idem', `${request.path}\n${request.key}`)
      try {
        for (;;) {
          const [verdict, kind, fields] = await runScript<[string, string?, string?]>(client, CLAIM, [key], [request.fingerprint, String(leaseMs), String(request.ttlMs)])
          switch (verdict) {
            case 'run':
              return running(key)
            case 'done':
              return { kind: 'outcome', outcome: { kind: kind === 'result' ? 'result' : 'error', fields: fields ?? '' } }
            case 'conflict':
              return refused(new RpcError('CONFLICT', 'This idempotency key was already used with a different input'))
            case 'lost':
              return refused(new RpcError('CONFLICT', 'The server running this idempotent mutation stopped before it finished: its outcome is unknown'))
          }
          if (request.signal.aborted) return refused(new RpcError('CANCELLED', 'Every caller cancelled'))
          await new Promise((resolve) => setTimeout(resolve, pollMs))
        }
      } catch (error) {
        return refused(redisError(error, 'the idempotency key could not be checked'))
      }

      function running(key: string): IdempotencyClaim {
        // Renewed while the mutation runs, so a retry elsewhere knows this node is alive.
        const renew = setInterval(() => void runScript(client, RENEW, [key], [String(leaseMs)]).catch(() => {}), Math.max(50, Math.floor(leaseMs / 3)))
        renew.unref()
        return {
          kind: 'run',
          async finish(outcome: IdempotencyOutcome) {
            clearInterval(renew)
            await settle(['HSET', key, 's', 'done', 'k', outcome.kind, 'v', outcome.fields])
            await settle(['PEXPIRE', key, String(request.ttlMs)])
          },
          async abandon() {
            clearInterval(renew)
            await settle(['DEL', key])
          },
        }
      }
    },
  }
}

function refused(error: RpcError): IdempotencyClaim {
  return { kind: 'outcome', outcome: errorOutcome(error) }
}
