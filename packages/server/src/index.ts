export { createRpcServer } from './create-server'
export type { AttachOptions, ListenInfo, ListenOptions, RpcServer, ServerConnection, ServerStats } from './rpc-server'
export { callEach, type CallEachOptions, type CallEachOutcome } from './call-each'
export {
  serverDefaults,
  type BackpressureOptions,
  type CloseOptions,
  type CreateContextOptions,
  type ErrorHandlerOptions,
  type PeerCallsOptions,
  type RateLimitOptions,
  type RpcServerOptions,
} from './options'
export type { RpcSocket, SocketEvents, UpgradeInfo } from './session/socket'
export type {
  CallOutcome,
  ConnectionRef,
  ServerBackpressureEvent,
  ServerCallEvent,
  ServerCloseEvent,
  ServerConnectionEvent,
  ServerDeliverEvent,
  ServerInstrumentation,
  ServerSubscriptionEvent,
} from './instrumentation'
// Re-exported so a server needs one import.
export {
  CloseCode,
  PROTOCOL,
  RpcError,
  createCaller,
  initRpc,
  isRpcError,
  fromCallback,
  fromEmitter,
  fromEventTarget,
  isResync,
  isTracked,
  isVolatile,
  resync,
  tracked,
  type Channel,
  type ChannelEvent,
  type ChannelInstrumentation,
  type ChannelOptions,
  type ChannelPublishEvent,
  type ChannelPublishOptions,
  type ChannelSubscribeOptions,
  type VolatileEnvelope,
  type EmitterLike,
  type ErrorOnOverflow,
  type EventTargetLike,
  type OverflowPolicy,
  type PushOptions,
  type PushSink,
  type PushStart,
  type ResyncReason,
  type ResyncSignal,
  type TrackedEnvelope,
  type RpcErrorCode,
  type inferRouterInputs,
  type inferRouterOutputs,
  clientProcedure,
  defineClientRouter,
  stream,
  type ClientRouter,
  type PeerApi,
  type PeerCallOptions,
  type PeerProcedure,
  type StreamOptions,
  type StreamSchema,
  type inferPeer,
} from '@wirecall/core'
export { idempotencyDefaults, type IdempotencyOptions } from './session/idempotency'
export {
  errorOutcome,
  type IdempotencyClaim,
  type IdempotencyClaimRequest,
  type IdempotencyOutcome,
  type IdempotencyStore,
} from './session/idempotency-store'
export { createChannel } from './channel/create-channel'
export type { BackedChannel, BackedChannelOptions } from './channel/backed-channel'
export type { BackendEntry, BackendRead, BackendTail, ChannelBackend, TailListener } from './channel/backend'
export { memoryChannelBackend, type MemoryChannelBackendOptions } from './channel/memory-backend'
export { SCHEMA_ENDPOINT_PATH, type SchemaEndpointOptions } from './session/schema-endpoint'
export type { KeepAliveOptions } from '@wirecall/core'
