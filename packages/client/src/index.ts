export { createRpcClient } from './create-client'
export { clientDefaults, type CallOptions, type ConnectionParamsOption, type ConnectionState, type RpcClientOptions } from './options'
export type { ConnectionEvents } from './client-runtime'
export type {
  ConnectionHandle,
  DecorateRecord,
  MutationClient,
  MutationOptions,
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
