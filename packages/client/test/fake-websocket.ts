import { PROTOCOL } from '@wirecall/core'
import type { WebSocketLike } from '@wirecall/client'

type Handler<E> = ((event: E) => void) | null

/**
 * A WHATWG-like WebSocket the test plays the server of: every instance the
 * client makes is recorded in {@link FakeWebSocket.made}; the test opens
 * it, feeds it frames and closes it, and reads what the client wrote.
 * Nothing touches the network, so the client's timers are the only clock.
 */
export class FakeWebSocket implements WebSocketLike {
  /** Every socket made, oldest first; reset by the test. */
  static made: FakeWebSocket[] = []

  readyState = 0
  protocol = ''
  bufferedAmount = 0
  onopen: Handler<unknown> = null
  onmessage: Handler<{ data: unknown }> = null
  onclose: Handler<{ code: number; reason: string }> = null
  onerror: Handler<unknown> = null
  /** Every message the client wrote, in order (batch frames flattened). */
  readonly sent: Record<string, unknown>[] = []
  /** Every frame the client wrote, as written. */
  readonly frames: string[] = []
  /** What the client closed with, if it did. */
  closedWith: { code: number | undefined; reason: string | undefined } | undefined

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeWebSocket.made.push(this)
  }

  /** The newest socket. */
  static get last(): FakeWebSocket {
    const socket = FakeWebSocket.made.at(-1)
    if (socket === undefined) throw new Error('no socket was made')
    return socket
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open')
    this.frames.push(data)
    const parsed = JSON.parse(data) as Record<string, unknown> | Record<string, unknown>[]
    this.sent.push(...(Array.isArray(parsed) ? parsed : [parsed]))
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason }
    if (this.readyState === 3) return
    this.readyState = 2
    // The peer answers the close, as a live server would.
    queueMicrotask(() => this.closeNow(code ?? 1005, reason ?? ''))
  }

  // ---- what the test, as the server, does ----

  /** The upgrade succeeded with `protocol`. */
  open(protocol = PROTOCOL): void {
    this.readyState = 1
    this.protocol = protocol
    this.onopen?.({})
  }

  /** Delivers one frame: a message, or an array of them (a batch), or raw text. */
  receive(message: unknown): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) })
  }

  /** Opens and acknowledges `init`. */
  accept(maxPayload?: number): void {
    this.open()
    this.receive(maxPayload === undefined ? { type: 'ack' } : { type: 'ack', maxPayload })
  }

  /** The connection ends with `code` (1006: the network dropped). */
  closeNow(code: number, reason = ''): void {
    if (this.readyState === 3) return
    this.readyState = 3
    this.onclose?.({ code, reason })
  }

  /** The messages of one type the client wrote. */
  of(type: string): Record<string, unknown>[] {
    return this.sent.filter((m) => m.type === type)
  }
}
