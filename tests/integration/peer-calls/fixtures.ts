import WebSocket from 'ws'
import { z } from 'zod'
import { onTestFinished } from 'vitest'
import { clientProcedure, createChannel, defineClientRouter, initRpc, RpcError, type inferPeer } from '@wirecall/core'
import { implementClient, type RpcClient, type RpcClientOptions } from '@wirecall/client'
import { createRpcServer, type PeerCallsOptions, type RpcServer } from '@wirecall/server'
import { connectClient, rawPeer, sleep, type RawPeer } from '../../helpers/harness'

/**
 * What the peer-call tests share: a client router, a server router whose
 * resolvers call it, a server on 127.0.0.1 typed by it, and clients that
 * implement it and record what their handlers saw.
 */

export const clientRouter = defineClientRouter({
  ui: {
    confirm: clientProcedure.input(z.object({ text: z.string() })).output(z.boolean()),
  },
  math: {
    double: clientProcedure.input(z.number()).output(z.number()),
  },
  /** Holds until `ms` passed or the server cancels; answers how it ended. */
  hold: clientProcedure.input(z.object({ ms: z.number() })).output(z.string()),
  /** Throws an RpcError with the code asked for; `secret` throws a plain Error. */
  fail: clientProcedure.input(z.object({ code: z.string() })),
  chain: {
    /** Answers `n + 1` by asking the server (`plusOne`): a client handler awaiting a call to the server. */
    viaServer: clientProcedure.input(z.number()).output(z.number()),
    /** Answers `2n` by asking the server for `doubleViaClient`, which calls `math.double` back on this client. */
    roundTrip: clientProcedure.input(z.number()).output(z.number()),
  },
})
export type ClientRouter = typeof clientRouter

export interface Ctx {
  name: string
}
const rpc = initRpc.context<Ctx>().peer<ClientRouter>().create()

/** What the resolver of `holdSeen` caught from its call to the client: the error code, in order. */
export const holdSeen: string[] = []

/** A room is a channel topic; its members are the connections subscribed to it, as `{ ctx, peer }`. */
export const rooms = createChannel<string, { ctx: Ctx; peer: inferPeer<ClientRouter> }>()

export const router = rpc.router({
  plusOne: rpc.procedure.input(z.number()).query(({ input }) => input + 1),
  /** A resolver awaiting its client: the server→client→server chain starts here. */
  viaClient: rpc.procedure.input(z.number()).mutation(({ peer, input, signal }) => peer.chain.viaServer.call(input, { signal })),
  /** The client→server→client leg of `chain.roundTrip`. */
  doubleViaClient: rpc.procedure.input(z.number()).mutation(({ peer, input, signal }) => peer.math.double.call(input, { signal })),
  confirm: rpc.procedure.input(z.string()).mutation(({ peer, input, signal }) => peer.ui.confirm.call({ text: input }, { signal })),
  /** Holds its client's `hold` handler until the caller cancels. */
  holdVia: rpc.procedure.mutation(({ peer, signal }) => peer.hold.call({ ms: 10_000 }, { signal })),
  /** Holds its client's `hold` handler with its own signal, and records how that call to the client ended. */
  holdSeen: rpc.procedure.mutation(async ({ peer, signal }) => {
    try {
      await peer.hold.call({ ms: 10_000 }, { signal })
    } catch (error) {
      holdSeen.push(error instanceof RpcError ? error.code : 'not an RpcError')
    }
  }),
  /** Joins a room for as long as the subscription lives: the server can then call everyone in it. */
  join: rpc.procedure.input(z.string()).subscription(({ ctx, peer, input, signal }) => rooms.topic(input).subscribe({ signal, member: { ctx, peer } })),
})
export type AppRouter = typeof router

export type PeerServer = RpcServer<Ctx, import('@wirecall/core').inferPeer<ClientRouter>>

/** A server typed by the client router, on 127.0.0.1; each connection's `ctx.name` comes from its params. Closed after the test. */
export async function startPeerServer(options: { peerCalls?: PeerCallsOptions; keepAlive?: false | { intervalMs: number; timeoutMs: number } } = {}) {
  const server = createRpcServer({
    router,
    clientRouter,
    keepAlive: options.keepAlive ?? false,
    ...(options.peerCalls === undefined ? {} : { peerCalls: options.peerCalls }),
    createContext: ({ connectionParams }) => ({ name: String((connectionParams as { name?: unknown } | undefined)?.name ?? 'anonymous') }),
  })
  const info = await server.listen({ port: 0, host: '127.0.0.1', path: '/rpc' })
  onTestFinished(async () => {
    await server.close()
    if (server.connectionCount !== 0) throw new Error(`server leaked ${server.connectionCount} connections`)
  })
  return { server, url: info.url }
}

/** What a test client's handlers saw. */
export interface HandlerLog {
  /** Calls each handler received, by path. */
  calls: string[]
  /** Handlers whose signal aborted, by path. */
  aborted: string[]
}

/** Records every `ws` socket a client opens, so that a test can cut one abruptly. */
export class RecordedWebSocket extends WebSocket {
  static readonly opened: WebSocket[] = []
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args)
    RecordedWebSocket.opened.push(this)
  }
}

/**
 * A client implementing the whole client router, named `name` (its
 * `ctx.name` on the server). `confirm` answers whether the text ends with
 * `?`; `hold` waits for its time or its signal.
 */
export function peerClient(url: string, name: string, options: Partial<RpcClientOptions> = {}): { api: RpcClient<AppRouter>; log: HandlerLog } {
  const log: HandlerLog = { calls: [], aborted: [] }
  let api: RpcClient<AppRouter> | undefined
  const seen = (path: string, signal: AbortSignal) => {
    log.calls.push(path)
    signal.addEventListener('abort', () => log.aborted.push(path), { once: true })
  }
  const handlers = implementClient(clientRouter, {
    ui: {
      confirm: ({ text }, { signal, path }) => {
        seen(path, signal)
        return text.endsWith('?')
      },
    },
    math: {
      double: (n, { signal, path }) => {
        seen(path, signal)
        return n * 2
      },
    },
    hold: async ({ ms }, { signal, path }) => {
      seen(path, signal)
      await sleep(ms, signal)
      return signal.aborted ? 'aborted' : 'held'
    },
    fail: ({ code }, { signal, path }) => {
      seen(path, signal)
      if (code === 'secret') throw new Error('the database password is hunter2')
      throw new RpcError(code as 'CONFLICT', `failed with ${code}`, { data: { why: 'asked to' } })
    },
    chain: {
      viaServer: (n, { signal, path }) => {
        seen(path, signal)
        return api!.plusOne.query(n, { signal })
      },
      roundTrip: (n, { signal, path }) => {
        seen(path, signal)
        return api!.doubleViaClient.mutate(n, { signal })
      },
    },
  })
  api = connectClient<AppRouter>(url, { connectionParams: { name }, handlers, ...options })
  return { api, log }
}

/** The connection named `name`, once it is set up. */
export async function connectionNamed(server: PeerServer, name: string) {
  for (let i = 0; i < 600; i++) {
    const found = server.connections().find((c) => c.ctx.name === name)
    if (found !== undefined) return found
    await sleep(5)
  }
  throw new Error(`no connection named ${name} within 3 s`)
}

/** A raw peer past `ack` that advertised `handlers` (speaks the protocol by hand). */
export async function rawHandlerPeer(url: string, name: string, handlers: string[] | undefined): Promise<RawPeer> {
  const peer = await rawPeer(url)
  peer.send(handlers === undefined ? { type: 'init', params: { name } } : { type: 'init', params: { name }, handlers })
  await peer.next((m) => m.type === 'ack')
  return peer
}
