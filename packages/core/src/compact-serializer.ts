import { isJsonPlain } from './json-plain'
import type { Serializer } from './serializer'

/*
 * superjson's wire format (`json` plus `meta: { values?, referentialEqualities?, v: 1 }`)
 * without superjson: a codec small enough for the browser bundle, for the
 * types wirecall documents.
 *
 * Encoding retraces superjson's walk (same annotations, same paths, same
 * order, same reference table), so for every value superjson can write it
 * writes byte for byte what superjson with wirecall's float-array customs
 * writes, and a superjson peer reads it.
 * Values superjson has no transform for (class instances, functions,
 * symbols, an invalid Date, a DataView) are left in `json` as they are, for
 * JSON.stringify, as superjson leaves them; a BigInt64Array is written as
 * superjson writes it (bigints, which JSON.stringify refuses).
 *
 * Decoding reads what superjson writes for those types; any other annotation
 * (a registered class, symbol or other custom transform, a typo) throws,
 * naming it. Where it differs from superjson, on purpose:
 * - a path follows own properties only (superjson follows inherited ones, and
 *   writes through paths that lead nowhere); `__proto__`, `constructor` and
 *   `prototype` segments are refused, as superjson refuses them;
 * - a `__proto__`, `constructor` or `prototype` key is data: encoding writes
 *   it (superjson refuses the whole value) unless an annotation or a
 *   reference needs a path through it, and decoding keeps an own `__proto__`
 *   key of `json` as an own data property (superjson's copy drops it), as
 *   it is kept when there is no `meta`. No prototype is ever set or changed;
 * - a typed array must come from a JSON array (superjson hands a number to the
 *   constructor: `new Uint8Array(1e9)`); a `number` annotation and a float
 *   array element accept only "NaN", "Infinity", "-Infinity", "-0" (and numbers);
 * - a revived Error gets no `stack` from the payload (superjson takes the
 *   peer's; it never sends one itself);
 * - references are restored where superjson loses them: through an Error
 *   (`error.cause` seen elsewhere too); into a Set or Map whose JSON held two
 *   nulls (two cycles: `new Set()` keeps one, and superjson's positions
 *   shift); after a Set element or Map key was replaced (superjson moves it
 *   to the end, shifting positions again, and deletes a NaN key outright);
 *   into a value met first on a path longer than its shortest one (superjson
 *   fixes the cycles inside the copy it then throws away). Set and Map
 *   entries keep their order;
 * - `json` more than MAX_DEPTH levels deep is refused instead of overflowing
 *   the stack (every recursion in decoding is bounded by the depth of `json`);
 * - paths are always read as superjson 2 writes them (`meta.v: 1`, `\` and
 *   `\.` escaped); a meta without `v` (an older superjson) whose keys contain
 *   a backslash is read differently, or refused.
 */

/** Deepest `json` decoding accepts (with `meta`; without, `json` is not walked). */
const MAX_DEPTH = 1_000

type Any = any
/** Encoding of one value: its JSON, and its annotations (a `[annotation, children?]` node or a `{ path: node }` object). */
type Encoded = [json: unknown, annotations?: unknown]
/** What encoding knows of a value it tracks: the paths it was met at, and what it encoded to. */
type Seen = [paths: string[][], result?: Encoded]
/** A position in a decoded value: what is there, and how to replace it. */
type Slot = [value: Any, put?: (value: unknown) => unknown]

const { isArray } = Array
const { defineProperty, entries, hasOwn } = Object

const fail = (why: string): never => {
  throw new Error('compactSerializer: ' + why)
}

/** superjson's plain object: prototype `Object.prototype` or `null`. */
const isPlain = (value: unknown): boolean => {
  const proto: unknown = value === Object(value) && Object.getPrototypeOf(value)
  return proto === null || proto === Object.prototype
}

/** Path segments superjson refuses to follow (and keys it refuses to write; we write them, but never a path through one). */
const FORBIDDEN = /^(__proto__|constructor|prototype)$/

/** NaN, ±Infinity and -0 as superjson's `number` and wirecall's float arrays write them ("NaN", "-0", ...); other numbers unchanged. */
const special = (n: number): number | string => (Object.is(n, -0) ? '-0' : isFinite(n) ? n : '' + n)

/** The inverse of {@link special}: a number, or one of its four strings; anything else throws. */
const unspecial = (x: Any): number => (special(+x) === x ? +x : fail('bad number'))

// ---- encode ------------------------------------------------------------------

/** Classes revived with `new Class(json)`, by annotation; their JSON is `toJSON()` (Date, URL) or their entries (Set, Map). */
const CLASSES: Record<string, Any> = { Date, URL, set: Set, map: Map }

/**
 * superjson's transform for `v`: `[annotation, json, walk json?]`, or nothing
 * when it has none. superjson tries its custom transforms, then typed arrays,
 * then the others, which no value can match two of.
 */
const transform = (v: Any): [unknown, unknown, unknown?] | false | undefined => {
  let json
  if (typeof v == 'number') return (json = special(v)) !== v && ['number', json]
  if (typeof v == 'bigint') return ['bigint', '' + v]
  if (v === undefined) return ['undefined', null]
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const Float = [Float32Array, Float64Array].find((F) => v instanceof F)
    return Float && (v as Any).some((x: number) => special(x) !== x)
      ? [['custom', 'wirecall.' + Float.name], Array.from(v as Any, special)]
      : [['typed-array', v.constructor.name], [...(v as Any)]]
  }
  if (v instanceof Error) return ['Error', { name: v.name, message: v.message, ...('cause' in v && { cause: v.cause }) }, 1]
  if (v instanceof RegExp) return ['regexp', '' + v]
  // An invalid Date's toJSON() is null: superjson has no transform for it.
  for (const name in CLASSES) if (v instanceof CLASSES[name]) return (json = v.toJSON ? v.toJSON() : [...v]) && [name, json, !v.toJSON]
}

const encode = (value: unknown): { json: unknown; meta?: unknown } => {
  /**
   * For each object (and NaN, bigint, function) met: the paths at which it was
   * met, in the order met, and what it encoded to (`[null]` while its own walk
   * is open, so that a cycle comes back as null).
   */
  const seen = new Map<unknown, Seen>()

  const walk = (v: Any, path: string[]): Encoded => {
    let entry: Seen | undefined
    // superjson tracks all but booleans, null, undefined, strings, symbols and numbers other than NaN.
    if (v === Object(v) || typeof v == 'bigint' || v !== v) {
      if ((entry = seen.get(v))) {
        entry[0].push(path)
        // Met before: the same JSON again, and the reference table says it is one value.
        if (entry[1]) return entry[1]
      } else seen.set(v, (entry = [[path]]))
    }
    const t = transform(v)
    let result: Encoded
    if (t ? !t[2] : !(isPlain(v) || isArray(v))) {
      // Not walked into. Without a transform (a class instance, a function, a symbol, an invalid
      // Date) it is left in the JSON as it is, for JSON.stringify, as superjson leaves it.
      result = t ? [t[1], [t[0]]] : [v]
    } else {
      entry![1] = [null]
      const source: Any = t ? t[1] : v
      const json: Any = isArray(source) ? [] : {}
      const inner: Record<string, unknown> = {}
      let annotated
      for (const [key, child] of entries(source)) {
        const segment = key.replace(/[\\.]/g, '\\$&')
        const [childJson, annotations] = walk(child, [...path, segment])
        // An own data property: assigning `__proto__` would set the prototype instead.
        if (key == '__proto__') defineProperty(json, key, { value: childJson, enumerable: true, writable: true, configurable: true })
        else json[key] = childJson
        if (!annotations) continue
        // No decoder follows a path through this key.
        if (FORBIDDEN.test(key)) fail('forbidden key ' + key)
        if (isArray(annotations)) inner[segment] = annotations
        else for (const [p, tree] of entries(annotations)) inner[segment + '.' + p] = tree
        annotated = 1
      }
      result = [json, annotated ? (t ? [t[0], inner] : inner) : t && [t[0]]]
    }
    if (entry) entry[1] = result
    return result
  }

  const [json, values]: Any = walk(value, [])
  // Each value met more than once: its shortest path (the first met among equals), then the others.
  let root: string[] | undefined
  let table: Record<string, string[]> | undefined
  for (const [paths] of seen.values()) {
    if (paths[1]) {
      for (const p of paths) for (const segment of p) if (FORBIDDEN.test(segment)) fail('forbidden key ' + segment)
      paths.sort((a, b) => a.length - b.length)
      const [first, ...others] = paths.map((p) => p.join('.'))
      if (paths[0]!.length) (table ||= {})[first!] = others
      else root = others
    }
  }
  const references = root ? (table ? [root, table] : [root]) : table
  return values || references
    ? { json, meta: { ...(values && { values }), ...(references && { referentialEqualities: references }), v: 1 } }
    : { json }
}

// ---- decode ------------------------------------------------------------------

/**
 * superjson's path: segments joined by `.`, with `\.` and `\\` escaped (a dot
 * after an even run of backslashes separates). Throws on anything else,
 * including a path that is not a string.
 */
const parsePath = (path: Any): string[] =>
  path
    .split(/\.(?<=(?:^|[^\\])(?:\\\\)*\.)/)
    .map((segment: string) => segment.replace(/\\(.?)/gs, (_, c: string) => (c == '.' || c == '\\' ? c : fail('bad path'))))

/** `o[key]` for an own property of an object (an array's index, not its length); throws otherwise. */
const own = (o: Any, key: Any): Any =>
  o === Object(o) && hasOwn(o, key) && !(isArray(o) && key == 'length') && !FORBIDDEN.test(key)
    ? o[key]
    : fail('bad path ' + key)

/**
 * The Sets and Maps of the value being decoded, each with the JSON array it
 * is filled from once decoding is done. Until then paths count positions in
 * that array: `new Set()` and `new Map()` would drop duplicates (two cycles
 * are both null in the JSON) and shift every later position, and replacing
 * an element inside a Set or Map would move it.
 */
let pending = new Map<Any, Any[]>()

/**
 * Follows a path as superjson does: through a Set by position, through a Map
 * by row then `0` (key) or `1` (value), through anything else by own
 * property. Gives the value there, and how to replace it.
 */
const at = (root: unknown, segments: string[]): Slot => {
  let slot: Slot = [root]
  for (let i = 0; i < segments.length; ) {
    const o = slot[0]
    const key = segments[i++]!
    // In a Map, the row (a `[key, value]` array), then its side.
    const [box, index] =
      o instanceof Map ? [own(pending.get(o), key), segments[i++]!] : [o instanceof Set ? pending.get(o) : o, key]
    slot = [own(box, index), (x) => (box[index] = x)]
  }
  return slot
}

/** Annotations revived by a function of their JSON (besides {@link CLASSES} and typed arrays). */
const REVIVE: Record<string, (v: Any) => unknown> = {
  undefined: () => {},
  bigint: BigInt,
  number: unspecial,
  regexp: (v) => new RegExp(...(v.match(/^\/(.*)\/(.*)$/).slice(1) as [string, string])),
  Error: (v) => Object.assign(new Error(v.message, { cause: v.cause }), { name: v.name, stack: undefined }),
}

/** One annotation applied to its JSON (whose own annotations are applied already). */
const revive = (annotation: Any, v: Any): unknown => {
  if (isArray(annotation)) {
    const [kind, name] = annotation
    const custom = kind == 'custom' && /^wirecall\.Float(32|64)Array$/.test(name)
    const Typed =
      (custom || (kind == 'typed-array' && /^(Int(8|16|32)|Uint(8|16|32|8Clamped)|Float(32|64))Array$/.test(name))) &&
      (globalThis as Any)[custom ? name.slice(9) : name]
    if (Typed) return isArray(v) ? Typed.from(v, custom ? unspecial : undefined) : fail('bad ' + name)
  } else {
    if (hasOwn(CLASSES, annotation)) {
      // A Set or Map is made (to check its JSON) and emptied, to be filled in the end.
      const made = new CLASSES[annotation](v)
      if (made.clear) made.clear(), pending.set(made, v)
      return made
    }
    if (hasOwn(REVIVE, annotation)) return REVIVE[annotation]!(v)
  }
  return fail('unsupported annotation ' + JSON.stringify(annotation))
}

/**
 * Applies an annotation tree to `v` as superjson does: the children first
 * (paths relative to `v`), then the node's own annotation. Each level steps
 * at least one level into `v`, so this recursion is no deeper than the copy.
 */
const apply = (v: unknown, tree: Any): unknown => {
  const node = isArray(tree)
  const children: unknown = node ? tree[1] : tree
  if (children) {
    for (const [path, subtree] of entries(children)) {
      const [child, put] = at(v, parsePath(path))
      put!(apply(child, subtree))
    }
  }
  return node ? revive(tree[0], v) : v
}

/**
 * A copy of the arrays and plain objects of `json`, so that the payload is
 * left as it came, at most MAX_DEPTH deep. `Object.fromEntries` defines
 * properties: an own `__proto__` key stays an own data property, as
 * `JSON.parse` made it, and sets no prototype.
 */
const copy = (v: Any, depth: number): Any =>
  depth > MAX_DEPTH
    ? fail('too deep')
    : isArray(v)
      ? v.map((x) => copy(x, depth + 1))
      : isPlain(v)
        ? Object.fromEntries(entries(v).map(([k, x]) => [k, copy(x, depth + 1)]))
        : v

const decode = (json: unknown, meta: Any): unknown => {
  pending = new Map()
  let root = copy(json, 0)
  const { values, referentialEqualities: references } = meta
  if (values) root = apply(root, values)
  // `{ path: [path, ...] }`, or `[[path, ...], { path: [path, ...] }?]` when the root itself is referenced.
  if (references) {
    const pairs: [from: string[], to: string[]][] = []
    for (const [path, others] of isArray(references)
      ? [[0, references[0]], ...entries(references[1] || {})]
      : entries<Any>(references)) {
      for (const other of others) pairs.push([path === 0 ? [] : parsePath(path), parsePath(other)])
    }
    // Shorter paths first (superjson goes value by value). A value is walked where it is met
    // first, which need not be its shortest path, so the fixes for the cycles inside it are on
    // paths through there; they must land in the copy that replaces it, not in the one replaced.
    pairs.sort((a, b) => a[1].length - b[1].length)
    for (const [from, to] of pairs) at(root, to)[1]!(at(root, from)[0])
  }
  for (const [o, list] of pending) for (const item of list) o instanceof Map ? o.set(item[0], item[1]) : o.add(item)
  return root
}

/**
 * superjson's format without superjson, for bundles that must stay small:
 * the counterpart of {@link superjsonSerializer} with the same JSON-plain fast
 * path and the same wire format (a peer using superjson reads and writes it).
 * Carries Date, Map, Set, BigInt, undefined, URL, RegExp, Error (name,
 * message, cause), NaN, ±Infinity, -0, typed arrays (NaN, ±Infinity and -0 in
 * float arrays included) and repeated and circular references. Decoding throws
 * on every other annotation (registered classes, symbols, other custom types).
 */
export const compactSerializer: Serializer = {
  metaFormat: 'superjson',
  serialize: (value) => (isJsonPlain(value) ? { json: value } : encode(value)),
  deserialize: ({ json, meta }) => (meta === undefined ? json : decode(json, meta)),
}
