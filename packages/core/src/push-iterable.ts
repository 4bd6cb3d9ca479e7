import { RpcError } from './errors'
import { resync, type ResyncSignal } from './tracked'

/**
 * What a push source does when its consumer falls behind and the buffer is
 * full: `drop-oldest` keeps the newest events and yields a resync signal
 * before the next one, so the client knows it missed some; `error` ends
 * the iteration with `OVERLOADED`.
 */
export type OverflowPolicy = 'drop-oldest' | 'error'

/** Options shared by the push adapters. */
export interface PushOptions {
  /** Ends the iteration (and removes the listener) when aborted. Pass the resolver's `signal`. */
  signal?: AbortSignal
  /**
   * Most events held for a consumer that has not pulled them yet.
   * @default 1_000
   */
  maxBuffer?: number
  /** @default 'drop-oldest' */
  overflow?: OverflowPolicy
}

/**
 * Options with `overflow: 'error'`: such a source never drops events, so it
 * never yields a resync, and the adapters' types say so.
 */
export type ErrorOnOverflow = PushOptions & { overflow: 'error' }

/** Starts a push source; returns the function that stops it. */
export type PushStart<T> = (sink: PushSink<T>) => (() => void) | void

/** Where a push source delivers. Calls after `end`/`fail` are ignored. */
export interface PushSink<T> {
  push(value: T): void
  end(): void
  fail(error: unknown): void
}

const DEFAULT_MAX_BUFFER = 1_000

/**
 * Turns any push callback into an async iterable with a bounded buffer.
 * `start` runs when iteration begins (once per iterator) and returns the
 * function that stops the source; it runs exactly once, when the iterator
 * ends for any reason (`return()`, abort, `end`, `fail`, overflow).
 *
 * @example
 * ```ts
 * .subscription(({ signal }) => fromCallback<Price>((sink) => feed.listen(sink.push), { signal }))
 * ```
 */
export function fromCallback<T>(start: PushStart<T>, options: ErrorOnOverflow): AsyncIterable<T>
export function fromCallback<T>(start: PushStart<T>, options?: PushOptions): AsyncIterable<T | ResyncSignal>
export function fromCallback<T>(start: PushStart<T>, options: PushOptions = {}): AsyncIterable<T | ResyncSignal> {
  return { [Symbol.asyncIterator]: () => new PushIterator<T>(start, options) }
}

/** The few methods of a Node `EventEmitter` the adapter needs. */
export interface EmitterLike {
  on(event: string | symbol, listener: (...args: any[]) => void): unknown
  off?(event: string | symbol, listener: (...args: any[]) => void): unknown
  removeListener?(event: string | symbol, listener: (...args: any[]) => void): unknown
}

/**
 * Iterates an `EventEmitter` event: yields the first argument of each emit.
 * The listener is removed when the iteration ends.
 *
 * @example
 * ```ts
 * .subscription(({ signal }) => fromEmitter<Order>(orders, 'created', { signal }))
 * ```
 */
export function fromEmitter<T>(emitter: EmitterLike, event: string | symbol, options: ErrorOnOverflow): AsyncIterable<T>
export function fromEmitter<T>(emitter: EmitterLike, event: string | symbol, options?: PushOptions): AsyncIterable<T | ResyncSignal>
export function fromEmitter<T>(emitter: EmitterLike, event: string | symbol, options?: PushOptions): AsyncIterable<T | ResyncSignal> {
  return fromCallback<T>((sink) => {
    const listener = (value: T) => sink.push(value)
    emitter.on(event, listener)
    return () => {
      if (emitter.off !== undefined) emitter.off(event, listener)
      else emitter.removeListener?.(event, listener)
    }
  }, options)
}

/** The few methods of an `EventTarget` the adapter needs. */
export interface EventTargetLike<E> {
  addEventListener(type: string, listener: (event: E) => void): void
  removeEventListener(type: string, listener: (event: E) => void): void
}

/** Iterates the events of an `EventTarget`; the listener is removed when the iteration ends. */
export function fromEventTarget<E>(target: EventTargetLike<E>, type: string, options: ErrorOnOverflow): AsyncIterable<E>
export function fromEventTarget<E>(target: EventTargetLike<E>, type: string, options?: PushOptions): AsyncIterable<E | ResyncSignal>
export function fromEventTarget<E>(target: EventTargetLike<E>, type: string, options?: PushOptions): AsyncIterable<E | ResyncSignal> {
  return fromCallback<E>((sink) => {
    const listener = (event: E) => sink.push(event)
    target.addEventListener(type, listener)
    return () => target.removeEventListener(type, listener)
  }, options)
}

type Waiter<T> = { resolve: (result: IteratorResult<T | ResyncSignal>) => void; reject: (error: unknown) => void }

class PushIterator<T> implements AsyncIterator<T | ResyncSignal> {
  /** Events not pulled yet: `buffer[head..]`. Slots before `head` are cleared, so they hold nothing. */
  private readonly buffer: (T | undefined)[] = []
  private head = 0
  private missed = false
  private ended = false
  private failure: unknown = undefined
  /** `next()` calls waiting for an event, oldest first (usually zero or one). */
  private readonly waiters: Waiter<T>[] = []
  private stop: (() => void) | undefined
  private readonly maxBuffer: number
  private readonly overflow: OverflowPolicy
  private readonly signal: AbortSignal | undefined
  private readonly onAbort = () => this.finish(undefined)

  constructor(start: (sink: PushSink<T>) => (() => void) | void, options: PushOptions) {
    this.maxBuffer = Math.max(1, options.maxBuffer ?? DEFAULT_MAX_BUFFER)
    this.overflow = options.overflow ?? 'drop-oldest'
    this.signal = options.signal
    if (this.signal?.aborted) {
      this.ended = true
      return
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true })
    const sink: PushSink<T> = {
      push: (value) => this.push(value),
      end: () => this.finish(undefined),
      fail: (error) => this.finish(error ?? new Error('push source failed')),
    }
    try {
      const stop = start(sink)
      if (typeof stop === 'function') {
        if (this.ended) stop()
        else this.stop = stop
      }
    } catch (error) {
      this.finish(error)
    }
  }

  next(): Promise<IteratorResult<T | ResyncSignal>> {
    if (this.missed) {
      this.missed = false
      return Promise.resolve({ done: false, value: resync() })
    }
    if (this.head < this.buffer.length) return Promise.resolve({ done: false, value: this.take() })
    if (this.ended) {
      if (this.failure !== undefined) {
        const failure = this.failure
        this.failure = undefined
        return Promise.reject(failure)
      }
      return Promise.resolve({ done: true, value: undefined })
    }
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject })
    })
  }

  return(): Promise<IteratorResult<T | ResyncSignal>> {
    this.finish(undefined)
    this.buffer.length = 0
    this.head = 0
    this.failure = undefined
    return Promise.resolve({ done: true, value: undefined })
  }

  private push(value: T): void {
    if (this.ended) return
    const waiter = this.waiters.shift()
    if (waiter !== undefined) return waiter.resolve({ done: false, value })
    if (this.buffer.length - this.head >= this.maxBuffer) {
      if (this.overflow === 'error') {
        return this.finish(new RpcError('OVERLOADED', `subscriber fell more than ${this.maxBuffer} events behind`))
      }
      this.buffer[this.head++] = undefined
      this.missed = true
      this.compact()
    }
    this.buffer.push(value)
  }

  private take(): T {
    const value = this.buffer[this.head] as T
    this.buffer[this.head++] = undefined
    this.compact()
    return value
  }

  /**
   * Drops the slots before `head` once they are at least half the array, so
   * memory stays within about twice `maxBuffer` whether events leave by
   * being pulled or by being dropped; amortised O(1) per event.
   */
  private compact(): void {
    if (this.head >= 64 && this.head * 2 >= this.buffer.length) {
      this.buffer.splice(0, this.head)
      this.head = 0
    }
  }

  private finish(error: unknown): void {
    if (this.ended) return
    this.ended = true
    this.failure = error
    this.signal?.removeEventListener('abort', this.onAbort)
    const stop = this.stop
    this.stop = undefined
    stop?.()
    const waiters = this.waiters.splice(0)
    if (waiters.length === 0) return
    // The oldest pending next() carries the failure; the others, and later ones, report done.
    this.failure = undefined
    for (const [i, waiter] of waiters.entries()) {
      if (i === 0 && error !== undefined) waiter.reject(error)
      else waiter.resolve({ done: true, value: undefined })
    }
  }
}
