/**
 * The storm's wirecall subscriber: `createRpcClient` with every default
 * (reconnect with backoff, resubscription, the server's restart notice
 * obeyed) and one `feed` subscription; its socket bound to a source
 * address through a subclass of ws's WebSocket.
 */
import { createRpcClient } from '@wirecall/client'
import { boundWebSocket } from '../../impls/bound-websocket'
// For its check that @wirecall/* resolve to the built packages, as in every other wirecall process.
import type { WirecallRouter } from '../../impls/wirecall'
import '../../impls/wirecall'
import { checkPublished, type OpenSubscriber } from './subscriber'

export const openWirecallSubscriber: OpenSubscriber = (port, localAddress, hooks) => {
  const api = createRpcClient<WirecallRouter>({ url: `ws://127.0.0.1:${port}/rpc`, WebSocket: boundWebSocket(localAddress) })
  let closing = false
  const subscription = api.feed.subscribe(undefined, {
    // Every start, resubscriptions included: the server has taken the subscriber into its channel.
    onStarted: () => hooks.started(),
    onData: (event) => hooks.event(event),
    onResync: () => hooks.resync(),
    onError: (error) => {
      if (!closing) hooks.failed(new Error('storm/wirecall: feed failed', { cause: error }))
    },
    onComplete: () => {
      if (!closing) hooks.failed(new Error('storm/wirecall: feed completed'))
    },
  })
  api.$connection.on('close', ({ code }) => {
    if (!closing) hooks.dropped(`close ${code}`)
  })
  api.$connection.on('reconnect', ({ delayMs }) => hooks.retry(delayMs))
  return {
    async publish(count) {
      checkPublished('wirecall', await api.publish.mutate({ count, burst: count }), count)
    },
    close() {
      closing = true
      subscription.unsubscribe()
      return api.$connection.close()
    },
  }
}
