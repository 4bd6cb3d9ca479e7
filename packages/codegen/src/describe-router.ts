import type { AnyRouter } from '@wirecall/core'
import { buildAsyncApi } from './asyncapi/build-asyncapi'
import { buildManifest } from './manifest/build-manifest'
import type { ApiManifest } from './manifest/manifest-types'
import { buildSchemaSet } from './schema/build-schema-set'
import type { JsonSchema, SchemaWarning } from './schema/schema-types'

/** A router's machine-readable contract: what the schema endpoint answers. */
export interface ApiDescription {
  readonly manifest: ApiManifest
  /** The AsyncAPI 3.0 document of the connection. */
  readonly asyncapi: JsonSchema
}

/** Options of {@link describeRouter}. */
export interface DescribeRouterOptions {
  /** The server's public address, written into the AsyncAPI document's `servers`. */
  readonly url?: string | undefined
}

/** What {@link describeRouter} found, with what it could not describe exactly. */
export interface RouterDescription extends ApiDescription {
  readonly warnings: readonly SchemaWarning[]
}

/**
 * Describes a router from its runtime object alone, for the server's
 * schema endpoint: the schemas come from its validators, since there is no
 * TypeScript source to read at run time. A side without a validator is
 * `{}` marked `x-wirecall-unrepresentable` (and a warning), which a
 * generated `api.d.ts` reads as `unknown`: give every procedure a
 * validator for a complete contract from a running server.
 */
export async function describeRouter(router: AnyRouter, options: DescribeRouterOptions = {}): Promise<RouterDescription> {
  // Converters that live beside the app (valibot's, zod mini's core) resolve from where the server runs.
  const set = await buildSchemaSet(router, { resolveFrom: process.cwd() })
  return { manifest: buildManifest(set), asyncapi: buildAsyncApi(set, { url: options.url }), warnings: set.warnings }
}
