import type { CallMethod } from '@wirecall/core'
import type { ClientRuntime } from './client-runtime'
import type { CallOptions } from './options'
import { IteratorSink, handlerSink, isHandlers, type SubscribeOptions, type SubscriptionIterable } from './subscription'

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
  /** The procedure's dotted path, made on the first call rather than on every one. */
  let procedurePath: string | undefined
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
      if (last === 'subscribe' && path.length >= 2) return subscribe(runtime, path.slice(0, -1).join('.'), args[0], args[1])
      const method = last === undefined ? undefined : METHODS[last]
      if (method === undefined || path.length < 2) {
        throw new TypeError(`wirecall: "${path.join('.')}" is not callable; end a path with .query(), .mutate() or .subscribe()`)
      }
      procedurePath ??= path.slice(0, -1).join('.')
      return runtime.call(method, procedurePath, args[0], args[1] as CallOptions | undefined)
    },
  })
}

function subscribe(runtime: ClientRuntime, path: string, input: unknown, second: unknown): unknown {
  if (isHandlers(second)) return runtime.subscribe(path, input, () => handlerSink(second), second as SubscribeOptions)
  let sink: IteratorSink | undefined
  const subscription = runtime.subscribe(path, input, (unsubscribe) => (sink = new IteratorSink(unsubscribe)), second as SubscribeOptions | undefined)
  const iterable: SubscriptionIterable<unknown> = {
    [Symbol.asyncIterator]: () => ({ next: () => sink!.next(), return: () => sink!.return() }),
    unsubscribe: () => subscription.unsubscribe(),
    get state() {
      return subscription.state
    },
    get lastEventId() {
      return subscription.lastEventId
    },
  }
  return iterable
}
