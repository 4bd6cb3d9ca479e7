/**
 * The WHATWG WebSocket surface the client uses — and nothing else, so it
 * runs on browsers, Node 22+'s global, `ws` on Node 20, Deno, Bun and
 * workers alike.
 */
export interface WebSocketLike {
  readonly readyState: number
  readonly protocol: string
  readonly bufferedAmount: number
  onopen: EventHandler<unknown> | null
  onmessage: EventHandler<{ data: unknown }> | null
  onclose: EventHandler<{ code: number; reason: string }> | null
  onerror: EventHandler<unknown> | null
  send(data: string): void
  close(code?: number, reason?: string): void
}

/**
 * A handler property, checked bivariantly like a method so that both the
 * DOM's `(ev: MessageEvent) => any` and `ws`'s handler types are accepted
 * without a cast.
 */
type EventHandler<E> = { bivarianceHack(event: E): void }['bivarianceHack']

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from `ws`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike

/** `readyState` values the client reads, as numbers so no global is needed (and a bundle inlines them). */
export const OPEN = 1
export const CLOSED = 3
