import type { JsonSchema, SchemaSet } from '../schema/schema-types'

/** Options of {@link buildAsyncApi}. */
export interface BuildAsyncApiOptions {
  /** The server's endpoint, `ws://host:port/path` or `wss://…`. */
  readonly url?: string | undefined
  /** The document's `info.title`. */
  readonly title?: string | undefined
  readonly version?: string | undefined
}

/** The AsyncAPI 3.0 document of a connection. (Stub: being built.) */
export function buildAsyncApi(_set: SchemaSet, _options?: BuildAsyncApiOptions): JsonSchema {
  throw new Error('buildAsyncApi is not built yet')
}
