import { describe, expectTypeOf, it } from 'vitest'
import type {
  ClientCallEvent,
  ClientCallOutcome,
  ClientEventEvent,
  ClientInstrumentation,
  ClientReconnectEvent,
  ClientSubscriptionEvent,
  ConnectionState,
  RpcClientOptions,
  RpcError,
  TraceContext,
} from '@wirecall/client'

describe('ClientInstrumentation', () => {
  it('is what the instrumentation option takes, a readonly array', () => {
    expectTypeOf<RpcClientOptions['instrumentation']>().toEqualTypeOf<readonly ClientInstrumentation[] | undefined>()
    const hooks = [{ onPong: () => {} }] as const satisfies readonly ClientInstrumentation[]
    expectTypeOf(hooks).toExtend<RpcClientOptions['instrumentation']>()
  })

  it('has every hook optional: an empty object is an instrumentation', () => {
    expectTypeOf<{}>().toExtend<ClientInstrumentation>()
  })

  it('onCall wraps: next takes an optional trace context and gives the outcome, which the hook returns', () => {
    type OnCall = NonNullable<ClientInstrumentation['onCall']>
    expectTypeOf<Parameters<OnCall>[0]>().toEqualTypeOf<ClientCallEvent>()
    expectTypeOf<Parameters<OnCall>[1]>().toEqualTypeOf<(trace?: TraceContext) => Promise<ClientCallOutcome>>()
    expectTypeOf<ReturnType<OnCall>>().toEqualTypeOf<Promise<ClientCallOutcome>>()
    const wrap: OnCall = async (call, next) => {
      expectTypeOf(call.method).toEqualTypeOf<'query' | 'mutation' | 'reinit'>()
      expectTypeOf(call.path).toEqualTypeOf<string | undefined>()
      const outcome = await next({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' })
      if (outcome.status !== 'ok') expectTypeOf(outcome.error).toEqualTypeOf<RpcError>()
      return outcome
    }
    void wrap
    // @ts-expect-error -- a wrapper returns the outcome, not nothing
    const forgetful: OnCall = async (_call, next) => void (await next())
    void forgetful
    // @ts-expect-error -- a trace context needs its traceparent
    const bad: OnCall = (_call, next) => next({ tracestate: 'a=b' })
    void bad
  })

  it('the outcome is ok, error or cancelled, the last two with their RpcError', () => {
    expectTypeOf<ClientCallOutcome>().toEqualTypeOf<
      { status: 'ok' } | { status: 'error'; error: RpcError } | { status: 'cancelled'; error: RpcError }
    >()
  })

  it('onSubscription may return a trace context (sent with the subscribe message), or nothing', () => {
    type OnSubscription = NonNullable<ClientInstrumentation['onSubscription']>
    expectTypeOf<ReturnType<OnSubscription>>().toEqualTypeOf<TraceContext | undefined | void>()
    const hook: OnSubscription = (event) => {
      expectTypeOf(event.id).toEqualTypeOf<number>()
      expectTypeOf(event.path).toEqualTypeOf<string>()
      switch (event.phase) {
        case 'send':
          expectTypeOf(event.resubscribe).toEqualTypeOf<boolean>()
          expectTypeOf(event.lastEventId).toEqualTypeOf<string | undefined>()
          return { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }
        case 'started':
          expectTypeOf(event.resumed).toEqualTypeOf<boolean>()
          return
        case 'resync':
          return
        case 'end':
          expectTypeOf(event.reason).toEqualTypeOf<'complete' | 'error' | 'unsubscribed'>()
          expectTypeOf(event.error).toEqualTypeOf<RpcError | undefined>()
          return
      }
    }
    void hook
    expectTypeOf<ClientSubscriptionEvent['phase']>().toEqualTypeOf<'send' | 'started' | 'resync' | 'end'>()
  })

  it('the observers get their events and return nothing', () => {
    expectTypeOf<Parameters<NonNullable<ClientInstrumentation['onEvent']>>[0]>().toEqualTypeOf<ClientEventEvent>()
    expectTypeOf<ClientEventEvent['trace']>().toEqualTypeOf<TraceContext | undefined>()
    expectTypeOf<ClientEventEvent['eventId']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<Parameters<NonNullable<ClientInstrumentation['onStateChange']>>[0]>().toEqualTypeOf<{ from: ConnectionState; to: ConnectionState }>()
    expectTypeOf<Parameters<NonNullable<ClientInstrumentation['onReconnect']>>[0]>().toEqualTypeOf<ClientReconnectEvent>()
    expectTypeOf<ClientReconnectEvent>().toEqualTypeOf<{ code: number; attempt: number; delayMs: number; error: RpcError }>()
    expectTypeOf<Parameters<NonNullable<ClientInstrumentation['onPong']>>[0]>().toEqualTypeOf<{ rttMs: number }>()
    expectTypeOf<ReturnType<NonNullable<ClientInstrumentation['onPong']>>>().toEqualTypeOf<void>()
  })
})
