import { compactSerializer } from './compact-serializer'
import { registerFloatArrays } from './float-arrays'
import { isJsonPlain } from './json-plain'
import type { EncodedPayload } from './protocol'

export { isJsonPlain }

/**
 * Turns values into JSON plus optional metadata and back. Both ends of a
 * connection must use the same serializer.
 *
 * `serialize` may throw (a circular value, say); the caller turns that into
 * a per-call error. `deserialize` receives what the peer sent and must treat
 * it as untrusted.
 */
export interface Serializer {
  serialize(value: unknown): EncodedPayload
  deserialize(payload: EncodedPayload): unknown
  /**
   * Set by {@link superjsonSerializer}: `meta` is superjson's, so a server
   * can check it against its payload limits before deserializing. A
   * serializer without it gets only the depth check on `json`.
   */
  readonly metaFormat?: 'superjson'
}

/** The smallest interface of a superjson instance that wirecall needs. */
export interface SuperJSONLike {
  serialize(value: unknown): { json: unknown; meta?: unknown }
  deserialize(payload: { json: unknown; meta?: unknown }): unknown
  /** When present, wirecall registers its float-array transforms through it (see {@link superjsonSerializer}). */
  registerCustom?(transformer: CustomTransformer, name: string): void
}

/** A superjson custom transformer, as `registerCustom` takes it. */
export interface CustomTransformer {
  isApplicable: (value: any) => boolean
  serialize: (value: any) => any
  deserialize: (value: any) => any
}

/**
 * Wraps a superjson instance (yours, with registered classes or custom
 * transforms) as a {@link Serializer}. JSON-plain values skip superjson
 * entirely: they are sent as they are, with no `meta`, which is what
 * superjson itself would produce for them, only cheaper.
 *
 * Without an instance it returns {@link compactSerializer}, the default:
 * the same wire format for every built-in type, without superjson in the
 * bundle. wirecall does not import superjson itself, so an app that never
 * calls this with an instance never ships it.
 *
 * superjson writes a `Float32Array`/`Float64Array` as a JSON array of
 * numbers, which turns NaN and ±Infinity into 0 and -0 into 0. So that such
 * arrays arrive intact, wirecall registers a custom transform on the
 * instance (`wirecall.Float32Array`, `wirecall.Float64Array`) that is used
 * only for arrays holding one of those values; other typed arrays keep
 * superjson's own format.
 *
 * @example
 * ```ts
 * const sj = new SuperJSON(); sj.registerClass(Money)
 * createRpcServer({ router, serializer: superjsonSerializer(sj) })
 * ```
 */
export function superjsonSerializer(instance?: SuperJSONLike): Serializer {
  if (instance === undefined) return compactSerializer
  registerFloatArrays(instance)
  return {
    metaFormat: 'superjson',
    serialize(value) {
      if (isJsonPlain(value)) return { json: value }
      const { json, meta } = instance.serialize(value)
      return meta === undefined ? { json } : { json, meta }
    },
    deserialize(payload) {
      if (payload.meta === undefined) return payload.json
      return instance.deserialize(payload)
    },
  }
}

/**
 * Plain `JSON`: no Date, Map, Set, BigInt or undefined-in-objects revival.
 * The fastest choice when every payload is JSON already. What JSON cannot
 * carry is changed as `JSON.stringify` changes it (a Date becomes a string,
 * functions and undefined properties vanish) while the inferred types still
 * say otherwise, and a bigint fails the call. Use it only for JSON-shaped APIs.
 */
export const jsonSerializer: Serializer = {
  serialize(value) {
    return { json: value }
  },
  deserialize(payload) {
    return payload.json
  },
}

/**
 * The serializer used when none is given: {@link compactSerializer}, which
 * writes and reads superjson's format (a superjson peer understands it) for
 * Date, Map, Set, BigInt, undefined, URL, RegExp, Error, typed arrays and
 * non-finite numbers, with the plain-JSON fast path.
 */
export const defaultSerializer: Serializer = compactSerializer

