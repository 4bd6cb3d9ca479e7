/**
 * A payload type as the generator sees it, whichever source it came from:
 * the TypeScript checker (`generate types`, and schemas for procedures
 * without a validator), or a JSON Schema read back from a running server
 * (`generate types --url`). The declaration printer and the JSON Schema
 * writer both read this, so the two artifacts describe one thing.
 *
 * Only what can cross the wire has a node: a function, a class instance or
 * a symbol is refused where it is found, with the path to it.
 */
export type TypeModel =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  | { readonly kind: 'literal'; readonly value: string | number | boolean }
  /** A bigint literal, as its decimal digits (`-12`). */
  | { readonly kind: 'bigint-literal'; readonly digits: string }
  | { readonly kind: 'object'; readonly properties: readonly PropertyModel[]; readonly index?: TypeModel | undefined }
  | { readonly kind: 'array'; readonly element: TypeModel; readonly readonly: boolean }
  | { readonly kind: 'tuple'; readonly elements: readonly TupleElementModel[]; readonly readonly: boolean }
  | { readonly kind: 'union'; readonly members: readonly TypeModel[] }
  | { readonly kind: 'intersection'; readonly members: readonly TypeModel[] }
  /** A value the serializer carries with its own meta type: see {@link RichName}. `args` are a Map's key and value, a Set's element. */
  | { readonly kind: 'rich'; readonly name: RichName; readonly args: readonly TypeModel[] }
  /** A named alias, defined once in {@link ApiModel.aliases}: user interfaces, enums, and every recursive type. */
  | { readonly kind: 'ref'; readonly name: string }
  /** wirecall's `ResyncSignal` in a subscription's events. */
  | { readonly kind: 'resync' }

/** `unknown` stands for `any` too: a generated API never says `any`. */
export type PrimitiveName = 'string' | 'number' | 'boolean' | 'bigint' | 'null' | 'undefined' | 'void' | 'unknown' | 'never'

/**
 * The rich types the default serializer (superjson's meta types) carries
 * across the wire, as the lib's globals name them. `Error` and `RegExp`
 * travel from server to client only.
 */
export const RICH_NAMES = [
  'Date',
  'Map',
  'Set',
  'URL',
  'RegExp',
  'Error',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const

/** One of {@link RICH_NAMES}. */
export type RichName = (typeof RICH_NAMES)[number]

export interface PropertyModel {
  readonly name: string
  readonly type: TypeModel
  readonly optional: boolean
  readonly readonly: boolean
  /** The property's doc comment, carried into the declarations. */
  readonly doc?: string | undefined
}

export interface TupleElementModel {
  readonly type: TypeModel
  readonly optional: boolean
  readonly rest: boolean
  readonly name?: string | undefined
}
