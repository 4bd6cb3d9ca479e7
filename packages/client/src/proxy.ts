import type { CallMethod } from '@wirecall/core'
import type { Client } from './client'
import type { CallOptions } from './options'

const METHODS: Readonly<Record<string, CallMethod>> = Object.assign(Object.create(null) as Record<string, CallMethod>, {
  query: 'query',
  mutate: 'mutation',
})

/**
 * The untyped runtime behind `RpcClient<TRouter>`: property access builds a
 * path, and calling `query` / `mutate` at the end of it makes the call. The
 * router is never needed at runtime; the type is cast once, at the edge.
 * Child proxies are cached per path, so `api.a.b.query` allocates nothing
 * after its first use.
 */
export function createPathProxy(client: Client, path: readonly string[]): unknown {
  const children = new Map<string, unknown>()
  const target = function () {}
  /** The procedure's dotted path, made on the first call rather than on every one. */
  let procedurePath: string | undefined
  return new Proxy(target, {
    get(_target, key) {
      // Symbols and `then` must not look like path segments: `await api` and
      // `String(api.x)` would otherwise make calls.
      if (typeof key !== 'string' || key === 'then') return undefined
      let child = children.get(key)
      if (child === undefined) {
        child = createPathProxy(client, [...path, key])
        children.set(key, child)
      }
      return child
    },
    apply(_target, _this, args: unknown[]) {
      const last = path[path.length - 1]
      if (last === 'subscribe' && path.length >= 2) return client.subscribe(path.slice(0, -1).join('.'), args[0], args[1])
      const method = last === undefined ? undefined : METHODS[last]
      if (method === undefined || path.length < 2) {
        throw new TypeError(`wirecall: "${path.join('.')}" is not callable; end a path with .query(), .mutate() or .subscribe()`)
      }
      procedurePath ??= path.slice(0, -1).join('.')
      return client.call(method, procedurePath, args[0], args[1] as CallOptions | undefined)
    },
  })
}
