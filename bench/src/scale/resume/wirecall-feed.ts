/**
 * The resume case's wirecall server, as docs/subscriptions.md writes a feed
 * that survives a dropped connection: a channel with a history of the size
 * measured, returned from the subscription with the client's `lastEventId`.
 * Every server option at its default.
 */
import { createChannel, createRpcServer, initRpc } from '@wirecall/server'
import { pushEvent, type PushEvent } from '../../contract'
import type { FeedServer } from './feed-server'

function createFeedRouter(history: number) {
  const rpc = initRpc.create()
  const feed = createChannel<PushEvent>({ history })
  const router = rpc.router({
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => feed.subscribe({ lastEventId, signal })),
  })
  return { router, feed }
}

/** The router's type, for the client. */
export type FeedRouter = ReturnType<typeof createFeedRouter>['router']

export async function serveWirecallFeed(history: number): Promise<FeedServer> {
  const { router, feed } = createFeedRouter(history)
  const server = createRpcServer({ router })
  const { port } = await server.listen({ port: 0, host: '127.0.0.1', path: '/rpc' })
  return {
    port,
    publish: (seq) => void feed.publish(pushEvent(seq)),
    subscribers: () => feed.subscriberCount,
    close: () => server.close(),
  }
}
