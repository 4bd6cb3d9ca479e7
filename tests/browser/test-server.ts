import { onTestFinished } from 'vitest'
import { createRpcServer, type Channel, type RpcServer } from '@wirecall/server'
import { sleep } from '../helpers/async'
import { createTestRouter, type FeedEvent } from './fixtures/router'

/** A server of the browser and runtime tests' router, listening on 127.0.0.1. */
export interface RpcHandle {
  server: RpcServer
  url: string
  port: number
}

/**
 * A server for the test router on `port` (0: a free one), closed after the
 * test. `feed` is the test's: it outlives the server, so a server started
 * again on the same port replays what a resuming client missed. Retries
 * while the port is still held by the server before it, 3 s at most.
 */
export async function startRpc(feed: Channel<FeedEvent>, port = 0): Promise<RpcHandle> {
  const deadline = Date.now() + 3_000
  for (;;) {
    const server = createRpcServer({ router: createTestRouter(feed) })
    try {
      const info = await server.listen({ port, host: '127.0.0.1', path: '/rpc' })
      onTestFinished(() => server.close())
      return { server, url: info.url, port: info.port }
    } catch (error) {
      await server.close()
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) throw error
      await sleep(20)
    }
  }
}
