import { hashKey, skipToken, type QueryKey } from '@tanstack/query-core'
import { defaultSerializer } from '@wirecall/core'
import type { KeyType } from './types'

/**
 * TanStack's `queryKeyHashFn` for wirecall keys. TanStack's own hash is
 * `JSON.stringify` with sorted object keys: it throws on a `BigInt` and
 * writes every `Map` and `Set` as `{}`, so different inputs would share one
 * cache entry. This one writes the key in wirecall's wire format (superjson's:
 * the JSON plus the annotations that say which values are a `BigInt`, a
 * `Map`, a `Date`...), then hashes that with TanStack's hash, object keys
 * sorted. So rich inputs get distinct keys, the same input always the same
 * one, and a JSON-plain key hashes exactly as TanStack would hash it.
 *
 * Every options object of the binding carries it. Give it to the
 * `QueryClient` too (`defaultOptions.queries.queryKeyHashFn`) when you call
 * `getQueryData` or `setQueryData` with keys that hold rich inputs.
 */
export function queryKeyHashFn(queryKey: QueryKey): string {
  const { json, meta } = defaultSerializer.serialize(queryKey)
  return hashKey(meta === undefined ? (json as QueryKey) : [json, meta])
}

/** `[...path, { input, type }]`, with `input` left out when there is none (so that the key matches every input). */
export function keyOf(path: readonly string[], input: unknown, type: KeyType | undefined): QueryKey {
  const tail: { input?: unknown; type?: KeyType } = {}
  if (input !== undefined && input !== skipToken) tail.input = input
  if (type !== undefined) tail.type = type
  return [...path, tail]
}
