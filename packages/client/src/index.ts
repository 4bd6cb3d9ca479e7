export { createRpcClient } from './create-client'
export {
  clientDefaults,
  type CallOptions,
  type ConnectionParamsOption,
  type ConnectionState,
  type IdempotentMutationOptions,
  type LazyOptions,
  type MutationOptions,
  type OfflineQueueOptions,
  type ReconnectOptions,
  type RpcClientOptions,
} from './options'
export type {
  ConnectionEvents,
  ConnectionHandle,
  DecorateApi,
  DecorateRecord,
  HandlerFormMismatch,
  HandlerFormOptions,
  IteratorFormOptions,
  MutationClient,
  QueryClient,
  RpcClient,
  SubscribeOptions,
  Subscription,
  SubscriptionClient,
  SubscriptionHandlers,
  SubscriptionIterable,
  SubscriptionState,
} from './types'
export type { WebSocketConstructor, WebSocketLike } from './websocket'
export type {
  ClientCallEvent,
  ClientCallOutcome,
  ClientEventEvent,
  ClientInstrumentation,
  ClientReconnectEvent,
  ClientSubscriptionEvent,
  ClientSubscriptionRef,
} from './instrumentation'
export { backoffDelay } from './backoff'
export type { KeepAliveOptions } from '@wirecall/core'
// Re-exported so a client needs one import.
export {
  ERROR_CODES,
  closeMeaning,
  type CloseMeaning,
  RpcError,
  assertNever,
  isResync,
  isRpcError,
  isRpcErrorCode,
  type ResyncSignal,
  type RpcErrorCode,
  type TraceContext,
  type ValidationErrorData,
  type ValidationIssue,
  type AnyClientApi,
  type ClientApiProcedure,
  type inferClientApi,
  type inferRouterInputs,
  type inferRouterOutputs,
  clientProcedure,
  defineClientRouter,
  type ClientHandler,
  type ClientHandlerOptions,
  type ClientImplementation,
  type ClientRouter,
  type ReadableStreamLike,
  type StreamSource,
} from '@wirecall/core'
export { implementClient, type ClientHandlers } from './peer-handlers'
