import { RpcError } from '@wirecall/core'

/** How one target's call ended, as {@link callEach} yields it. */
export type CallEachOutcome<TTarget, TValue> = { target: TTarget; ok: true; value: TValue } | { target: TTarget; ok: false; error: RpcError }

/** Options of {@link callEach}. */
export interface CallEachOptions {
  /** Aborting it aborts the signal every call received; the outcomes still arrive (usually `CANCELLED`). */
  signal?: AbortSignal | undefined
}

/**
 * Calls many at once — a typed `emitWithAck` on a room: runs `call` for
 * every target now, without waiting for the iteration, and yields each
 * target's outcome in the order they settle. A call never fails the
 * iteration: a rejection is an outcome (`ok: false`) with an `RpcError`
 * (anything else thrown becomes `INTERNAL`).
 *
 * Leaving the loop early (`break`, `return`, a throw) stops waiting: the
 * signal `call` received aborts, so calls made with it
 * (`peer.x.call(input, { signal })`) reject `CANCELLED` and their clients
 * are told to stop; their outcomes are dropped. Iterate it once.
 *
 * `targets` is any iterable: `server.connections()`, a room's set of
 * peers kept by the app, the members of a topic.
 *
 * @example
 * ```ts
 * const votes = callEach(server.connections(), ({ peer }, signal) => peer.poll.vote.call({ question }, { timeoutMs: 5_000, signal }))
 * for await (const outcome of votes) {
 *   if (outcome.ok) tally(outcome.target.ctx.user, outcome.value)
 *   else log(outcome.error.code) // TIMEOUT, NOT_IMPLEMENTED, CONNECTION_LOST, ...
 * }
 * ```
 */
export function callEach<TTarget, TValue>(
  targets: Iterable<TTarget>,
  call: (target: TTarget, signal: AbortSignal) => TValue | PromiseLike<TValue>,
  options: CallEachOptions = {},
): AsyncIterableIterator<CallEachOutcome<TTarget, Awaited<TValue>>> {
  type Outcome = CallEachOutcome<TTarget, Awaited<TValue>>
  const controller = new AbortController()
  const parent = options.signal
  const onAbort = (): void => controller.abort(parent!.reason)
  if (parent?.aborted === true) controller.abort(parent.reason)
  else parent?.addEventListener('abort', onAbort, { once: true })

  const settled: Outcome[] = []
  let waiting: ((result: IteratorResult<Outcome>) => void) | undefined
  let running = 0
  let stopped = false

  const stop = (): void => {
    stopped = true
    parent?.removeEventListener('abort', onAbort)
    settled.length = 0
  }
  const push = (outcome: Outcome): void => {
    running--
    if (stopped) return
    if (running === 0) parent?.removeEventListener('abort', onAbort)
    if (waiting === undefined) return void settled.push(outcome)
    const wake = waiting
    waiting = undefined
    wake({ value: outcome, done: false })
  }

  for (const target of targets) {
    running++
    let promise: Promise<Awaited<TValue>>
    try {
      promise = Promise.resolve(call(target, controller.signal))
    } catch (error) {
      promise = Promise.reject(error)
    }
    // `then` callbacks run later, so `running` counts every target before the first outcome.
    promise.then(
      (value) => push({ target, ok: true, value }),
      (error: unknown) => push({ target, ok: false, error: RpcError.from(error) }),
    )
  }
  if (running === 0) parent?.removeEventListener('abort', onAbort)

  const iterator: AsyncIterableIterator<Outcome> = {
    next() {
      const outcome = settled.shift()
      if (outcome !== undefined) return Promise.resolve({ value: outcome, done: false })
      if (stopped || running === 0) return Promise.resolve({ value: undefined, done: true })
      return new Promise((resolve) => (waiting = resolve))
    },
    return() {
      if (!stopped) {
        stop()
        if (running > 0) controller.abort(new RpcError('CANCELLED', 'callEach() stopped waiting'))
      }
      waiting?.({ value: undefined, done: true })
      waiting = undefined
      return Promise.resolve({ value: undefined, done: true })
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}
