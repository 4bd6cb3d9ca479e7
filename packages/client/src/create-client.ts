import type { AnyRouter } from '@wirecall/core'
import { Client } from './client'
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
  const client = new Client(options)
  const $connection: ConnectionHandle = {
    get state() {
      return client.state
    },
    get bufferedAmount() {
      return client.bufferedAmount
    },
    get rttMs() {
      return client.rttMs
    },
    get error() {
      return client.error
    },
    on: (event, listener) => client.events.on(event, listener),
    connect: () => client.connect(),
    updateParams: (params) => client.updateParams(params),
    close: () => client.close(),
  }
  const paths = createPathProxy(client, []) as object
  return new Proxy(paths, {
    get(target, key, receiver) {
      if (key === '$connection') return $connection
      if (typeof key === 'string' && key.startsWith('$')) return undefined
      return Reflect.get(target, key, receiver)
    },
  }) as RpcClient<TRouter>
}
