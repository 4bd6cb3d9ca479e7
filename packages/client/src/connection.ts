import {
  NORMAL_CLOSURE,
  PROTOCOL_ERROR,
  ABNORMAL_CLOSURE,
  FrameBatcher,
  MAX_BATCH_CHARS,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL,
  RpcError,
  parseServerFrame,
  truncateCloseReason,
  type AnnouncedLimits,
  type KeepAliveOptions,
  type ServerMessage,
} from '@wirecall/core'
import { Heartbeat } from './heartbeat'
import { SendBudget } from './send-budget'
import { unref } from './timers'
import { CLOSED, OPEN, type WebSocketConstructor, type WebSocketLike } from './websocket'

/** The WebSocket implementation: the `WebSocket` option, else the runtime's global. */
export function webSocketConstructor(option: WebSocketConstructor | undefined): WebSocketConstructor {
  const ctor = option ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (ctor === undefined) {
    throw new RpcError('INTERNAL', `No WebSocket implementation: pass { WebSocket } from 'ws' on Node 20 (subprotocol ${PROTOCOL})`)
  }
  return ctor
}

/** What a {@link Connection} reports to its owner. */
export interface ConnectionHandlers {
  /** The server acknowledged `init`: calls may flow. */
  ready(): void
  /** A message after the ack (pings are answered here and not passed on). */
  message(message: ServerMessage): void
  /**
   * The socket is gone; called exactly once. `lastSentId` is the call or
   * subscription written last on it: the one a 1009 (message too big) is
   * blamed on.
   */
  closed(code: number, reason: string, lastSentId: number | undefined): void
  /** The server answered a keep-alive ping after `rttMs`. */
  pong(rttMs: number): void
}

/** How a {@link Connection} watches its socket. */
export interface ConnectionTimeouts {
  /** From creating the socket to the server's `ack`. */
  connectTimeoutMs: number
  keepAlive: Required<KeepAliveOptions> | undefined
}

const NONE: ReadonlySet<string> = new Set()

/** Largest batch before the server's `ack` says how big a frame it takes: up to 48 KiB of UTF-8, which any server configured for RPC accepts. */
const UNANNOUNCED_BATCH_CHARS = 16_384

/** Flushes a batch once the code that is running, and the promise callbacks it set off, are done: no timer, no added wait. */
function flushAfterThisTask(batcher: FrameBatcher): void {
  queueMicrotask(() => batcher.flushScheduled())
}

/**
 * One WebSocket, from opening to closed: sends `init` once open, waits for
 * `ack`, then passes messages on. Knows nothing of calls or retries.
 */
export class Connection {
  private acked = false
  private done = false
  private declare afterClose: (() => void) | undefined
  private declare readonly ws: WebSocketLike
  private declare heartbeat: Heartbeat | undefined
  private declare connectTimer: ReturnType<typeof setTimeout> | undefined
  /** The largest frame the server said it accepts (in its `ack`), if it said. */
  declare maxPayload: number | undefined
  /** The per-connection limits the server announced in its `ack` (empty if it announced none). */
  limits: AnnouncedLimits = {}
  /** The extensions of wirecall.v1 the server accepts, from its `ack` (`"streams"`). */
  declare features: readonly string[] | undefined
  /** The mutations the server declared idempotent, from its `ack`. */
  idempotent: ReadonlySet<string> = NONE
  /** The server's message rate, kept on this side; `undefined` when it announced none. */
  private declare budget: SendBudget | undefined
  /** Subscribe messages waiting for the rate, oldest first. */
  private held: [message: string, id: number][] = []
  private declare heldTimer: ReturnType<typeof setTimeout> | undefined
  /** The call or subscription written last. */
  private declare lastSentId: number | undefined
  /** Messages sent in this task, written as one frame when it ends. */
  private declare readonly out: FrameBatcher

  constructor(
    WebSocket: WebSocketConstructor,
    url: string,
    initFrame: string,
    private readonly handlers: ConnectionHandlers,
    private readonly timeouts: ConnectionTimeouts,
  ) {
    this.ws = new WebSocket(url, PROTOCOL)
    this.out = new FrameBatcher(this, flushAfterThisTask, UNANNOUNCED_BATCH_CHARS)
    this.connectTimer = setTimeout(() => this.declareDead(`no answer from the server within ${timeouts.connectTimeoutMs} ms`), timeouts.connectTimeoutMs)
    unref(this.connectTimer)
    this.ws.onopen = () => {
      if (this.ws.protocol !== PROTOCOL) return this.fail(PROTOCOL_ERROR, `server did not accept subprotocol ${PROTOCOL}`)
      this.ws.send(initFrame)
    }
    this.ws.onmessage = (event) => this.receive(event.data)
    this.ws.onclose = (event) => this.finish(event.code, event.reason)
    // An error is always followed by close; nothing to do here but keep it from being unhandled.
    this.ws.onerror = () => {}
  }

  /** Bytes the socket has not sent yet, and (counted in characters) messages not yet written to it. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount + this.out.pendingChars
  }

  get isOpen(): boolean {
    return this.acked && !this.done && this.ws.readyState === OPEN
  }

  /** Where the batcher writes each frame. */
  writeFrame(frame: string): void {
    this.ws.send(frame)
  }

  /**
   * Sends one message, in a batch with the others sent in this task; `id`
   * names the call or subscription it carries. It counts against the
   * announced rate: callers that can wait ask {@link canSend} first.
   */
  send(message: string, id?: number): void {
    if (!this.isOpen) return
    this.budget?.charge()
    this.out.push(message)
    if (id !== undefined) this.lastSentId = id
  }

  /** Whether a message may be sent now without going over the rate the server announced. */
  canSend(): boolean {
    return this.budget === undefined || (this.held.length === 0 && this.budget.available())
  }

  /** Milliseconds until {@link canSend} may be true again. */
  sendWaitMs(): number {
    return this.budget === undefined ? 0 : Math.max(1, this.budget.waitMs())
  }

  /** Sends a message now if the announced rate allows, else as soon as it does (subscriptions: they have no queue of their own). */
  sendPaced(message: string, id: number): void {
    if (this.canSend()) return this.send(message, id)
    this.held.push([message, id])
    this.releaseHeldSoon()
  }

  /** Pings now and expects an answer in time (the page became visible, the browser went offline). */
  probe(): void {
    this.heartbeat?.probe()
  }

  /**
   * Closes the socket and reports `closed` at once with this code. The
   * returned promise settles when the socket has really closed, or after
   * `waitMs` at most, so a caller can wait for a clean shutdown.
   */
  close(code: number, reason: string, waitMs = 1_000): Promise<void> {
    const gone = new Promise<void>((resolve) => {
      if (this.ws.readyState === CLOSED) return resolve()
      const timer = setTimeout(() => {
        // The peer never answered the close (a dead link): do not leave the socket, or its own timers, behind.
        ;(this.ws as { terminate?: () => void }).terminate?.()
        resolve()
      }, waitMs)
      unref(timer)
      this.afterClose = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    if (!this.done) {
      // What was sent before the close (an unsubscribe, say) goes out before it.
      if (this.isOpen) this.out.flush()
      try {
        // WHATWG sockets accept only 1000 and 3000-4999 from applications.
        this.ws.close(code === NORMAL_CLOSURE || (code >= 3000 && code <= 4999) ? code : NORMAL_CLOSURE, truncateCloseReason(reason))
      } catch {
        // Already closing.
      }
      this.finish(code, reason)
    }
    return gone
  }

  /** Sends held subscribe messages as the rate allows; waits again for what is left. */
  private releaseHeldSoon(): void {
    if (this.heldTimer !== undefined) return
    this.heldTimer = setTimeout(() => {
      this.heldTimer = undefined
      while (this.held.length > 0 && this.isOpen && this.budget!.available()) {
        const [message, id] = this.held.shift()!
        this.send(message, id)
      }
      if (this.held.length > 0 && this.isOpen) this.releaseHeldSoon()
    }, this.budget!.waitMs())
    unref(this.heldTimer)
  }

  private fail(code: number, reason: string): void {
    void this.close(code, reason)
  }

  /**
   * Gives up on a socket that went silent. Its closing handshake would never
   * complete, so the socket is destroyed where the implementation allows it
   * (`ws` has `terminate()`; browsers only `close()`), and the loss is
   * reported as what it is: an abnormal closure.
   */
  private declareDead(reason: string): void {
    if (this.done) return
    const ws = this.ws as WebSocketLike & { terminate?: () => void }
    try {
      if (typeof ws.terminate === 'function') ws.terminate()
      else ws.close(NORMAL_CLOSURE, truncateCloseReason(reason))
    } catch {
      // Already closing.
    }
    this.finish(ABNORMAL_CLOSURE, reason)
  }

  private receive(data: unknown): void {
    if (this.done) return
    if (typeof data !== 'string') return this.fail(PROTOCOL_ERROR, 'binary frame from server')
    const parsed = parseServerFrame(data)
    if (!parsed.ok) return this.fail(PROTOCOL_ERROR, `invalid frame from server: ${parsed.reason}`)
    if (this.heartbeat !== undefined) {
      const waitedMs = this.heartbeat.waitingMs
      this.heartbeat.heard()
      if (waitedMs !== undefined && parsed.messages.some((m) => m.type === 'pong')) this.handlers.pong(waitedMs)
    }
    for (const message of parsed.messages) {
      if (this.done) return
      if (message.type === 'ping') {
        this.budget?.charge()
        this.ws.send(PONG_FRAME)
        continue
      }
      if (message.type === 'pong') continue
      if (!this.acked) {
        if (message.type !== 'ack') return this.fail(PROTOCOL_ERROR, `expected ack, got ${message.type}`)
        this.acked = true
        // Batches stay under the server's largest frame: at most three bytes of UTF-8 per character.
        this.maxPayload = message.maxPayload
        if (message.maxPayload !== undefined) this.out.maxChars = Math.max(1, Math.min(MAX_BATCH_CHARS, Math.floor(message.maxPayload / 3)))
        this.limits = message.limits ?? {}
        if (message.idempotent !== undefined) this.idempotent = new Set(message.idempotent)
        this.features = message.features
        const { messagesPerSecond, burst } = this.limits
        if (messagesPerSecond !== undefined && burst !== undefined) this.budget = new SendBudget(messagesPerSecond, burst)
        clearTimeout(this.connectTimer)
        this.connectTimer = undefined
        const keepAlive = this.timeouts.keepAlive
        if (keepAlive !== undefined) {
          this.heartbeat = new Heartbeat(keepAlive, () => this.send(PING_FRAME), () => {
            this.declareDead(`no answer to a keep-alive ping within ${keepAlive.timeoutMs} ms`)
          })
        }
        this.handlers.ready()
        continue
      }
      this.handlers.message(message)
    }
  }

  private finish(code: number, reason: string): void {
    if (this.done) return
    this.done = true
    this.out.clear()
    this.held = []
    clearTimeout(this.heldTimer)
    clearTimeout(this.connectTimer)
    this.connectTimer = undefined
    this.heartbeat?.stop()
    this.ws.onopen = this.ws.onmessage = null
    this.ws.onclose = () => this.afterClose?.()
    this.handlers.closed(code, reason, this.lastSentId)
  }
}
