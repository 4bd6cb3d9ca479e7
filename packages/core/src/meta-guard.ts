import { MISSING, arrayIndex, child, parsePath, pathNode, type PathNode } from './meta-paths'
import { hasOwn, isObject, refuse } from './payload-refusal'

/**
 * The checks of superjson's `meta` (`values` and `referentialEqualities`):
 * every annotation is one wirecall accepts, lines up with the JSON value it
 * revives, and revives it from a shape that cannot cost more than the
 * bounds; every reference path leads somewhere. Mirrors what superjson
 * would do, so nothing it walks was not walked here first.
 */

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

/** Steps into Sets and Maps allowed per allowed reference path (see {@link PayloadLimits.maxReferencePaths}). */
const COLLECTION_STEPS_PER_PATH = 1_000

/** The bounds the meta checks apply, resolved against the defaults by `checkPayload`. */
export interface MetaLimits {
  maxDepth: number
  maxBigIntDigits: number
  maxReferencePaths: number
  allowAnnotations: readonly string[]
}

/** Checks superjson's `meta` against `json` and the bounds, before superjson walks either. */
export function checkMeta(json: unknown, meta: unknown, limits: MetaLimits): void {
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
    maxDepth: limits.maxDepth,
    maxBigIntDigits: limits.maxBigIntDigits,
    maxReferencePaths: limits.maxReferencePaths,
    allowed: new Set<string>(limits.allowAnnotations),
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

