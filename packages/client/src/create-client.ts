import type { AnyClientApi, AnyRouter, Router } from '@wirecall/core'
import { Client } from './client'
import type { RpcClientOptions } from './options'
import { createPathProxy } from './proxy'
import type { ConnectionHandle, RpcClient } from './types'

/** The message of the compile error for `createRpcClient({ url })`, written without `<AppRouter>`. */
export type RouterTypeMissingMessage = 'pass your router type: createRpcClient<AppRouter>(…)'

/**
 * The router type that `createRpcClient` gets when none is written: the
 * options say nothing about the router, so the compiler has nothing to
 * infer. Its context slot carries the message, which {@link RouterTypeCheck}
 * turns into the options' type, so the call itself fails and says why,
 * instead of compiling to a client on which every call fails far away.
 */
export type RouterTypeMissing = Router<{ readonly [routerTypeMissing]: RouterTypeMissingMessage }, {}>

// A symbol key, so that no context's string index signature (`Record<string, number>`) answers for it.
declare const routerTypeMissing: unique symbol

/**
 * `unknown` (no constraint) for a real router or client API shape, the
 * message for {@link RouterTypeMissing}. Read from the router's context
 * slot, so that inside a generic function (`createRpcClient<TRouter>(options)`
 * with `TRouter extends AnyRouter`, or `extends AnyRouter | AnyClientApi`)
 * the compiler resolves it from the constraint (a context of `any`) and
 * wrappers compile. (Over `AnyClientApi` alone it does not: the test stays
 * unresolved there; such a wrapper takes the union.)
 */
type RouterTypeCheck<TRouter extends AnyRouter | AnyClientApi> = ((TRouter extends AnyRouter ? TRouter['_def']['ctx'] : {}) & {
  readonly [routerTypeMissing]?: unknown
})[typeof routerTypeMissing]

/**
 * Creates a typed client for a router whose type you import from the server,
 * or for a client API shape: `inferClientApi<AppRouter>`, or the `AppApi`
 * that `wirecall generate types` writes for a repository without the
 * server's source.
 * The router type is required: `createRpcClient({ url })` is a compile
 * error that says "pass your router type: createRpcClient<AppRouter>(…)".
 *
 * @example
 * ```ts
 * import type { AppRouter } from '../server/router'
 * const api = createRpcClient<AppRouter>({ url: 'ws://localhost:3000/rpc' })
 * const text = await api.greet.query({ name: 'Ada' })
 * ```
 */
export function createRpcClient<TRouter extends AnyRouter | AnyClientApi = RouterTypeMissing>(
  options: RpcClientOptions & RouterTypeCheck<TRouter>,
): RpcClient<TRouter> {
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
