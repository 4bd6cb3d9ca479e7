import type { IncomingMessage } from 'node:http'
import { CloseCode, RpcError, type AnyClientRouter, type AnyRouter, type ClientRouter, type inferPeer, type inferRouterContext } from '@wirecall/core'
import { originRefusal } from './admission'
import { ForeignSocketEvents, IGNORED_EVENTS, requestStandIn } from './foreign-socket'
import { HttpMount } from './node/http-mount'
import { KeepAliveSweep } from './node/keep-alive'
import { refuseWs, serveWs } from './node/ws-socket'
import { serverDefaults, type RpcServerOptions } from './options'
import { SessionRegistry } from './registry'
import type { RpcServer, ServerConnection } from './rpc-server'
import { resolveConfig } from './session/config'
import { callOnError, closeReport, upgradeRefusalReport } from './session/errors'
import { closeAll, restart, withDeadline } from './shutdown'

/**
 * Creates a wirecall server for a router.
 *
 * @example
 * ```ts
 * const server = createRpcServer({ router: appRouter, createContext: ({ connectionParams }) => auth(connectionParams) })
 * await server.listen({ port: 3000, path: '/rpc' })
 * ```
 */
export function createRpcServer<TRouter extends AnyRouter, TClientRouter extends AnyClientRouter = ClientRouter<{}>>(
  options: RpcServerOptions<TRouter> & { clientRouter?: TClientRouter },
): RpcServer<inferRouterContext<TRouter>, inferPeer<TClientRouter>> {
  const config = resolveConfig(options)
  const registry = new SessionRegistry(config, options.maxConnections ?? serverDefaults.maxConnections, options.maxConnectionsPerIp)
  /** One keep-alive timer for all the connections, not one each. */
  const keepAlive = options.keepAlive === false ? undefined : new KeepAliveSweep({ ...serverDefaults.keepAlive, ...options.keepAlive })
  let closing: Promise<void> | undefined
  const mount = new HttpMount(
    options,
    (ws, req) => server.handleConnection(ws, req),
    () => closing !== undefined,
    (req, status, reason) => report(req, upgradeRefusalReport(status, reason), undefined),
  )

  /** Tells `onError` of a connection refused before it had a session. */
  function report(req: IncomingMessage, error: RpcError, closeCode: number | undefined): void {
    const opts = { error, path: undefined, type: undefined, ctx: undefined, req }
    callOnError(options.onError, closeCode === undefined ? opts : { ...opts, closeCode })
  }

  /**
   * Admission of a connection whose WebSocket is already open: `undefined`
   * when it is served (and then counted); else it is refused, `onError` is
   * told, and the close code and reason are returned. A refusal is a close
   * code rather than an HTTP status because a WebSocket client can read
   * the one and not the other; the terminal 4403 stops the client.
   */
  function refusal(req: IncomingMessage, address: string): [code: number, reason: string] | undefined {
    let refused: [code: number, reason: string, cause?: unknown] | undefined
    if (closing !== undefined) {
      refused = [CloseCode.GoingAway, 'server is shutting down']
    } else {
      const origin = originRefusal(options, req)
      if (origin !== undefined) {
        refused = [CloseCode.Forbidden, origin.reason, origin.cause]
      } else {
        const overCap = registry.admit(address)
        if (overCap === undefined) return undefined
        refused = [CloseCode.TryAgainLater, overCap]
      }
    }
    const [code, reason, cause] = refused
    report(req, closeReport(code, reason, cause), code)
    return [code, reason]
  }

  const server: RpcServer<inferRouterContext<TRouter>, inferPeer<TClientRouter>> = {
    get connectionCount() {
      return registry.size
    },

    // The peers are typed by `clientRouter`, the contexts by the router: both made at run time without them.
    connections: () => registry.connections() as ServerConnection<inferRouterContext<TRouter>, inferPeer<TClientRouter>>[],

    stats: () => registry.stats(),

    handleUpgrade: (req, socket, head) => mount.handleUpgrade(req, socket, head),

    handleConnection(ws, req) {
      const address = registry.addressOf(() => req.socket?.remoteAddress)
      const refused = refusal(req, address)
      if (refused !== undefined) return refuseWs(ws, ...refused)
      serveWs(ws, keepAlive, (socket) => registry.open(socket, req, address))
    },

    opened(socket, info) {
      const req = requestStandIn(info)
      const address = registry.addressOf(() => info.remoteAddress)
      const refused = refusal(req, address)
      if (refused !== undefined) {
        socket.close(...refused)
        return IGNORED_EVENTS
      }
      const session = registry.open(socket, req, address)
      return new ForeignSocketEvents(session, socket, config.maxPayload, keepAlive)
    },

    attach: (httpServer, attachOptions) => mount.attach(httpServer, attachOptions),

    listen: (listenOptions) => mount.listen(listenOptions),

    close(closeOptions) {
      closing ??= (async () => {
        const listenersClosed = mount.stopListening()
        if (closeOptions === undefined) await closeAll(registry)
        else await restart(registry, closeOptions)
        await Promise.all([
          withDeadline(registry.unwound(), serverDefaults.closeTimeoutMs),
          withDeadline(config.idempotency.abortAll(new RpcError('CANCELLED', 'The server closed')), serverDefaults.closeTimeoutMs),
        ])
        mount.detach()
        await listenersClosed
        mount.dispose()
      })()
      return closing
    },
  }
  return server
}
