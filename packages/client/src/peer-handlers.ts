import {
  RpcError,
  decodePayload,
  errorFields,
  resultFrame,
  stampFrame,
  validate,
  type AnyClientProcedure,
  type AnyClientRouter,
  type ClientImplementation,
  type PeerCallMessage,
  type Serializer,
} from '@wirecall/core'

/**
 * Most of the server's calls one client runs at once; the next is
 * answered `TOO_MANY_REQUESTS` without running, so a server cannot pile
 * work up in a tab.
 */
const MAX_RUNNING = 64

/**
 * What `implementClient` returns and `createRpcClient({ handlers })` takes:
 * the client procedures this client implements. One value may serve
 * several clients: each runs its own calls.
 */
export interface ClientHandlers {
  /** The paths advertised in `init`: every procedure of the client router. */
  readonly paths: readonly string[]
  /** @internal What `createRpcClient` calls once, with its serializer: the calls of that client. */
  serve(serializer: Serializer): HandlerRuns
}

/** @internal The server's calls one client is running, by the server's ids. */
export interface HandlerRuns {
  /** Runs a server `call`; `send` writes the answer on the connection it came on. */
  call(message: PeerCallMessage, send: (frame: string) => void): void
  /** The server gave up on call `id`: its handler's signal aborts, and nothing is sent for it. */
  cancel(id: number): void
  /** The connection the calls came on is gone: every handler's signal aborts, and nothing is sent for them. */
  abortAll(): void
}

type Handler = (input: unknown, options: { signal: AbortSignal; path: string }) => unknown

/**
 * Implements a client router: a function for every procedure it declares
 * (a missing one throws a `TypeError` here, not when the server calls).
 * Pass the result as `createRpcClient({ handlers })`; the client then
 * advertises the paths, and answers the server's calls to them: the input
 * is validated first (`BAD_REQUEST` to the server, and the handler never
 * runs), the output after (`INTERNAL`). An `RpcError` thrown reaches the
 * server with its code, message and data; anything else is `INTERNAL`,
 * without its message. The handler's `signal` aborts when the server
 * cancels or gives up, or the connection drops: its answer would go nowhere.
 *
 * @example
 * ```ts
 * const api = createRpcClient<AppRouter>({
 *   url,
 *   handlers: implementClient(clientRouter, { ui: { confirm: async ({ text }) => window.confirm(text) } }),
 * })
 * ```
 */
export function implementClient<TRouter extends AnyClientRouter>(router: TRouter, implementation: ClientImplementation<TRouter['_def']['record']>): ClientHandlers {
  const table = new Map<string, [AnyClientProcedure, Handler]>()
  for (const [path, procedure] of router._def.procedures) {
    let handler: unknown = implementation
    for (const key of path.split('.')) handler = (handler as Record<string, unknown> | undefined)?.[key]
    if (typeof handler !== 'function') throw new TypeError(`implementClient(): no function for "${path}"`)
    table.set(path, [procedure, handler as Handler])
  }
  return { paths: [...table.keys()], serve: (serializer) => serve(table, serializer) }
}

function serve(table: Map<string, [AnyClientProcedure, Handler]>, serializer: Serializer): HandlerRuns {
  const running = new Map<number, AbortController>()
  const fail = (id: number, error: unknown): string => {
    // Only an RpcError says what the server may know; anything else could carry the app's internals.
    const { code, message, data } = error instanceof RpcError ? error : new RpcError('INTERNAL', 'The client handler failed')
    return stampFrame('error', id, errorFields(serializer, code, message, data))
  }
  const run = async (message: PeerCallMessage, [procedure, handler]: [AnyClientProcedure, Handler], signal: AbortSignal): Promise<string> => {
    const { id, path } = message
    try {
      let input: unknown
      try {
        input = decodePayload(serializer, message.input, message.meta)
      } catch (cause) {
        throw new RpcError('BAD_REQUEST', 'The input could not be deserialized', { cause })
      }
      const schemas = procedure._def
      if (schemas.input !== undefined) input = await validate(schemas.input, input)
      let output = await handler(input, { signal, path })
      if (schemas.output !== undefined) output = await validate(schemas.output, output, 'output')
      return resultFrame(serializer, id, output)
    } catch (error) {
      return fail(id, error)
    }
  }
  return {
    call(message, send) {
      const { id } = message
      // A second call under an id still running (a server bug) is dropped: answering it would settle the first.
      if (running.has(id)) return
      const entry = table.get(message.path)
      if (entry === undefined) return send(fail(id, new RpcError('NOT_IMPLEMENTED', `This client does not implement "${message.path}"`)))
      if (running.size >= MAX_RUNNING) return send(fail(id, new RpcError('TOO_MANY_REQUESTS', 'Too many calls running on this client')))
      const controller = new AbortController()
      running.set(id, controller)
      void run(message, entry, controller.signal).then((frame) => {
        // Cancelled or dropped meanwhile (the id may even be a new connection's now): nothing goes out.
        if (running.get(id) !== controller) return
        running.delete(id)
        send(frame)
      })
    },
    cancel(id) {
      running.get(id)?.abort()
      running.delete(id)
    },
    abortAll() {
      for (const controller of running.values()) controller.abort()
      running.clear()
    },
  }
}
