const DONE: IteratorResult<never> = { done: true, value: undefined }

/**
 * A queue the page pushes into and a duplex subscription pulls from: the
 * producer of `room.session`. The client pulls only as fast as the server
 * grants credit, so what the server has not asked for yet waits here, in
 * order. One reader; the client calls `return()` when the subscription
 * ends, which drops what is still queued.
 *
 * @example
 * ```ts
 * const outbox = new Outbox<SessionChunk>()
 * outbox.push({ kind: 'join', room: 'general' })
 * api.room.session.subscribe(outbox, { idempotent: true, onData })
 * outbox.push({ kind: 'message', text: 'hi', key })
 * ```
 */
export class Outbox<T> implements AsyncIterable<T> {
  readonly #items: T[] = []
  #waiting: ((result: IteratorResult<T>) => void) | undefined
  #closed = false

  /** Queues `item`, or hands it to the reader waiting for one. Ignored once closed. */
  push(item: T): void {
    if (this.#closed) return
    const waiting = this.#waiting
    this.#waiting = undefined
    if (waiting === undefined) this.#items.push(item)
    else waiting({ done: false, value: item })
  }

  /** No more items: the reader gets those still queued, then the end (the server sees the stream end). */
  close(): void {
    this.#closed = true
    this.#settle()
  }

  /** Items pushed and not yet pulled. */
  get size(): number {
    return this.#items.length
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.#items.length > 0) return Promise.resolve({ done: false, value: this.#items.shift()! })
        if (this.#closed) return Promise.resolve(DONE)
        return new Promise((resolve) => (this.#waiting = resolve))
      },
      return: () => {
        this.#closed = true
        this.#items.length = 0
        this.#settle()
        return Promise.resolve(DONE)
      },
    }
  }

  /** Ends a `next()` waiting on an empty, closed queue. */
  #settle(): void {
    if (this.#items.length > 0) return
    const waiting = this.#waiting
    this.#waiting = undefined
    waiting?.(DONE)
  }
}
