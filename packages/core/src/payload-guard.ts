import { RpcError } from './errors'

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
 * (superjson drops such keys when it revives a payload with `meta`; without
 * `meta` the JSON is handed over as parsed). Keys of `meta` that superjson
 * does not read are not looked at.
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
    if (meta !== undefined) checkMeta(json, meta, limits, maxDepth)
  } catch (error) {
    if (error instanceof RpcError) throw error
    // Only something the payload was not supposed to contain (a throwing
    // getter from an in-process caller, say) gets here: refuse it too.
    throw new RpcError('BAD_REQUEST', 'Payload refused: malformed', { cause: error })
  }
}

function refuse(why: string): never {
  throw new RpcError('BAD_REQUEST', `Payload refused: ${why}`)
}

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
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

// ---- meta ------------------------------------------------------------------

/** What an annotation does to the shape of its value, as far as the checks care. */
const Kind = {
  Other: 1,
  BigInt: 2,
  Set: 3,
  Map: 4,
  /** Revived from a JSON array: superjson's typed arrays and wirecall's float arrays. */
  ArrayBacked: 5,
} as const
type Kind = (typeof Kind)[keyof typeof Kind]

/** A position in `json` that annotation paths reach; `kind` is set once an annotation there has been applied. */
interface PathNode {
  kind?: Kind
  children?: Map<string, PathNode>
}

interface MetaCheck {
  json: unknown
  legacyPaths: boolean
  maxDepth: number
  maxBigIntDigits: number
  maxReferencePaths: number
  allowed: ReadonlySet<string>
  root: PathNode
}

/** superjson's typed-array constructors (`transformer.js`); anything else fails there anyway. */
const TYPED_ARRAYS = new Set([
  'Int8Array',
  'Uint8Array',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'Uint8ClampedArray',
])

/** Registered by {@link registerFloatArrays} on every superjson instance wirecall wraps. */
const WIRECALL_CUSTOM = new Set(['wirecall.Float32Array', 'wirecall.Float64Array'])

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'prototype', 'constructor'])

/** Steps into Sets and Maps allowed per allowed reference path (see {@link PayloadLimits.maxReferencePaths}). */
const COLLECTION_STEPS_PER_PATH = 1_000

function checkMeta(json: unknown, meta: unknown, limits: PayloadLimits | undefined, maxDepth: number): void {
  if (!isObject(meta)) refuse('meta must be an object')
  // Own properties only: `meta` comes from JSON.parse, and nothing inherited is ours to read.
  const values = hasOwn(meta, 'values') ? meta.values : undefined
  const references = hasOwn(meta, 'referentialEqualities') ? meta.referentialEqualities : undefined
  const version = hasOwn(meta, 'v') ? meta.v : undefined
  if (version !== undefined && typeof version !== 'number') refuse('meta.v must be a number')
  const check: MetaCheck = {
    json,
    // superjson: `meta.v ?? 0`, and versions below 1 parse paths without `\\` escapes.
    legacyPaths: (version ?? 0) < 1,
    maxDepth,
    maxBigIntDigits: limits?.maxBigIntDigits ?? payloadLimitDefaults.maxBigIntDigits,
    maxReferencePaths: limits?.maxReferencePaths ?? payloadLimitDefaults.maxReferencePaths,
    allowed: new Set<string>(limits?.allowAnnotations ?? payloadLimitDefaults.allowAnnotations),
    root: {},
  }
  // Count reference paths first: a huge table is refused before anything else is walked.
  if (references !== undefined) countReferencePaths(references, check.maxReferencePaths)
  if (values !== undefined) checkValues(values, check)
  if (references !== undefined) checkReferencePaths(references, check)
}

/**
 * Walks `meta.values` exactly as superjson's `applyValueAnnotations` does:
 * a tree is either an object of `path -> tree` (paths relative to where the
 * object sits, segments joined by `.`) or a node `[annotation, children?]`,
 * whose children are applied first and the node last; object entries in
 * their own order. Every path is resolved against `json` as the walk goes,
 * so annotations line up with the values they revive.
 */
function checkValues(values: unknown, check: MetaCheck): void {
  type Frame =
    | { apply: PathNode; kind: Kind }
    | { apply?: undefined; tree: unknown; key: string; json: unknown; node: PathNode; depth: number }
  const stack: Frame[] = []

  // Visits a (sub)tree sitting at a resolved position: pushes what must run, children first.
  const visit = (tree: unknown, json: unknown, node: PathNode, depth: number): void => {
    if (Array.isArray(tree)) {
      if (tree.length !== 1 && tree.length !== 2) refuse('malformed annotation')
      const kind = annotationKind(tree[0], check.allowed)
      checkShape(kind, json, check.maxBigIntDigits)
      stack.push({ apply: node, kind })
      if (tree.length === 2) {
        const children: unknown = tree[1]
        if (!isObject(children)) refuse('malformed annotation')
        pushEntries(children, json, node, depth)
      }
    } else if (isObject(tree)) {
      pushEntries(tree, json, node, depth)
    } else {
      // superjson recurses forever into `Object.entries` of a string.
      refuse('malformed annotation tree')
    }
  }
  const pushEntries = (tree: Record<string, unknown>, json: unknown, node: PathNode, depth: number): void => {
    const keys = Object.keys(tree)
    // Reversed onto the stack, so they come off in superjson's order.
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!
      stack.push({ tree: tree[key], key, json, node, depth })
    }
  }

  visit(values, check.json, check.root, 0)
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    if (frame.apply !== undefined) {
      frame.apply.kind = frame.kind
      continue
    }
    // Resolved only now, after every earlier entry has been applied, so a
    // path through a value revived by an earlier entry is caught.
    let { json, node, depth } = frame
    for (const segment of parsePath(frame.key, check.legacyPaths, check.maxDepth - depth)) {
      json = child(json, segment)
      if (json === MISSING) refuse('annotation path does not match the payload')
      node = pathNode(node, segment)
      if (node.kind !== undefined) refuse('annotations overlap')
      depth++
    }
    visit(frame.tree, json, node, depth)
  }
}

function annotationKind(annotation: unknown, allowed: ReadonlySet<string>): Kind {
  if (typeof annotation === 'string') {
    switch (annotation) {
      case 'undefined':
      case 'Date':
      case 'number':
      case 'URL':
        return Kind.Other
      case 'bigint':
        return Kind.BigInt
      case 'set':
        return Kind.Set
      case 'map':
        return Kind.Map
      case 'regexp':
      case 'Error':
        if (!allowed.has(annotation)) refuseOptIn(annotation)
        return Kind.Other
    }
  } else if (Array.isArray(annotation) && annotation.length === 2 && typeof annotation[1] === 'string') {
    const name = annotation[1]
    switch (annotation[0]) {
      case 'typed-array':
        if (TYPED_ARRAYS.has(name)) return Kind.ArrayBacked
        break
      case 'custom':
        if (WIRECALL_CUSTOM.has(name)) return Kind.ArrayBacked
        if (!allowed.has('custom')) refuseOptIn('custom')
        return Kind.Other
      case 'class':
      case 'symbol':
        if (!allowed.has(annotation[0])) refuseOptIn(annotation[0])
        return Kind.Other
    }
  }
  return refuse('unknown annotation')
}

function refuseOptIn(annotation: string): never {
  refuse(`annotation "${annotation}" is not accepted (see payloadLimits.allowAnnotations)`)
}

/** The JSON a revived value starts from must have the shape its reviver expects. */
function checkShape(kind: Kind, json: unknown, maxDigits: number): void {
  if (kind === Kind.BigInt) {
    // superjson sends `bigint.toString()`; BigInt() of anything else (an
    // array is joined, a hex string is parsed) could dodge the digit bound.
    if (typeof json !== 'string') refuse('bigint is not a string')
    const signed = json.charCodeAt(0) === 45 /* - */ || json.charCodeAt(0) === 43 /* + */
    const digits = json.length - (signed ? 1 : 0)
    if (digits > maxDigits) refuse(`bigint longer than ${maxDigits} digits`)
    if (digits === 0) refuse('bigint is not a decimal string')
    for (let i = signed ? 1 : 0; i < json.length; i++) {
      const c = json.charCodeAt(i)
      if (c < 48 || c > 57) refuse('bigint is not a decimal string')
    }
  } else if (kind === Kind.ArrayBacked) {
    // `new Uint8Array(4294967296)` from a number allocates 4 GB.
    if (!Array.isArray(json)) refuse('typed array is not an array')
  }
}

// ---- referentialEqualities --------------------------------------------------

/**
 * superjson writes `{ path: [path, ...] }`, or `[[path, ...], { path: [path, ...] }?]`
 * when the root itself is referenced. Counted before anything is parsed, and
 * given up on as soon as the count passes the bound.
 */
function countReferencePaths(references: unknown, max: number): void {
  let count = 0
  const add = (n: number) => {
    count += n
    if (count > max) refuse(`more than ${max} reference paths`)
  }
  let table: unknown = references
  if (Array.isArray(references)) {
    if (references.length !== 1 && references.length !== 2) refuse('malformed referentialEqualities')
    const root: unknown = references[0]
    if (!Array.isArray(root)) refuse('malformed referentialEqualities')
    add(root.length)
    table = references.length === 2 ? references[1] : {}
  }
  if (!isObject(table)) refuse('malformed referentialEqualities')
  for (const key in table) {
    if (!hasOwn(table, key)) continue
    const paths = table[key]
    if (!Array.isArray(paths)) refuse('malformed referentialEqualities')
    add(1 + paths.length)
  }
}

function checkReferencePaths(references: unknown, check: MetaCheck): void {
  const budget = { steps: check.maxReferencePaths * COLLECTION_STEPS_PER_PATH }
  let table = references as Record<string, unknown[]>
  if (Array.isArray(references)) {
    for (const path of references[0] as unknown[]) checkReferencePath(path, check, budget)
    table = (references.length === 2 ? references[1] : {}) as Record<string, unknown[]>
  }
  for (const key in table) {
    if (!hasOwn(table, key)) continue
    checkReferencePath(key, check, budget)
    for (const path of table[key]!) checkReferencePath(path, check, budget)
  }
}

/**
 * A reference path must lead to a value of `json`. It is followed as
 * superjson's `getDeep`/`setDeep` follow it after the values are revived:
 * through a Set by position, through a Map by row and then `0` (key) or `1`
 * (value); those positional steps are what the budget pays for.
 */
function checkReferencePath(path: unknown, check: MetaCheck, budget: { steps: number }): void {
  if (typeof path !== 'string') refuse('malformed referentialEqualities')
  const segments = parsePath(path, check.legacyPaths, check.maxDepth)
  let json = check.json
  let node: PathNode | undefined = check.root
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    if (node?.kind === Kind.Set || node?.kind === Kind.Map) {
      const index = arrayIndex(segment)
      if (index < 0) refuse('reference path does not match the payload')
      budget.steps -= index + 1
      if (budget.steps < 0) refuse('reference paths reach too far into Sets and Maps')
      if (node.kind === Kind.Map) {
        // Row, then key or value: superjson consumes both segments at once.
        const side = segments[i + 1]
        if (side !== '0' && side !== '1') refuse('reference path does not match the payload')
        json = child(child(json, segment), side)
        node = node.children?.get(segment)?.children?.get(side)
        i++
        if (json === MISSING) refuse('reference path does not match the payload')
        continue
      }
    }
    json = child(json, segment)
    if (json === MISSING) refuse('reference path does not match the payload')
    node = node?.children?.get(segment)
  }
}

// ---- paths -----------------------------------------------------------------

const MISSING: unique symbol = /* @__PURE__ */ Symbol('missing')

/** `parent[segment]` for an own key of an object or a canonical index of an array; MISSING otherwise. */
function child(parent: unknown, segment: string): unknown {
  if (Array.isArray(parent)) {
    const index = arrayIndex(segment)
    return index >= 0 && index < parent.length ? (parent[index] as unknown) : MISSING
  }
  if (isObject(parent)) return hasOwn(parent, segment) ? parent[segment] : MISSING
  return MISSING
}

/** `segment` as an array index when it is one written as superjson writes it (`0`, `17`), else -1. */
function arrayIndex(segment: string): number {
  const length = segment.length
  if (length === 0 || length > 10 || (length > 1 && segment.charCodeAt(0) === 48)) return -1
  let index = 0
  for (let i = 0; i < length; i++) {
    const c = segment.charCodeAt(i)
    if (c < 48 || c > 57) return -1
    index = index * 10 + (c - 48)
  }
  return index < 4_294_967_295 ? index : -1
}

function pathNode(parent: PathNode, segment: string): PathNode {
  parent.children ??= new Map()
  let node = parent.children.get(segment)
  if (node === undefined) {
    node = {}
    parent.children.set(segment, node)
  }
  return node
}

/**
 * superjson's `parsePath`: segments joined by `.`, with `\.` for a dot and
 * `\\` for a backslash (any other escape is an error); legacy paths (meta
 * without `v`) know only `\.`. Refuses forbidden segments and more than
 * `maxSegments` of them.
 */
function parsePath(path: string, legacy: boolean, maxSegments: number): string[] {
  const segments: string[] = []
  let segment = ''
  const end = (next: string) => {
    if (FORBIDDEN_SEGMENTS.has(next)) refuse(`path segment "${next}" is not allowed`)
    if (segments.push(next) > maxSegments) refuse(`path deeper than the depth limit`)
  }
  let start = 0
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if (c === 46 /* . */) {
      end(segment + path.slice(start, i))
      segment = ''
      start = i + 1
    } else if (c === 92 /* \ */) {
      const next = path.charCodeAt(i + 1)
      if (next === 46 || (!legacy && next === 92)) {
        segment += path.slice(start, i) + path.charAt(i + 1)
        start = i + 2
        i++
      } else if (!legacy) {
        refuse('malformed path')
      }
    }
  }
  end(segment + path.slice(start))
  return segments
}
