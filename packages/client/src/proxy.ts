import type { CallMethod } from '@wirecall/core'
import type { ClientRuntime } from './client-runtime'
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
export function createPathProxy(runtime: ClientRuntime, path: readonly string[]): unknown {
  const children = new Map<string, unknown>()
  const target = function () {}
  return new Proxy(target, {
    get(_target, key) {
      // Symbols and `then` must not look like path segments: `await api` and
      // `String(api.x)` would otherwise make calls.
      if (typeof key !== 'string' || key === 'then') return undefined
      let child = children.get(key)
      if (child === undefined) {
        child = createPathProxy(runtime, [...path, key])
        children.set(key, child)
      }
      return child
    },
    apply(_target, _this, args: unknown[]) {
      const last = path[path.length - 1]
      const method = last === undefined ? undefined : METHODS[last]
      if (method === undefined || path.length < 2) {
        throw new TypeError(`wirecall: "${path.join('.')}" is not callable; end a path with .query() or .mutate()`)
      }
      return runtime.call(method, path.slice(0, -1).join('.'), args[0], args[1] as CallOptions | undefined)
    },
  })
}
