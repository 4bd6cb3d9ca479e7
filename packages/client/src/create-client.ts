import type { AnyRouter } from '@wirecall/core'
import { ClientRuntime } from './client-runtime'
import type { RpcClientOptions } from './options'
import { createPathProxy } from './proxy'
import type { ConnectionHandle, RpcClient } from './types'

/**
 * Creates a typed client for a router whose type you import from the server.
 *
 * @example
 * ```ts
 * import type { AppRouter } from '../server/router'
 * const api = createRpcClient<AppRouter>({ url: 'ws://localhost:3000/rpc' })
 * const text = await api.greet.query({ name: 'Ada' })
 * ```
 */
export function createRpcClient<TRouter extends AnyRouter>(options: RpcClientOptions): RpcClient<TRouter> {
  const runtime = new ClientRuntime(options)
  const $connection: ConnectionHandle = {
    get state() {
      return runtime.state
    },
    get bufferedAmount() {
      return runtime.bufferedAmount
    },
    get rttMs() {
      return runtime.rttMs
    },
    get error() {
      return runtime.error
    },
    on: (event, listener) => runtime.events.on(event, listener),
    connect: () => runtime.connect(),
    updateParams: (params) => runtime.updateParams(params),
    close: () => runtime.close(),
  }
  const paths = createPathProxy(runtime, []) as object
  return new Proxy(paths, {
    get(target, key, receiver) {
      if (key === '$connection') return $connection
      if (typeof key === 'string' && key.startsWith('$')) return undefined
      return Reflect.get(target, key, receiver)
    },
  }) as RpcClient<TRouter>
}
