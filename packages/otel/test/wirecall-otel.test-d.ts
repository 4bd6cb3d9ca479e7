import { expectTypeOf, test } from 'vitest'
import type { ClientInstrumentation } from '@wirecall/client'
import type { ChannelInstrumentation, ChannelOptions } from '@wirecall/core'
import type { RpcServerOptions, ServerInstrumentation } from '@wirecall/server'
import { wirecallOtel, type WirecallOtel, type WirecallOtelOptions } from '@wirecall/otel'

test('one object is a server, a channel and a client instrumentation', () => {
  const otel = wirecallOtel()
  expectTypeOf(otel).toEqualTypeOf<WirecallOtel>()
  expectTypeOf(otel).toExtend<ServerInstrumentation>()
  expectTypeOf(otel).toExtend<ClientInstrumentation>()
  expectTypeOf(otel).toExtend<ChannelInstrumentation>()
  expectTypeOf([otel] as const).toExtend<NonNullable<ChannelOptions['instrumentation']>>()
  expectTypeOf([otel] as const).toExtend<NonNullable<RpcServerOptions<never>['instrumentation']>>()
})

test('options', () => {
  expectTypeOf<WirecallOtelOptions>().toEqualTypeOf<{
    tracer?: import('@opentelemetry/api').Tracer
    meter?: import('@opentelemetry/api').Meter
    propagate?: boolean
    recordInput?: boolean
    baggage?: readonly string[]
    processSpans?: boolean
  }>()
  // @ts-expect-error: baggage keys are strings
  wirecallOtel({ baggage: [1] })
})
