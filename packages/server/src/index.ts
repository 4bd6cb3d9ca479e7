export { createRpcServer, type AttachOptions, type ListenInfo, type ListenOptions, type RpcServer, type ServerStats } from './server'
export {
  serverDefaults,
  type BackpressureOptions,
  type CloseOptions,
  type CreateContextOptions,
  type ErrorHandlerOptions,
  type RateLimitOptions,
  type RpcServerOptions,
} from './options'
export { Connection, type ConnectionRuntime } from './connection'
export type { RpcSocket } from './socket'
export { bindWsSocket } from './ws-adapter'
// Re-exported so a server needs one import.
export {
  CloseCode,
  PROTOCOL,
  RpcError,
  createCaller,
  initRpc,
  isRpcError,
  createChannel,
  fromCallback,
  fromEmitter,
  fromEventTarget,
  isResync,
  isTracked,
  resync,
  tracked,
  type Channel,
  type ChannelOptions,
  type ChannelSubscribeOptions,
  type EmitterLike,
  type ErrorOnOverflow,
  type EventTargetLike,
  type OverflowPolicy,
  type PushOptions,
  type PushSink,
  type PushStart,
  type ResyncSignal,
  type TrackedEnvelope,
  type RpcErrorCode,
  type inferRouterInputs,
  type inferRouterOutputs,
} from '@wirecall/core'
export { IdempotencyCache, idempotencyDefaults, type IdempotencyOptions } from './idempotency'
export { Heartbeat, type KeepAliveOptions } from '@wirecall/core'
