import type { AnyRouter } from '@wirecall/core'
import type { ApiModel } from '../model/api-model'
import type { SchemaSet } from './schema-types'

/** Options of {@link buildSchemaSet}. */
export interface BuildSchemaSetOptions {
  /** The router's types from the checker, for procedures without a validator. Without it those sides are unrepresentable. */
  readonly model?: ApiModel | undefined
  /** A file or folder to resolve validator libraries' converters from (the router's file). */
  readonly resolveFrom?: string | undefined
}

/** Every procedure's input and output schemas, wire form. (Stub: being built.) */
export async function buildSchemaSet(_router: AnyRouter, _options?: BuildSchemaSetOptions): Promise<SchemaSet> {
  throw new Error('buildSchemaSet is not built yet')
}
