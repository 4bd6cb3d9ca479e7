import type { Server } from 'node:http'
import type { RpcClient } from '@wirecall/client'
import type { RpcInstance } from '@wirecall/core'
import type { RpcServer } from '@wirecall/server'
import type { AppRouter, User } from '../fixtures/router'

/**
 * What a fragment of the docs may use without importing it: the library's
 * entry points, and the app a reader of the guides has (a router, its
 * client, a server, a database). A page adds its own names in
 * preludes/<page>.ts, which re-exports these. Only fragments see a prelude:
 * a block that names its file (`// server.ts`) must import what it uses.
 */

export { createRpcClient, isResync, isRpcError, type ConnectionState } from '@wirecall/client'
export { createChannel, createRpcServer, initRpc, RpcError } from '@wirecall/server'
export { z } from 'zod'
export { appRouter, appRouter as router, type AppRouter, type User } from '../fixtures/router'
export { db } from '../fixtures/db'

/** The builders, for the context of the guides: `{ user?: User }`. */
export declare const rpc: RpcInstance<{ user?: User }>
export declare const api: RpcClient<AppRouter>
export declare const server: RpcServer
export declare const httpServer: Server
/** The server's URL, `ws://` or `wss://`. */
export declare const url: string

/** A session store, as `createContext` would ask it. */
export declare const sessions: {
  verify(token: string): Promise<(User & { banned: boolean }) | undefined>
  find(connectionParams: unknown): Promise<{ user: User } | undefined>
}
