export { initRpc, type RpcInstance, type RpcInstanceOptions } from './init'
export {
  ProcedureBuilder,
  isProcedure,
  type AnyProcedure,
  type BuilderDef,
  type BuilderState,
  type InitialBuilderDef,
  type MiddlewareFunction,
  type MiddlewareNext,
  type MiddlewareOptions,
  type MiddlewareResult,
  type MutationProcedure,
  type Procedure,
  type ProcedureRuntime,
  type ProcedureStep,
  type ProcedureType,
  type ProcedureTypes,
  type QueryProcedure,
  type ResolverOptions,
  type SubscriptionProcedure,
  type SubscriptionResolverOptions,
  type Unset,
} from './procedure'
export {
  createRouter,
  getProcedure,
  isRouter,
  type AnyRouter,
  type ReservedKeyCheck,
  type Router,
  type RouterRecord,
  type RouterRecordFor,
} from './router'
export type {
  inferProcedureInput,
  inferProcedureOutput,
  inferRouterContext,
  inferRouterInputs,
  inferRouterOutputs,
} from './inference'
export { callProcedure, LazyAbort, type CallProcedureOptions } from './call'
export { createCaller, type CallerOptions, type CallerRecord, type RouterCaller } from './caller'
export { ERROR_CODES, RpcError, assertNever, isRpcError, isRpcErrorCode, type RpcErrorCode, type RpcErrorOptions } from './errors'
export {
  OutputValidationError,
  validate,
  type AnySchema,
  type StandardSchemaV1,
  type ValidationErrorData,
  type ValidationIssue,
  type inferSchemaInput,
  type inferSchemaOutput,
} from './schema'
export { compactSerializer } from './compact-serializer'
export {
  defaultSerializer,
  isJsonPlain,
  jsonSerializer,
  superjsonSerializer,
  type Serializer,
  type SuperJSONLike,
} from './serializer'
export {
  isResync,
  isTracked,
  positionOf,
  resync,
  tracked,
  withPosition,
  type PositionedIterator,
  type ResyncSignal,
  type TrackedEnvelope,
  type UnwrapTracked,
} from './tracked'
export { createChannel, type Channel, type ChannelOptions, type ChannelSubscribeOptions } from './channel'
export {
  fromCallback,
  fromEmitter,
  fromEventTarget,
  type EmitterLike,
  type ErrorOnOverflow,
  type EventTargetLike,
  type OverflowPolicy,
  type PushOptions,
  type PushSink,
  type PushStart,
} from './push-iterable'
export * from './protocol'
export * from './frames'
export {
  ABNORMAL_CLOSURE,
  CLOSE_CODES,
  CloseCode,
  MESSAGE_TOO_BIG,
  NORMAL_CLOSURE,
  PROTOCOL_ERROR,
  closeError,
  closeMeaning,
  refusalCloseCode,
  type CloseCodeRow,
  type CloseMeaning,
} from './close-codes'
export { utf8Length } from './utf8'
export {
  MAX_EVENT_ID_LENGTH,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_PATH_LENGTH,
  MAX_RESTART_DELAY_MS,
  parseClientFrame,
  parseServerFrame,
  type ParseFrameOptions,
  type ParseResult,
} from './protocol-parse'
export type { MaybePromise, Overwrite, Simplify, TypeError } from './types'
export { truncateCloseReason } from './close-reason'
export type { KeepAliveOptions } from './keep-alive'
export { FrameBatcher, MAX_BATCH_CHARS, MAX_BATCH_MESSAGES } from './frame-batcher'
export { checkPayload, payloadLimitDefaults, type OptInAnnotation, type PayloadLimits } from './payload-guard'
