import { PROTOCOL } from '@wirecall/core'
import { createRpcServer, type RpcServer, type RpcServerOptions, type RpcSocket, type SocketEvents } from '@wirecall/server'
import type { AnyRouter } from '@wirecall/core'

/**
 * An in-memory {@link RpcSocket} for session tests: frames the session
 * writes are recorded (parsed, batches flattened), and so are closes,
 * terminations and pings. A peer that answers a close reports `closed()`
 * in the next microtask, as a live one would.
 */
export class FakeSocket implements RpcSocket {
  protocol = PROTOCOL
  bufferedAmount = 0
  /** Every frame written, as sent. */
  readonly frames: string[] = []
  /** Every message written, in order (batch frames flattened). */
  readonly messages: Record<string, unknown>[] = []
  readonly closes: { code: number; reason: string }[] = []
  terminated = 0
  pings = 0
  /** Set by the test once the session exists: what `close()` and `terminate()` report back. */
  events: SocketEvents | undefined
  private gone = false

  /** Whether the session has paused reading (only for sockets made with `canPause`). */
  paused = false
  /** How many times reading was paused. */
  pauses = 0

  constructor(private readonly behaviour: { answersClose?: boolean; canPing?: boolean; canPause?: boolean } = {}) {
    if (behaviour.canPing === true) this.ping = () => void this.pings++
    if (behaviour.canPause === true) {
      this.pause = () => {
        this.paused = true
        this.pauses++
      }
      this.resume = () => void (this.paused = false)
    }
  }

  ping?: () => void
  pause?: () => void
  resume?: () => void

  send(data: string): void {
    if (this.gone) return
    this.frames.push(data)
    const parsed = JSON.parse(data) as Record<string, unknown> | Record<string, unknown>[]
    this.messages.push(...(Array.isArray(parsed) ? parsed : [parsed]))
  }

  close(code: number, reason: string): void {
    this.closes.push({ code, reason })
    if (this.behaviour.answersClose !== false) queueMicrotask(() => this.drop())
  }

  terminate(): void {
    this.terminated++
    this.drop()
  }

  /** The socket is gone (the peer closed, or the network dropped): tells the session once. */
  drop(): void {
    if (this.gone) return
    this.gone = true
    this.events?.closed()
  }

  /** The messages of one type, in order. */
  of(type: string): Record<string, unknown>[] {
    return this.messages.filter((m) => m.type === type)
  }

  /** The one message answering `id`, if any. */
  answer(id: number): Record<string, unknown> | undefined {
    const answers = this.messages.filter((m) => m.id === id && (m.type === 'result' || m.type === 'error'))
    if (answers.length > 1) throw new Error(`id ${id} was answered ${answers.length} times`)
    return answers[0]
  }
}

/** A server and one session on a fake socket, driven by frames. */
export interface FakeSession {
  server: RpcServer
  socket: FakeSocket
  events: SocketEvents
  /** Sends one message (or a batch) as a text frame. */
  send(message: unknown): void
}

/** Opens a session on a {@link FakeSocket} through `server.opened()`, the seam any socket library uses. */
export function openSession<TRouter extends AnyRouter>(
  options: RpcServerOptions<TRouter>,
  socket = new FakeSocket(),
  info: Parameters<RpcServer['opened']>[1] = { headers: {}, remoteAddress: '127.0.0.1', url: '/rpc' },
): FakeSession {
  const server = createRpcServer(options)
  const events = server.opened(socket, info)
  socket.events = events
  return { server, socket, events, send: (message) => events.receive(JSON.stringify(message)) }
}
