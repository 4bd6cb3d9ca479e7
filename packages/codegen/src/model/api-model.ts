import type { ProcedureType } from '@wirecall/core'
import type { TypeModel } from './type-model'

/** One procedure of the API, as both artifacts describe it. */
export interface ProcedureModel {
  /** Dotted path, as on the wire: `post.add`. */
  readonly path: string
  readonly kind: ProcedureType
  /** A mutation declared `.idempotent()`. */
  readonly idempotent: boolean
  /** What a caller sends (`undefined`/`void` when the procedure takes none). */
  readonly input: TypeModel
  /** What a caller gets back; for a subscription, each event (with `resync` when it can resync). */
  readonly output: TypeModel
}

/** A router's wire-only API: its procedures, and the named types they refer to. */
export interface ApiModel {
  /** In the router's own order (depth first, declaration order). */
  readonly procedures: readonly ProcedureModel[]
  /** Named types referred to by `{ kind: 'ref' }` nodes, by name. */
  readonly aliases: ReadonlyMap<string, TypeModel>
  /** Doc comments of named types (by alias name), carried into the declarations. */
  readonly aliasDocs?: ReadonlyMap<string, string> | undefined
}
