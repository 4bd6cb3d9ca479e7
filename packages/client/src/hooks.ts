import type { RpcError, TraceContext } from '@wirecall/core'
import type { ClientCallEvent, ClientCallOutcome, ClientInstrumentation } from './instrumentation'

/*
 * Runs the app's ClientInstrumentation. A client without any holds
 * `undefined` instead of a Tell, and call sites write `tell?.(name, {...})`:
 * an optional call evaluates no arguments, so such a client builds no event
 * and no closure, and pays one check. Whatever a hook throws (or its
 * promise rejects with) is dropped: telemetry never breaks a call or the
 * connection.
 */

type Observer = Exclude<keyof ClientInstrumentation, 'onCall'>

/** Tells every instrumentation that has hook `name`; returns the first trace context one returned (only `onSubscription` returns one). */
export type Tell = <K extends Observer>(name: K, event: Parameters<NonNullable<ClientInstrumentation[K]>>[0]) => TraceContext | undefined

/** The {@link Tell} of a client's instrumentation; `undefined` when it has none. */
export function teller(hooks: readonly ClientInstrumentation[] | undefined): Tell | undefined {
  if (!hooks?.length) return
  return (name, event) => {
    let trace: TraceContext | undefined
    for (const hook of hooks) {
      try {
        const returned = (hook[name] as ((event: unknown) => TraceContext | void) | undefined)?.(event)
        trace ||= returned || undefined
      } catch {}
    }
    return trace
  }
}

/**
 * Makes a call inside every `onCall`, the first instrumentation outermost:
 * `make` runs where the innermost `next()` is called, with the first trace
 * context passed to a `next()`. A hook that throws, or returns without
 * calling `next()`, still gets its call made. Returns the call's own promise.
 */
export function wrapCall(
  hooks: readonly ClientInstrumentation[],
  event: ClientCallEvent,
  make: (trace: TraceContext | undefined) => Promise<unknown>,
): Promise<unknown> {
  let result!: Promise<unknown>
  let trace: TraceContext | undefined
  const run = (i: number): Promise<ClientCallOutcome> => {
    if (i === hooks.length) {
      return (result = make(trace)).then(
        () => ({ status: 'ok' }),
        (error: RpcError) => ({ status: error.code === 'CANCELLED' || error.code === 'TIMEOUT' ? 'cancelled' : 'error', error }),
      )
    }
    let inner: Promise<ClientCallOutcome> | undefined
    const next = (context?: TraceContext) => {
      trace ||= context
      return (inner ||= run(i + 1))
    }
    try {
      void hooks[i]!.onCall?.(event, next).catch(ignore)
    } catch {}
    return next()
  }
  void run(0)
  return result
}

function ignore(): void {}
