export { createQueryUtils, type QueryUtilsOptions } from './utils'
export { queryKeyHashFn } from './keys'
export type {
  CallTimeout,
  KeyType,
  LiveOptionsIn,
  MutationOptionsIn,
  MutationProcedureUtils,
  PathUtils,
  QueryOptionsIn,
  QueryProcedureUtils,
  QueryUtils,
  ResyncReason,
  RpcMutationOptions,
  RpcQueryKey,
  RpcQueryOptions,
  RpcSubscriptionOptions,
  StreamedOptionsIn,
  StreamOptionsIn,
  SubscriptionOptionsIn,
  SubscriptionProcedureUtils,
  SubscriptionStatus,
  WithInitialData,
} from './types'
