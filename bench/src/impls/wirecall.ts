/**
 * wirecall as its docs show it: `createRpcServer(...).listen()` with a router
 * of a zod-validated query, an async-generator subscription, a channel for
 * the shared feed and a mutation; the client is `createRpcClient` with its
 * defaults (superjson, reconnect on), given `ws` because Node 20 has no
 * global WebSocket.
 *
 * Every server option is at its default, the rate limit and the limit on
 * calls in flight included: the client keeps within what the server
 * announces in its `ack`, so the cost of keeping within it is measured too.
 *
 * {@link createWirecallImpl} makes the same implementation with
 * instrumentation (issue 20): wirecall-hooks.ts and wirecall-otel.ts; and
 * with another build of wirecall: wirecall-baseline.ts.
 */
import { createRpcClient, type ClientInstrumentation } from '@wirecall/client'
import { createChannel, createRpcServer, initRpc, type ServerInstrumentation } from '@wirecall/server'
import { burstPacer, publishedEvent } from './publish-events'
import { echoInputSchema, echoTextInputSchema, nextMacrotask, publishInputSchema, streamInputSchema } from './schemas'
import { pushEvent, type BenchConnection, type BenchServer, type ConnectOptions, type Impl, type ImplName, type PushEvent, type ServeOptions } from '../contract'
import { boundWebSocket } from './bound-websocket'
import { failLater } from './util'

// The bench measures the built packages, as an app gets them. Running the
// sources instead (tsx follows a tsconfig `paths` mapping, like the root
// tsconfig.json's) would measure something else: refuse.
for (const pkg of ['@wirecall/server', '@wirecall/client']) {
  const resolved = import.meta.resolve(pkg)
  if (!resolved.includes('/dist/')) throw new Error(`${pkg} resolves to ${resolved}, not to a built dist/: tsx must use bench/tsconfig.json (main.ts passes it as TSX_TSCONFIG_PATH)`)
}

/**
 * The wirecall functions an implementation runs: the built packages
 * imported above, or another build of them (wirecall-baseline.ts). Each
 * side is loaded only in the process that runs it.
 */
export interface WirecallLib {
  server(): Promise<{ createRpcServer: typeof createRpcServer; createChannel: typeof createChannel; initRpc: typeof initRpc }>
  client(): Promise<{ createRpcClient: typeof createRpcClient }>
}

const builtPackages: WirecallLib = {
  server: async () => ({ createRpcServer, createChannel, initRpc }),
  client: async () => ({ createRpcClient }),
}

/**
 * Instrumentation for a variant, made in the process that uses it (the
 * server's in the server process, the client's in the client process), so
 * that each process sets up only its own side.
 */
export interface Instrument {
  /** The server's (and its channel's) instrumentation. */
  server(): readonly ServerInstrumentation[]
  /** One client's instrumentation. */
  client(): readonly ClientInstrumentation[]
}

/** Makes the router with its own feed channel, so each server has its own subscribers. */
function createWirecallRouter(lib: Awaited<ReturnType<WirecallLib['server']>>, instrumentation?: readonly ServerInstrumentation[]) {
  const rpc = lib.initRpc.create()
  // The channel is what docs/subscriptions.md recommends for fan-out: one
  // ring of events shared by every subscriber. Its defaults are kept.
  const feed = lib.createChannel<PushEvent>(instrumentation === undefined ? {} : { name: 'feed', instrumentation })

  return rpc.router({
    echo: rpc.procedure.input(echoInputSchema).query(({ input }) => input),

    echoText: rpc.procedure.input(echoTextInputSchema).query(({ input }) => input),

    stream: rpc.procedure.input(streamInputSchema).subscription(async function* ({ input }) {
      for (let seq = 0; seq < input.count; seq++) yield pushEvent(seq)
    }),

    feed: rpc.procedure.subscription(({ signal }) => feed.subscribe({ signal })),

    publish: rpc.procedure.input(publishInputSchema).mutation(async ({ input }) => {
      const paced = burstPacer(input)
      for (let seq = 0; seq < input.count; ) {
        const end = Math.min(input.count, seq + input.burst)
        for (; seq < end; seq++) feed.publish(publishedEvent(seq, input))
        if (seq < input.count) await (paced?.(seq) ?? nextMacrotask())
      }
      return { published: input.count }
    }),
  })
}

/** The router's type, for clients written elsewhere (the storm scale case's). */
export type WirecallRouter = ReturnType<typeof createWirecallRouter>

async function serve(lib: WirecallLib, instrument: Instrument | undefined, options: ServeOptions = {}): Promise<BenchServer> {
  const server = await lib.server()
  const instrumentation = instrument?.server()
  // Without instrumentation, the option is left out altogether, as an app that never heard of it writes it.
  // A scale case past the default cap on connections raises it; otherwise the option is left out.
  const capacity = options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }
  // Likewise the payload case, where a default refuses its largest size, and on its line with the rate limit off.
  const frames = {
    ...(options.maxPayload === undefined ? {} : { maxPayload: options.maxPayload }),
    ...(options.rateLimit === false ? { rateLimit: false as const } : {}),
    ...(options.maxBufferedAmount === undefined ? {} : { backpressure: { maxBufferedAmount: options.maxBufferedAmount } }),
  }
  const rpcServer =
    instrumentation === undefined
      ? server.createRpcServer({ router: createWirecallRouter(server), ...capacity, ...frames })
      : server.createRpcServer({ router: createWirecallRouter(server, instrumentation), instrumentation, ...capacity, ...frames })
  const { port } = await rpcServer.listen({ port: options.port ?? 0, host: '127.0.0.1', path: '/rpc' })
  // A restart (a deploy) announces the reconnect window; without one, the plain close (1001).
  const restart = options.restart
  const restartOptions = restart?.reconnectWindowMs === undefined ? {} : { reconnectWindowMs: restart.reconnectWindowMs }
  return { port, close: () => (restart === undefined ? rpcServer.close() : rpcServer.close(restartOptions)) }
}

/** An error the client reported where no caller waits: the run must fail, not go on. */
function unexpected(what: string, detail?: unknown): Error {
  const code = typeof detail === 'object' && detail !== null && 'code' in detail ? ` (${String(detail.code)})` : ''
  return new Error(`wirecall: ${what}${code}`, { cause: detail })
}

async function connect(lib: WirecallLib, port: number, instrument: Instrument | undefined, options: ConnectOptions = {}): Promise<BenchConnection> {
  const { createRpcClient } = await lib.client()
  const url = `ws://127.0.0.1:${port}/rpc`
  const WebSocket = boundWebSocket(options.localAddress)
  // The queue's default bound is left out unless a case's calls outgrow it (the payload case's largest size).
  const queue = options.maxQueuedBytes === undefined ? {} : { offlineQueue: { maxBytes: options.maxQueuedBytes } }
  const api =
    instrument === undefined
      ? createRpcClient<WirecallRouter>({ url, WebSocket, ...queue })
      : createRpcClient<WirecallRouter>({ url, WebSocket, instrumentation: instrument.client(), ...queue })
  const connection = api.$connection

  await new Promise<void>((resolve, reject) => {
    if (connection.state === 'open') return resolve()
    const stop = connection.on('state', (state) => {
      if (state === 'open') {
        stop()
        resolve()
      } else if (state === 'closed' || state === 'reconnecting') {
        stop()
        reject(unexpected(`could not connect to port ${port}: ${state}`, connection.error))
      }
    })
  }).catch(async (error: unknown) => {
    await connection.close() // it would go on retrying
    throw error
  })
  /** Set by `close()`, which ends live subscriptions with CANCELLED on purpose. */
  let closing = false
  const fail = (error: Error) => {
    if (!closing) failLater(error)
  }
  // A drop during a run would be papered over by reconnects: fail instead.
  connection.on('close', ({ code, reason }) => fail(unexpected(`the connection dropped: ${code} ${reason}`)))

  return {
    echo: (input) => api.echo.query(input),
    echoText: (input) => api.echoText.query(input),

    stream(count, onEvent) {
      return new Promise<void>((resolve, reject) => {
        api.stream.subscribe(
          { count },
          {
            onData: onEvent,
            onComplete: resolve,
            onError: reject,
            onResync: () => reject(unexpected('stream: unexpected resync')),
          },
        )
      })
    },

    feed(onEvent) {
      return new Promise<{ stop(): void }>((resolve, reject) => {
        let started = false
        const sub = api.feed.subscribe(undefined, {
          onData: onEvent,
          // The server has taken its place in the channel: what is published from now on reaches it.
          onStarted: () => {
            started = true
            resolve({ stop: () => sub.unsubscribe() })
          },
          // A resync means events were skipped; nothing waits on the promise any more.
          onResync: () => fail(unexpected('feed: resync (events were skipped)')),
          onError: (error) => (started ? fail(unexpected('feed failed', error)) : reject(error)),
          onComplete: () => fail(unexpected('feed completed')),
        })
      })
    },

    publish: (input) => api.publish.mutate(input),

    close() {
      closing = true
      return connection.close()
    },
  }
}

/**
 * wirecall as {@link wirecall} runs it, named `name`, with the
 * instrumentation `instrument` makes on each side, from `lib` (default: the
 * built packages).
 */
export function createWirecallImpl(name: ImplName, instrument: Instrument | undefined, lib: WirecallLib = builtPackages): Impl {
  return { name, serve: (options) => serve(lib, instrument, options), connect: (port, options) => connect(lib, port, instrument, options) }
}

/** wirecall: `@wirecall/server` + `@wirecall/client`, built packages, no instrumentation. */
export const wirecall: Impl = createWirecallImpl('wirecall', undefined)
