import { QueryClient, hashKey, skipToken } from '@tanstack/query-core'
import { describe, expect, it } from 'vitest'
import type { RpcClient } from '@wirecall/client'
import { createQueryUtils, queryKeyHashFn } from '../src/index'
import type { AppRouter } from './fixture-router'

/**
 * Keys and their hash, with no client behind them: the shape of each key,
 * and why the binding brings its own `queryKeyHashFn`.
 */

// The utils never touch the client to build a key or options.
const wc = createQueryUtils({} as RpcClient<AppRouter>, { prefix: 'wc' })
/** The same, untyped: for paths and inputs the router does not have. */
const untyped = wc as unknown as Record<string, { key(): unknown; queryKey(input?: unknown): unknown[] } | undefined>

describe('keys', () => {
  it('are [prefix, ...path, { input, type }], the input left out when there is none', () => {
    expect(wc.key()).toEqual(['wc'])
    expect(wc.post.key()).toEqual(['wc', 'post'])
    expect(wc.post.byId.queryKey({ id: '1' })).toEqual(['wc', 'post', 'byId', { input: { id: '1' }, type: 'query' }])
    expect(wc.post.byId.queryKey()).toEqual(['wc', 'post', 'byId', { type: 'query' }])
    expect(wc.post.add.mutationKey()).toEqual(['wc', 'post', 'add', { type: 'mutation' }])
    expect(wc.prices.queryKey({ symbol: 'A' }, 'live')).toEqual(['wc', 'prices', { input: { symbol: 'A' }, type: 'live' }])
    expect(wc.post.byId.queryOptions({ id: '1' }).queryKey).toEqual(wc.post.byId.queryKey({ id: '1' }))
    expect(wc.prices.liveOptions({ symbol: 'A' }).queryKey).toEqual(wc.prices.queryKey({ symbol: 'A' }, 'live'))
    expect(wc.prices.streamedOptions({ symbol: 'A' }).queryKey).toEqual(wc.prices.queryKey({ symbol: 'A' }, 'streamed'))
    expect(wc.prices.subscriptionOptions({ symbol: 'A' }).queryKey).toEqual(['wc', 'prices', { input: { symbol: 'A' }, type: 'subscription' }])
  })

  it('skipToken disables the query and leaves the input out of the key', () => {
    for (const options of [wc.post.byId.queryOptions(skipToken), wc.prices.liveOptions(skipToken), wc.prices.streamedOptions(skipToken)]) {
      expect(options.queryFn).toBe(skipToken)
      expect(options.queryKey.at(-1)).not.toHaveProperty('input')
    }
    expect(wc.prices.subscriptionOptions(skipToken).enabled).toBe(false)
    expect(wc.prices.subscriptionOptions({ symbol: 'A' }, { enabled: false }).enabled).toBe(false)
    expect(wc.prices.subscriptionOptions({ symbol: 'A' }).enabled).toBe(true)
  })

  it('a path segment named like an Object.prototype method is a path, not the method', () => {
    expect((Reflect.get(wc, 'toString') as { key(): unknown }).key()).toEqual(['wc', 'toString'])
    expect(untyped.then).toBeUndefined() // `await wc` does not look for a procedure named then
  })

  it('a key without input matches every input of its path; key() every kind too', () => {
    const client = new QueryClient()
    for (const id of ['1', '2']) client.setQueryData(wc.post.byId.queryKey({ id }), { id, title: id, at: new Date(0) })
    client.setQueryData(wc.prices.queryKey({ symbol: 'A' }, 'live'), 1)
    expect(client.getQueryCache().findAll({ queryKey: wc.post.byId.queryKey() })).toHaveLength(2)
    expect(client.getQueryCache().findAll({ queryKey: wc.post.key() })).toHaveLength(2)
    expect(client.getQueryCache().findAll({ queryKey: wc.key() })).toHaveLength(3)
  })
})

describe('queryKeyHashFn', () => {
  const key = (input: unknown) => untyped.post!.queryKey(input)

  it("TanStack's own hash throws on a BigInt and writes Map and Set as {} (why the binding brings its own)", () => {
    expect(() => hashKey(key(1n))).toThrow(/BigInt/)
    expect(hashKey(key(new Map([['a', 1]])))).toBe(hashKey(key(new Map([['b', 2]]))))
    expect(hashKey(key(new Set([1])))).toBe(hashKey(key(new Set([2]))))
  })

  it('gives BigInt, Map, Set and Date inputs distinct hashes', () => {
    const inputs = [
      1n,
      2n,
      '1', // the JSON of 1n, without the annotation
      new Map([['a', 1]]),
      new Map([['a', 2]]),
      new Map([['b', 1]]),
      new Set([1]),
      new Set([2]),
      [1], // the JSON of new Set([1])
      new Date(0),
      new Date(1),
      { at: new Date(0) },
      { n: 1n, m: new Map([[1n, new Set(['x'])]]) },
      { n: 1n, m: new Map([[1n, new Set(['y'])]]) },
      undefined,
      null,
    ]
    const hashes = inputs.map((input) => queryKeyHashFn(key(input)))
    expect(new Set(hashes).size).toBe(inputs.length)
  })

  it('is stable: the same input, built again, in another key order, hashes the same', () => {
    const a = { n: 1n, where: { b: 2, a: 1 }, tags: new Set(['x']) }
    const b = { tags: new Set(['x']), where: { a: 1, b: 2 }, n: 1n }
    expect(queryKeyHashFn(key(a))).toBe(queryKeyHashFn(key(b)))
    expect(queryKeyHashFn(key(new Map([[1n, 'x']])))).toBe(queryKeyHashFn(key(new Map([[1n, 'x']]))))
  })

  it("equals TanStack's hash for JSON-plain keys, so getQueryData finds them with a default QueryClient", () => {
    for (const input of [{ id: '1' }, { b: [1, 2], a: null }, undefined, 'x']) expect(queryKeyHashFn(key(input))).toBe(hashKey(key(input)))
    const client = new QueryClient()
    const options = wc.post.byId.queryOptions({ id: '1' })
    const post = { id: '1', title: 'hello', at: new Date(0) }
    client.getQueryCache().build(client, options).setData(post, { manual: true })
    expect(client.getQueryData(options.queryKey)).toBe(post)
  })

  it('as the QueryClient default, makes getQueryData and setQueryData work with rich keys', () => {
    const client = new QueryClient({ defaultOptions: { queries: { queryKeyHashFn } } })
    client.setQueryData(key(1n), 'one')
    client.setQueryData(key(new Set([1])), 'set 1')
    client.setQueryData(key(new Set([2])), 'set 2')
    expect(client.getQueryData(key(1n))).toBe('one')
    expect(client.getQueryData(key(new Set([2])))).toBe('set 2')
    expect(client.getQueryCache().getAll()).toHaveLength(3)
  })
})
