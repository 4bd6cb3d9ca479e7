import { isProcedure, type AnyProcedure, type ContextNeeds } from './procedure'
import type { TypeError } from './types'

/** The shape a router is defined from: procedures, nested objects and routers. */
export interface RouterRecord {
  [key: string]: AnyProcedure | RouterRecord | AnyRouter
}

/**
 * A router: a tree of procedures. Its *type* is what clients import
 * (`import type { AppRouter }`); at runtime the server looks procedures up
 * by dotted path in a flat `Map`, never through an object's prototype.
 */
export interface Router<TCtx, TRecord extends RouterRecord> {
  readonly '~wirecall': 'router'
  readonly _def: {
    readonly record: TRecord
    /** Every procedure by dotted path. */
    readonly procedures: ReadonlyMap<string, AnyProcedure>
    /** Phantom: the context `createContext` must produce. Never set at runtime. */
    readonly ctx?: TCtx
  }
  /** Phantom, contravariant in the context: see {@link RouterRecordFor}. Never set at runtime. */
  readonly '~needs'?: (ctx: TCtx) => void
  // Slots a procedure has too (see `Procedure`): an entry of a router
  // record, procedure or router, is read with `entry['~ctx']`,
  // `entry['~kind']` and `entry['~types']`, and a nested object reads
  // `unknown` there.
  /** Phantom: the context `createContext` must produce, as `_def.ctx` (see {@link ContextNeeds}). Never set at runtime. */
  readonly '~ctx'?: ContextNeeds<TCtx>
  /** Phantom: tells a router from a procedure's `'query' | 'mutation' | 'subscription'`. Never set at runtime. */
  readonly '~kind'?: 'router'
  /** Phantom: a router has no procedure types; the slot is here so that any entry can be asked for it. Never set at runtime. */
  readonly '~types'?: undefined
}

export type AnyRouter = Router<any, any>

/**
 * What a router for context `TCtx` may hold: procedures and routers that
 * need no more than `TCtx` from `createContext`, and nested objects of them.
 * (`router()` itself checks its record with {@link CheckedRouterRecord},
 * whose errors name the missing key.)
 */
export interface RouterRecordFor<TCtx> {
  [key: string]:
    | (AnyProcedure & { readonly '~needs'?: (ctx: TCtx) => void })
    | (AnyRouter & { readonly '~needs'?: (ctx: TCtx) => void })
    | RouterRecordFor<TCtx>
}

/** What a procedure or router needs from `createContext`: a procedure's `~types.ctx`, a router's context. */
export type NeededContext<TEntry> = TEntry extends AnyProcedure
  ? NonNullable<TEntry['~types']>['ctx']
  : TEntry extends AnyRouter
    ? NonNullable<TEntry['_def']['ctx']>
    : never

/**
 * Why an entry needing `TNeeds` cannot be mounted where the context is
 * `TCtx`, one sentence per key; `never` when it can.
 */
export type ContextMismatch<TCtx, TNeeds> = TCtx extends TNeeds
  ? never
  : {
        [K in keyof TNeeds]-?: K extends keyof TCtx
          ? TCtx[K] extends TNeeds[K]
            ? never
            : `needs context key '${K & string}' of another type than this router's context has`
          : {} extends Pick<TNeeds, K>
            ? never
            : `needs context key '${K & string}', which this router's context does not have`
      }[keyof TNeeds] extends infer TSentences
    ? // No key to name (an index signature, say): still refused, in general terms.
      [TSentences] extends [never]
      ? "needs a context that this router's context is not assignable to"
      : TSentences
    : never

/** The message for a reserved key (see {@link checkRouterKey}). */
type ReservedKeyMessage<K extends string> = `'${K}' is reserved: keys starting with '$', and 'then', cannot name procedures`

/**
 * A router record with each entry that cannot be mounted replaced by the
 * reason, as a string type: a procedure or router built for a context this
 * router does not provide, or a reserved key, at any depth. `router()`
 * takes the record as this type only when something is wrong, so the
 * compiler's error sits on the entry and its first line is the reason:
 * "Type 'QueryProcedure<…>' is not assignable to type '"needs context key
 * 'db', which this router's context does not have"'".
 */
export type CheckedRouterRecord<TRecord extends RouterRecord, TCtx> = {
  [K in keyof TRecord]: CheckedEntry<K, TRecord[K], TCtx>
}

/**
 * One entry of {@link CheckedRouterRecord}. Written for the compiler's
 * sake, which runs it for every entry of a router that needs checking: a
 * procedure or router is told from a nested object by its `~wirecall` key
 * and checked through its `~ctx` slot, so that no conditional type has the
 * entry itself as its subject (the compiler would copy a procedure's whole
 * type, its schemas' types included, to test it). Only an entry that does
 * not fit that way gets its reasons computed, and is refused when there
 * are any (an entry of no single type, as `RouterRecord`'s own, can have
 * none).
 */
type CheckedEntry<K, TEntry extends AnyProcedure | RouterRecord | AnyRouter, TCtx> = K extends `$${string}` | 'then'
  ? ReservedKeyMessage<K & string>
  : '~wirecall' extends keyof TEntry
    ? [TEntry['~ctx']] extends [ContextNeeds<TCtx> | undefined]
      ? TEntry
      : [ContextMismatch<TCtx, NeededContext<TEntry>>] extends [never]
        ? TEntry
        : ContextMismatch<TCtx, NeededContext<TEntry>>
    : [TEntry] extends [RouterRecord]
      ? CheckedRouterRecord<TEntry, TCtx>
      : TEntry

/**
 * The parameter type of `router()`: the record itself when every entry
 * fits (so the record's type is inferred from the argument alone), the
 * {@link CheckedRouterRecord} otherwise. Most records are procedures and
 * routers built for this very context, under keys that are not reserved:
 * that is asked first, of the whole record at once (the `~ctx` slots of all
 * its entries, as one union, and its keys), before any entry is looked at
 * alone. A nested object, which has no `~ctx` (`unknown`), sends the record
 * the long way, through each entry.
 */
export type RouterRecordArg<TRecord extends RouterRecord, TCtx> = [
  TRecord[keyof TRecord]['~ctx'],
  keyof TRecord & (`$${string}` | 'then'),
] extends [ContextNeeds<TCtx> | undefined, never]
  ? TRecord
  : TRecord extends CheckedRouterRecord<TRecord, TCtx>
    ? TRecord
    : NoInfer<CheckedRouterRecord<TRecord, TCtx>>

/**
 * Flags reserved keys at compile time, where the runtime check in
 * `router()` would throw: `$...` (the client proxy's own) and `then`.
 * (`router()` now checks them with {@link CheckedRouterRecord}, at any depth.)
 */
export type ReservedKeyCheck<TRecord> = {
  [K in keyof TRecord as K extends `$${string}` | 'then' ? K : never]: TypeError<`"${K & string}" is reserved: keys starting with "$", and "then", cannot name procedures`>
}

/**
 * Keys that cannot name a procedure: `$...` is reserved for the client
 * proxy (`api.$connection`), `then` would make the proxy look like a promise,
 * and `.` is the path separator.
 */
export function checkRouterKey(key: string, where: string): void {
  const at = where === '' ? key : `${where}.${key}`
  if (key.length === 0) throw new TypeError('router(): empty keys are not allowed')
  if (key.startsWith('$')) throw new TypeError(`router(): "${at}" starts with "$", which is reserved for the client`)
  if (key.includes('.')) throw new TypeError(`router(): "${at}" contains ".", the path separator`)
  if (key === 'then') throw new TypeError(`router(): "${at}" is reserved: it would make the client proxy a thenable`)
}

/** @internal Used by `rpc.router`. */
export function createRouter<TCtx, TRecord extends RouterRecord>(record: TRecord): Router<TCtx, TRecord> {
  const procedures = new Map<string, AnyProcedure>()
  flatten(record, '', procedures, new Set())
  return Object.freeze({
    '~wirecall': 'router',
    _def: Object.freeze({ record, procedures }),
  })
}

function flatten(record: RouterRecord, prefix: string, into: Map<string, AnyProcedure>, seen: Set<object>): void {
  if (typeof record !== 'object' || record === null) throw new TypeError(`router(): "${prefix}" must be an object`)
  if (seen.has(record)) throw new TypeError(`router(): "${prefix}" contains itself`)
  seen.add(record)
  for (const key of Object.keys(record)) {
    checkRouterKey(key, prefix)
    const path = prefix === '' ? key : `${prefix}.${key}`
    const value = record[key]
    if (isProcedure(value)) into.set(path, value)
    else if (isRouter(value)) flatten(value._def.record, path, into, seen)
    else if (isPlainObject(value)) flatten(value as RouterRecord, path, into, seen)
    else throw new TypeError(`router(): "${path}" is neither a procedure nor a router`)
  }
  seen.delete(record)
}

/** True for a router made by `rpc.router`. */
export function isRouter(value: unknown): value is AnyRouter {
  return typeof value === 'object' && value !== null && (value as { '~wirecall'?: unknown })['~wirecall'] === 'router'
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** Looks a procedure up by wire-supplied path; own entries only. */
export function getProcedure(router: AnyRouter, path: string): AnyProcedure | undefined {
  return router._def.procedures.get(path)
}
