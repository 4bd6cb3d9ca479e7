import type { SchemaSet } from '../schema/schema-types'
import type { ApiManifest } from './manifest-types'

/** The normalised manifest of a schema set. (Stub: being built.) */
export function buildManifest(_set: SchemaSet): ApiManifest {
  throw new Error('buildManifest is not built yet')
}
