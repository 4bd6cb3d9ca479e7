import type { Server } from 'node:http'

export * from './common'

/**
 * The Fastify instance of the page's first block, which builds it with the
 * real `Fastify()` and is compiled against fastify's types. Those resolve
 * only from tests/frameworks, not from here, so this declares the two
 * members the page's later blocks use.
 */
export declare const app: {
  readonly server: Server
  addHook(name: 'preClose', hook: () => Promise<void>): unknown
}
