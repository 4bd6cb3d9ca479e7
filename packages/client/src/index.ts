export { createRpcClient } from './create-client'
export {
  clientDefaults,
  type CallOptions,
  type ConnectionParamsOption,
  type ConnectionState,
  type LazyOptions,
  type MutationOptions,
  type OfflineQueueOptions,
  type ReconnectOptions,
  type RpcClientOptions,
} from './options'
export type { ConnectionEvents } from './client-runtime'
export type {
  ConnectionHandle,
  DecorateRecord,
  MutationClient,
  QueryClient,
  RpcClient,
  SubscriptionClient,
} from './types'
export type {
  SubscribeOptions,
  Subscription,
  SubscriptionHandlers,
  SubscriptionIterable,
  SubscriptionState,
} from './subscription'
export type { WebSocketConstructor, WebSocketLike } from './websocket'
export { closeMeaning, type CloseMeaning } from './close-codes'
export { backoffDelay } from './backoff'
export type { KeepAliveOptions } from '@wirecall/core'
// Re-exported so a client needs one import.
export {
  ERROR_CODES,
  RpcError,
  assertNever,
  isResync,
  isRpcError,
  isRpcErrorCode,
  type ResyncSignal,
  type RpcErrorCode,
  type ValidationErrorData,
  type ValidationIssue,
  type inferRouterInputs,
  type inferRouterOutputs,
} from '@wirecall/core'
