import { RpcError } from './errors'
import { checkMeta } from './meta-guard'
import { refuse } from './payload-refusal'

/**
 * Annotations that superjson can revive but a server refuses from untrusted
 * peers unless it opts in: a `RegExp` is a ReDoS waiting for its first
 * `.test()`, an `Error` is a foreign object with a `stack` of the peer's
 * choosing, and `class` / `symbol` / `custom` reach code the application
 * registered (`Object.assign` onto a class prototype, say).
 */
export type OptInAnnotation = 'regexp' | 'Error' | 'class' | 'symbol' | 'custom'

/** Bounds on payloads from untrusted peers, checked before the serializer walks them. */
export interface PayloadLimits {
  /**
   * Deepest nesting of arrays/objects in `json` and in `meta`. In `meta`, no
   * annotation or reference path may have more segments than this (a path
   * cannot lead deeper than `json` goes), which bounds the annotation tree
   * too: superjson nests it up to twice as deep as the value it describes.
   * @default 64
   */
  maxDepth?: number
  /**
   * Most digits of a bigint (superjson sends a bigint as a decimal string;
   * `BigInt()` of a million digits takes a tenth of a second).
   * @default 1_000
   */
  maxBigIntDigits?: number
  /**
   * Most reference paths in superjson's `referentialEqualities` (all lists
   * together, keys and values). superjson finds the n-th entry of a Set or
   * Map by walking n entries, so a path through the n-th entry counts n
   * steps, and all paths together may take at most 1 000 steps per allowed
   * path.
   * @default 1_000
   */
  maxReferencePaths?: number
  /**
   * Annotations refused by default that the server accepts: any of
   * 'regexp' | 'Error' | 'class' | 'symbol' | 'custom'. wirecall's own
   * custom transforms (`wirecall.Float32Array`, `wirecall.Float64Array`)
   * are always accepted.
   * @default []
   */
  allowAnnotations?: readonly OptInAnnotation[]
}

/** The bounds {@link checkPayload} applies where {@link PayloadLimits} leaves one out. */
export const payloadLimitDefaults: Required<PayloadLimits> = /* @__PURE__ */ Object.freeze({
  maxDepth: 64,
  maxBigIntDigits: 1_000,
  maxReferencePaths: 1_000,
  allowAnnotations: /* @__PURE__ */ Object.freeze([] as OptInAnnotation[]),
})

/**
 * Checks a payload from an untrusted peer (`json` as `JSON.parse` made it,
 * and superjson's `meta`, if any) against {@link PayloadLimits} before the
 * serializer walks it. Throws an `RpcError` (`BAD_REQUEST`, with a short
 * message saying which bound) when `json`/`meta` break a bound; never throws
 * anything else, never recurses (explicit stacks), and costs O(size).
 *
 * What it refuses, and why:
 * - `json` nested deeper than `maxDepth`, or paths in `meta` longer than
 *   that: superjson and most validators recurse, and 100 000 levels
 *   overflow the stack.
 * - A `meta` that is not a superjson meta: not an object, an unknown
 *   annotation (superjson looks annotations up in a plain object, so
 *   `"constructor"` would find `Object`), a malformed tree (a string there
 *   sends superjson into unbounded recursion).
 * - Opt-in annotations (see {@link OptInAnnotation}) unless allowed.
 * - A path segment `__proto__`, `prototype` or `constructor` anywhere in
 *   `meta`: the classic prototype-pollution keys.
 * - Paths that do not lead to a value of `json`, through array indexes
 *   other than `0`, `1`, … or inherited properties (`toString`): superjson
 *   would hand builtins to the resolver or index arrays with `+"0x1"`.
 * - Annotations superjson would apply through a value it has already
 *   revived (a Set dedupes, so `set.1` is no longer `json[1]`), or twice to
 *   one value (`number` then `typed-array` is `new Float64Array(1e9)`);
 *   superjson's own output never does either.
 * - A `bigint` that is not a decimal string of at most `maxBigIntDigits`
 *   digits; a typed array that is not a JSON array (`new Uint8Array(2**32)`).
 * - More than `maxReferencePaths` reference paths, or paths that walk too
 *   far into Sets and Maps: superjson resolves each path from the root, and
 *   through a Set or Map by counting entries, so 150 000 paths into a Set
 *   hold the event loop for about ten seconds.
 *
 * `json` is not checked for keys: an own `__proto__` key from `JSON.parse`
 * is data, harmless until someone `Object.assign`s it into an object
 * (`compactSerializer` keeps it as an own data property, with `meta` or
 * without; superjson itself drops such keys when it revives a payload with
 * `meta`). It is walked like any other key, so the depth bound covers what
 * is under it. Keys of `meta` that superjson does not read are not looked at.
 *
 * @example
 * ```ts
 * // On the server, for every payload from a client, before deserializing:
 * checkPayload(message.input, message.meta, { maxDepth: 32 })
 * const input = serializer.deserialize({ json: message.input, meta: message.meta })
 *
 * checkPayload(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), undefined)
 * // throws RpcError BAD_REQUEST "Payload refused: nested deeper than 64 levels"
 * ```
 */
export function checkPayload(json: unknown, meta: unknown, limits?: PayloadLimits): void {
  // The common case: a primitive and no meta. Nothing to walk.
  if (meta === undefined && (typeof json !== 'object' || json === null)) return
  const maxDepth = limits?.maxDepth ?? payloadLimitDefaults.maxDepth
  try {
    checkDepth(json, maxDepth)
    if (meta !== undefined) {
      checkMeta(json, meta, {
        maxDepth,
        maxBigIntDigits: limits?.maxBigIntDigits ?? payloadLimitDefaults.maxBigIntDigits,
        maxReferencePaths: limits?.maxReferencePaths ?? payloadLimitDefaults.maxReferencePaths,
        allowAnnotations: limits?.allowAnnotations ?? payloadLimitDefaults.allowAnnotations,
      })
    }
  } catch (error) {
    if (error instanceof RpcError) throw error
    // Only something the payload was not supposed to contain (a throwing
    // getter from an in-process caller, say) gets here: refuse it too.
    throw new RpcError('BAD_REQUEST', 'Payload refused: malformed', { cause: error })
  }
}

// ---- json ------------------------------------------------------------------

/**
 * Iterative depth walk: the root container is level 1. Values as `JSON.parse`
 * makes them are trees, so each is visited once; a cycle (from an in-process
 * caller) is refused at `maxDepth` rather than walked forever.
 */
function checkDepth(root: unknown, maxDepth: number): void {
  if (typeof root !== 'object' || root === null) return
  if (maxDepth < 1) refuse(`nested deeper than ${maxDepth} levels`)
  const stack: object[] = [root]
  const depths: number[] = [1]
  while (stack.length > 0) {
    const value = stack.pop() as Record<string, unknown>
    const depth = depths.pop() as number
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i]
        if (typeof item !== 'object' || item === null) continue
        if (depth >= maxDepth) refuse(`nested deeper than ${maxDepth} levels`)
        stack.push(item)
        depths.push(depth + 1)
      }
    } else {
      for (const key in value) {
        const item = value[key]
        if (typeof item !== 'object' || item === null) continue
        if (depth >= maxDepth) refuse(`nested deeper than ${maxDepth} levels`)
        stack.push(item)
        depths.push(depth + 1)
      }
    }
  }
}

