import type { IncomingMessage } from 'node:http'
import { CloseCode, utf8Length } from '@wirecall/core'
import type { KeepAliveSweep, KeptAlive } from './node/keep-alive'
import type { Session } from './session/session'
import type { RpcSocket, SocketEvents, UpgradeInfo } from './session/socket'

/**
 * What `server.opened()` hands back to an adapter for another socket
 * library: the session's inputs, plus what the `ws` binding would have
 * checked for it — binary frames refused, frames over `maxPayload` closed
 * with 1009 — and keep-alive for sockets that can send ping frames.
 */
export class ForeignSocketEvents implements SocketEvents, KeptAlive {
  heardAt = 0
  pingedAt = 0
  private readonly sweep: KeepAliveSweep | undefined

  constructor(
    private readonly session: Session,
    private readonly socket: RpcSocket,
    private readonly maxPayload: number,
    sweep: KeepAliveSweep | undefined,
  ) {
    this.sweep = socket.ping === undefined ? undefined : sweep
    this.sweep?.watch(this)
  }

  receive(data: string | ArrayBuffer | ArrayBufferView): void {
    this.sweep?.heard(this)
    if (typeof data !== 'string') return this.session.receive(null)
    if (data.length > this.maxPayload / 3 && utf8Length(data) > this.maxPayload) {
      return this.session.close(CloseCode.MessageTooBig, `frame larger than ${this.maxPayload} bytes`)
    }
    this.session.receive(data)
  }

  pong(): void {
    this.sweep?.heard(this)
  }

  closed(code?: number, reason?: string): void {
    this.sweep?.unwatch(this)
    this.session.closed(code, reason)
  }

  ping(): void {
    this.socket.ping?.()
  }

  terminate(): void {
    this.socket.terminate()
  }
}

/** The events of a socket the server refused (and closed): it has nothing more to say to them. */
export const IGNORED_EVENTS: SocketEvents = { receive() {}, pong() {}, closed() {} }

/**
 * What `createContext`, `onError` and `allowedOrigins` receive as `req` for
 * a socket from another library: the upgrade's headers, url and remote
 * address, in the places a Node request has them, and nothing else.
 */
export function requestStandIn(info: UpgradeInfo): IncomingMessage {
  return { headers: info.headers, url: info.url, socket: { remoteAddress: info.remoteAddress } } as unknown as IncomingMessage
}
