// ---- The API ----------------------------------------------------------------
// What apps use: the router and procedure builder with their types, errors,
// validation, serialization, server push, and the wire protocol as data.
// Every type that can appear in an app's inferred types is here, so that
// declaration emit can name it.

export { initRpc, type RpcInstance, type RpcInstanceOptions } from './init'
export { ProcedureBuilder, type BuilderDef, type BuilderState, type InitialBuilderDef, type Unset } from './procedure-builder'
export {
  type AnyProcedure,
  type MiddlewareFunction,
  type IdempotencyDeclaration,
  type MiddlewareNext,
  type MiddlewareOptions,
  type MiddlewareResult,
  type MutationProcedure,
  type Procedure,
  type ProcedureDef,
  type ProcedureStep,
  type ProcedureType,
  type ProcedureTypes,
  type QueryProcedure,
  type ResolverOptions,
  type SubscriptionProcedure,
  type SubscriptionResolverOptions,
} from './procedure'
export { type AnyRouter, type ReservedKeyCheck, type Router, type RouterRecord, type RouterRecordFor } from './router'
export type { AnyClientApi, ClientApiProcedure, inferClientApi } from './client-api'
export {
  ClientProcedure,
  clientProcedure,
  defineClientRouter,
  type AnyClientProcedure,
  type AnyClientRouter,
  type ClientHandler,
  type ClientHandlerOptions,
  type ClientImplementation,
  type ClientProcedureDef,
  type ClientProcedureTypes,
  type ClientRouter,
  type ClientRouterRecord,
  type PeerApi,
  type PeerCallOptions,
  type PeerProcedure,
  type inferPeer,
} from './client-router'
export { stream, type ReadableStreamLike, type StreamOptions, type StreamSchema, type StreamSource } from './stream'
export type { inferProcedureInput, inferProcedureOutput, inferRouterContext, inferRouterInputs, inferRouterOutputs } from './inference'
export { createCaller, type CallerOptions, type CallerRecord, type RouterCaller } from './caller'
export { ERROR_CODES, RpcError, assertNever, isRpcError, isRpcErrorCode, type RpcErrorCode, type RpcErrorOptions } from './errors'
export {
  OutputValidationError,
  type AnySchema,
  type StandardSchemaV1,
  type ValidationErrorData,
  type ValidationIssue,
  type inferSchemaInput,
  type inferSchemaOutput,
} from './schema'
export { compactSerializer } from './compact-serializer'
export { defaultSerializer, jsonSerializer, superjsonSerializer, type Serializer, type SuperJSONLike } from './serializer'
export {
  isResync,
  isTracked,
  resync,
  RESYNC_REASONS,
  tracked,
  withPosition,
  type PositionedIterator,
  type ResyncReason,
  type ResyncSignal,
  type TrackedEnvelope,
  type UnwrapTracked,
} from './tracked'
export {
  createChannel,
  notifyPublish,
  publishHooks,
  type Channel,
  type ChannelEvent,
  type ChannelInstrumentation,
  type ChannelOptions,
  type ChannelPublishEvent,
  type ChannelPublishOptions,
  type ChannelSubscribeOptions,
} from './channel'
export { isVolatile, type VolatileEnvelope } from './volatile'
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
export { payloadLimitDefaults, type OptInAnnotation, type PayloadLimits } from './payload-guard'
export type { KeepAliveOptions } from './keep-alive'
export type { MaybePromise, Overwrite, Simplify, TypeError } from './types'
export {
  MAX_ID,
  MessageType,
  PROTOCOL,
  SCHEMA_ENDPOINT_PATH,
  type AckMessage,
  type AnnouncedLimits,
  type CallMessage,
  type CallMethod,
  type CancelMessage,
  type ChunkMessage,
  type ClientMessage,
  type CreditMessage,
  type EndMessage,
  type PeerCallMessage,
  type PeerCancelMessage,
  type CompleteMessage,
  type DataMessage,
  type EncodedPayload,
  type ErrorMessage,
  type InitMessage,
  type PingMessage,
  type PongMessage,
  type ReinitMessage,
  type RestartMessage,
  type ResultMessage,
  type ResyncMessage,
  type ServerMessage,
  type StartedMessage,
  type SubscribeMessage,
  type UnsubscribeMessage,
} from './protocol'
export { MAX_EVENT_ID_LENGTH, MAX_GRANT, MAX_HANDLERS, MAX_IDEMPOTENCY_KEY_LENGTH, MAX_PATH_LENGTH, MAX_RESTART_DELAY_MS } from './protocol-parse'
export { CLOSE_CODES, CloseCode, closeMeaning, type CloseCodeRow, type CloseMeaning } from './close-codes'
export {
  MAX_BAGGAGE_LENGTH,
  MAX_TRACESTATE_LENGTH,
  readTraceContext,
  traceContextOfHeaders,
  type TraceContext,
} from './trace-context'

// ---- @internal --------------------------------------------------------------
// For @wirecall/server and @wirecall/client only: how they run procedures and
// speak the protocol. Not for apps, and not covered by semver; a name moves
// up to the API above only by decision (tests/build/exports.test.ts).

export { callProcedure, isThenable, LazyAbort, peerProxy, startProcedure, type CallProcedureOptions } from './call'
export { isClientRouter } from './client-router'
export { INCOMING_STREAM, invalidChunk, isStreamSchema, isStreamSource, toAsyncIterable } from './stream'
export { isStandardSchema } from './schema'
export { getProcedure } from './router'
export { validate } from './schema'
export { positionOf, traceOf, withTrace } from './tracked'
export { markVolatile, volatileEnvelope, volatileMarkOf, volatileNow, type VolatileMark } from './volatile'
export { VolatileRing, wakeCursors, type VolatileCursor } from './volatile-ring'
export { checkPayload } from './payload-guard'
export { parseClientFrame, parseServerFrame, type ParseFrameOptions, type ParseResult } from './protocol-parse'
// The parser's envelope tables and rules, for @wirecall/codegen's AsyncAPI document (mapped by identity).
export {
  CLIENT_SHAPES,
  SERVER_SHAPES,
  delayMsRule,
  eventIdRule,
  featuresRule,
  grantRule,
  handlersRule,
  idRule,
  idempotencyKeyRule,
  idempotentRule,
  limitsRule,
  maxPayloadRule,
  methodRule,
  pathRule,
  payloadRule,
  textRule,
  reasonRule,
  streamRule,
  type EnvelopeRule,
  type EnvelopeTable,
} from './protocol-parse'
export { frameShapeProblem, type FrameShapeLimits } from './frame-shape'
export {
  PING_FRAME,
  PONG_FRAME,
  ackFrame,
  callFrame,
  cancelFrame,
  chunkFrame,
  completeFrame,
  creditFrame,
  dataFrame,
  decodeError,
  decodePayload,
  encodeFields,
  encodePayload,
  endFrame,
  errorFields,
  eventFields,
  eventFieldsWithoutId,
  initFrame,
  peerCallFrame,
  reinitFrame,
  restartFrame,
  resultFrame,
  resyncFrame,
  stampFrame,
  startedFrame,
  subscribeFrame,
  unsubscribeFrame,
  type EncodedFields,
} from './frames'
export { ABNORMAL_CLOSURE, MESSAGE_TOO_BIG, NORMAL_CLOSURE, PROTOCOL_ERROR, closeError, refusalCloseCode } from './close-codes'
export { FrameBatcher, MAX_BATCH_CHARS, MAX_BATCH_MESSAGES } from './frame-batcher'
export { truncateCloseReason } from './close-reason'
export { utf8Length } from './utf8'
