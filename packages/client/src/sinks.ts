import { RpcError, type ResyncSignal } from '@wirecall/core'
import { reportListenerError } from './emitter'
import type { SubscriptionHandlers } from './types'

/**
 * Where a subscription delivers what happens to it: to the app's handlers
 * ({@link handlerSink}) or to a `for await` loop ({@link IteratorSink}).
 */
export interface SubscriptionSink {
  /** The server started the stream; `resumed`: it continued from the `lastEventId` sent, with nothing missed. */
  started(info: { resumed: boolean }): void
  data(value: unknown): void
  /** The server's resync, with its reason when it sent one. */
  resync(signal: ResyncSignal): void
  error(error: RpcError): void
  complete(): void
  /** The app stopped it (unsubscribe, abort): handlers hear nothing more; a waiting loop ends. */
  stopped(): void
}

/** Most events the iterator form holds for a loop that has not pulled them. */
export const ITERATOR_BUFFER_SIZE = 1_000

/**
 * Adapts the subscription's callbacks to an async iterator with a bounded
 * buffer. A loop that falls more than {@link ITERATOR_BUFFER_SIZE} events
 * behind ends with `OVERLOADED` instead of growing memory without bound.
 */
export class IteratorSink implements SubscriptionSink {
  private readonly queue: unknown[] = []
  private failure: RpcError | undefined
  private ended = false
  private waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | undefined

  /** @param owner the subscription, which the iterator stops on `break` or overflow. */
  constructor(private readonly owner: { unsubscribe(): void }) {}

  /** A loop has no started signal: a resumed stream just goes on, and one that could not resume yields a resync. */
  started(): void {}

  data(value: unknown): void {
    this.push(value)
  }

  resync(signal: ResyncSignal): void {
    this.push(signal)
  }

  error(error: RpcError): void {
    this.end(error)
  }

  complete(): void {
    this.end(undefined)
  }

  stopped(): void {
    // Already ended (overflow unsubscribes after ending): keep what the loop has yet to read.
    if (this.ended) return
    this.end(undefined)
    this.queue.length = 0
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.queue.length > 0) return Promise.resolve({ done: false, value: this.queue.shift() })
    if (this.ended) {
      const failure = this.failure
      this.failure = undefined
      return failure === undefined ? Promise.resolve({ done: true, value: undefined }) : Promise.reject(failure)
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject }
    })
  }

  /** `break` in a `for await` lands here. */
  return(): Promise<IteratorResult<unknown>> {
    this.owner.unsubscribe()
    this.end(undefined)
    this.queue.length = 0
    this.failure = undefined
    return Promise.resolve({ done: true, value: undefined })
  }

  private push(value: unknown | ResyncSignal): void {
    if (this.ended) return
    const waiter = this.waiter
    if (waiter !== undefined) {
      this.waiter = undefined
      return waiter.resolve({ done: false, value })
    }
    if (this.queue.length >= ITERATOR_BUFFER_SIZE) {
      // End first: unsubscribing reports `stopped`, which would otherwise end the loop quietly.
      this.end(new RpcError('OVERLOADED', `the loop fell more than ${ITERATOR_BUFFER_SIZE} events behind`))
      return this.owner.unsubscribe()
    }
    this.queue.push(value)
  }

  private end(error: RpcError | undefined): void {
    if (this.ended) return
    this.ended = true
    this.failure = error
    const waiter = this.waiter
    if (waiter === undefined) return
    this.waiter = undefined
    this.failure = undefined
    if (error === undefined) waiter.resolve({ done: true, value: undefined })
    else waiter.reject(error)
  }
}

/**
 * Wraps user handlers: a missing one is a no-op, and one that throws is
 * reported as an uncaught error without breaking the client (other
 * subscriptions and calls on the same socket go on, and so does this one).
 */
export function handlerSink(handlers: SubscriptionHandlers<unknown>): SubscriptionSink {
  return {
    started: (info) => guard(handlers.onStarted, info),
    data: (value) => guard(handlers.onData, value),
    resync: (signal) => guard(handlers.onResync, signal),
    error: (error) => guard(handlers.onError, error),
    complete: () => guard(handlers.onComplete),
    stopped: () => {},
  }
}

function guard<A extends unknown[]>(handler: ((...args: A) => void) | undefined, ...args: A): void {
  if (handler === undefined) return
  try {
    handler(...args)
  } catch (error) {
    reportListenerError(error)
  }
}

/** True when the second argument of `subscribe` is the handler form. */
export function isHandlers(value: unknown): value is SubscriptionHandlers<unknown> {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return ['onStarted', 'onData', 'onResync', 'onError', 'onComplete'].some((k) => typeof v[k] === 'function')
}
