/**
 * wirecall with instrumentation whose hooks do nothing: every hook of
 * `ServerInstrumentation` and `ClientInstrumentation` is present, `onCall`
 * passes straight through to `next()`, and nothing is recorded or exported.
 * What this adds to plain wirecall is the price of the hook machinery
 * itself (the event objects built, the `onCall` wrapping), the floor under
 * any logger or metrics system plugged in the same way.
 */
import type { ClientInstrumentation } from '@wirecall/client'
import type { ServerInstrumentation } from '@wirecall/server'
import type { Impl } from '../contract'
import { createWirecallImpl } from './wirecall'

const nothing = (): void => {}

function serverHooks(): ServerInstrumentation {
  return {
    onConnection: nothing,
    onCall: (_call, next) => next(),
    onSubscription: nothing,
    onDeliver: nothing,
    onBackpressure: nothing,
    onClose: nothing,
    onPublish: nothing,
  }
}

function clientHooks(): ClientInstrumentation {
  return {
    onCall: (_call, next) => next(),
    onSubscription: nothing,
    onEvent: nothing,
    onStateChange: nothing,
    onReconnect: nothing,
    onPong: nothing,
  }
}

/** wirecall with every hook present and empty. */
export const wirecallHooks: Impl = createWirecallImpl('wirecall-hooks', {
  server: () => [serverHooks()],
  client: () => [clientHooks()],
})
