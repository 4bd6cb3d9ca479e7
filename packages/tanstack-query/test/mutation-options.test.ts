import { MutationObserver, QueryClient } from '@tanstack/query-core'
import type { RpcClient } from '@wirecall/client'
import { RpcError } from '@wirecall/core'
import { describe, expect, it } from 'vitest'
import { createQueryUtils } from '../src/index'
import type { AppRouter } from './fixture-router'

/**
 * `mutationOptions` over a stand-in for the client's `mutate`, run by
 * query-core's own MutationObserver: which options reach the client, and
 * the idempotency key's life (one per `mutate()`, kept across TanStack's
 * retries of that call). The same over real sockets is in
 * tests/integration/tanstack-query.
 */

function recordingApi(failFirst: number) {
  const calls: { input: unknown; options: { idempotencyKey?: string | undefined; timeoutMs?: number | undefined } }[] = []
  const api = {
    post: {
      add: {
        mutate: (input: unknown, options: { idempotencyKey?: string | undefined; timeoutMs?: number | undefined }) => {
          calls.push({ input, options })
          if (calls.length <= failFirst) return Promise.reject(new RpcError('TIMEOUT', 'no answer in time'))
          return Promise.resolve({ ok: input })
        },
      },
    },
  }
  return { api: api as unknown as RpcClient<AppRouter>, calls }
}

describe('mutationOptions', () => {
  it('an idempotent mutation gets one key per mutate(), the same for each retry of it', async () => {
    const { api, calls } = recordingApi(2)
    const wc = createQueryUtils(api, { prefix: 'wc' })
    const observer = new MutationObserver(new QueryClient(), { ...wc.post.add.mutationOptions({ idempotent: true }), retry: 2, retryDelay: 0 })
    await expect(observer.mutate({ title: 'a' })).resolves.toEqual({ ok: { title: 'a' } } as never)
    await expect(observer.mutate({ title: 'b' })).resolves.toEqual({ ok: { title: 'b' } } as never)
    expect(calls).toHaveLength(4)
    const [first, retry1, retry2, second] = calls.map((c) => c.options.idempotencyKey)
    expect(first).toMatch(/^\d+(-\d+){3}$/)
    expect(retry1).toBe(first)
    expect(retry2).toBe(first)
    expect(second).not.toBe(first)
    expect(second).toMatch(/^\d+(-\d+){3}$/)
  })

  it('a plain mutation sends no key, and its error is the RpcError', async () => {
    const { api, calls } = recordingApi(1)
    const wc = createQueryUtils(api, { prefix: 'wc' })
    const observer = new MutationObserver(new QueryClient(), wc.post.add.mutationOptions())
    const error: unknown = await observer.mutate({ title: 'a' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RpcError)
    expect(observer.getCurrentResult().error).toBe(error)
    expect(calls[0]!.options.idempotencyKey).toBeUndefined()
    expect(calls[0]!.options).not.toHaveProperty('idempotent')
  })

  it('passes timeoutMs to the call, and keeps it out of the TanStack options', async () => {
    const { api, calls } = recordingApi(0)
    const wc = createQueryUtils(api, { prefix: 'wc' })
    const options = wc.post.add.mutationOptions({ timeoutMs: 120_000 })
    expect(options).not.toHaveProperty('timeoutMs')
    await new MutationObserver(new QueryClient(), options).mutate({ title: 'a' })
    expect(calls[0]!.options).toEqual({ idempotencyKey: undefined, timeoutMs: 120_000 })
  })
})
