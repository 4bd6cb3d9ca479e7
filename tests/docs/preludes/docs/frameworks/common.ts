import type { Duplex } from 'node:stream'
import type { RpcServer } from '@wirecall/server'

export * from '../../common'

/** The framework pages' wirecall server, mounted on `httpServer`. */
export declare const rpc: RpcServer
/** node-http.md defines it; the other pages link there. */
export declare function refuseUpgrade(socket: Duplex, status: number): void
