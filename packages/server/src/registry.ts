import type { IncomingMessage } from 'node:http'
import { ConnectionCounter } from './admission'
import type { SessionConfig } from './session/config'
import { Session, type SessionOwner } from './session/session'
import type { RpcSocket } from './session/socket'
import type { ServerConnection, ServerStats } from './rpc-server'

/**
 * The sessions of one server, whatever socket each came on: counted
 * against the connection caps while open, and kept after they close until
 * their resolvers and generators have finished (`unwinding`), so that
 * `stats()` and `close()` see everything the server still holds.
 */
export class SessionRegistry implements SessionOwner {
  private readonly sessions = new Set<Session>()
  /**
   * The remote address each session was counted under (a destroyed socket forgets its own).
   * Only with a per-address cap: without one, every session is counted under ''.
   */
  private readonly addresses = new Map<Session, string>()
  private readonly unwinding = new Set<Promise<void>>()
  /** Shutdown waiting for sessions' sockets to be gone. */
  private readonly goneWaiters = new Map<Session, () => void>()
  private readonly counter: ConnectionCounter

  constructor(
    private readonly config: SessionConfig,
    maxConnections: number,
    private readonly maxPerAddress: number | undefined,
  ) {
    this.counter = new ConnectionCounter(maxConnections, maxPerAddress)
  }

  get size(): number {
    return this.sessions.size
  }

  /** The address a connection is counted under: '' unless there is a per-address cap (reading it costs the socket an object). */
  addressOf(remoteAddress: () => string | undefined): string {
    return this.maxPerAddress === undefined ? '' : (remoteAddress() ?? '')
  }

  /** Counts a new connection from `address` against the caps; returns why it is refused, or `undefined`. */
  admit(address: string): string | undefined {
    return this.counter.admit(address)
  }

  /** Makes the session of an admitted connection. */
  open(socket: RpcSocket, req: IncomingMessage, address: string): Session {
    const session = new Session(socket, req, this.config, this)
    this.sessions.add(session)
    if (address !== '') this.addresses.set(session, address)
    return session
  }

  /** A session is gone: uncount it, and keep waiting for what it left unwinding. */
  released(session: Session): void {
    if (this.sessions.delete(session)) {
      this.counter.release(this.addresses.get(session) ?? '')
      this.addresses.delete(session)
    }
    this.goneWaiters.get(session)?.()
    this.goneWaiters.delete(session)
    const settled = session.settled()
    this.unwinding.add(settled)
    void settled.then(() => this.unwinding.delete(settled))
  }

  /** Resolves once the session's socket is gone (it called `closed()`). */
  gone(session: Session): Promise<void> {
    if (!this.sessions.has(session)) return Promise.resolve()
    return new Promise((resolve) => this.goneWaiters.set(session, resolve))
  }

  /** The open sessions, as they are now. */
  list(): Session[] {
    return [...this.sessions]
  }

  /** The sessions past `ack`, as `server.connections()` lists them. */
  connections(): ServerConnection<object, object>[] {
    const connections: ServerConnection<object, object>[] = []
    for (const session of this.sessions) if (session.isReady) connections.push({ ctx: session.ctx!, peer: session.peer })
    return connections
  }

  /** Resolves when every closed session's resolvers and generators have finished. */
  unwound(): Promise<unknown> {
    return Promise.all(this.unwinding)
  }

  stats(): ServerStats {
    let inFlightCalls = 0
    let subscriptions = 0
    for (const session of this.sessions) {
      inFlightCalls += session.inFlightCalls
      subscriptions += session.liveSubscriptions
    }
    const idempotencyKeys = this.config.idempotency.size
    const peerCalls = this.config.peerCalls.inFlight
    return { connections: this.sessions.size, inFlightCalls, subscriptions, unwinding: this.unwinding.size, idempotencyKeys, peerCalls }
  }
}
