import type { ApiModel } from '../model/api-model'
import type { ApiManifest } from '../manifest/manifest-types'
import type { JsonSchema } from '../schema/schema-types'

/** What a server with `schemaEndpoint: true` answers. */
export interface RemoteDescription {
  readonly manifest: ApiManifest
  readonly asyncapi: JsonSchema
}

/** Options of {@link readRemoteApi}. */
export interface ReadRemoteOptions {
  readonly params?: Record<string, unknown> | undefined
  readonly signal?: AbortSignal | undefined
}

/** Asks a running server for its manifest and AsyncAPI document. (Stub: being built.) */
export async function readRemoteApi(_url: string, _options?: ReadRemoteOptions): Promise<RemoteDescription> {
  throw new Error('readRemoteApi is not built yet')
}

/** The API model of a manifest read from a server: its JSON Schemas as types. (Stub: being built.) */
export function manifestToApiModel(_manifest: ApiManifest): ApiModel {
  throw new Error('manifestToApiModel is not built yet')
}
