import type { RequestListener } from 'node:http'
import type { RpcServer } from '@wirecall/server'
import type { WebSocketServer } from 'ws'
import type { z } from 'zod'
import type { User } from '../../fixtures/router'

export * from '../common'

/** In the recipes, the wirecall server mounted on an app's HTTP server is `rpc`. */
export declare const rpc: RpcServer
/** The app's request handler: pages, REST, health checks. */
export declare const app: RequestListener
/** Another WebSocket server, on another path. */
export declare const otherWss: WebSocketServer
/** "Authenticate connections": the schema of connectionParams, which the next sample reuses. */
export declare const Params: z.ZodObject<{ token: z.ZodString }>
export declare function authenticate(connectionParams: unknown): Promise<{ user?: User }>
export declare function sessionFromCookie(cookie: string | undefined): User | undefined
