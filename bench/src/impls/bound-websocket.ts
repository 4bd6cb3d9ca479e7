/**
 * `ws`'s WebSocket with its socket bound to a source address, for the
 * clients that take a WebSocket constructor (wirecall, tRPC) rather than
 * socket options: a scale case spreads thousands of connections over
 * 127.0.0.2, 127.0.0.3, ... so that no address runs out of ephemeral ports.
 */
import WebSocket from 'ws'

/** What the clients call: `new WebSocket(url, protocols?)`. */
export type WebSocketClass = new (url: string | URL, protocols?: string | string[]) => WebSocket

/**
 * One class per address, made once: a class per connection would give each
 * socket a hidden class of its own, and ws's hot paths (send, receive) would
 * go megamorphic in a process of thousands of connections, slowing the
 * clients that take a constructor and not those that take socket options.
 */
const classes = new Map<string, WebSocketClass>()

/** A constructor of `ws` WebSockets whose connections leave from `localAddress`; `ws` itself when undefined. */
export function boundWebSocket(localAddress: string | undefined): WebSocketClass {
  if (localAddress === undefined) return WebSocket
  let bound = classes.get(localAddress)
  if (bound === undefined) {
    bound = class BoundWebSocket extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols, { localAddress })
      }
    }
    classes.set(localAddress, bound)
  }
  return bound
}
