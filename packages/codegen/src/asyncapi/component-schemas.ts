import type { JsonSchema } from '../schema/schema-types'
import { isSchemaObject, rewriteRefs, visitSchema } from '../schema/schema-walk'
import { toDraft07 } from './draft07'

/*
 * The named types of every procedure's schemas, gathered in the document's
 * `components.schemas`. An AsyncAPI parser resolves every `$ref` against the
 * whole document, so a payload's `#/$defs/User` cannot stay local: each
 * definition moves to `#/components/schemas/<name>` and the references
 * follow it. Two procedures' definitions of the same name share one entry
 * when they are equal, and the later one is renamed (`User_2`) when not.
 */

const PREFIX = '#/components/schemas/'
/** What AsyncAPI allows as a component key. */
const KEY = /^[A-Za-z0-9.\-_]+$/

/** `name` as a component key: characters outside `[A-Za-z0-9._-]` become `_`. */
export function componentKey(name: string): string {
  const key = name.replace(/[^A-Za-z0-9.\-_]/g, '_')
  return KEY.test(key) ? key : '_'
}

/** The pointer segments of a local reference (`#/a/b~1c` → `['a', 'b/c']`); undefined for another document's. */
function localSegments(ref: string): string[] | undefined {
  if (ref === '#') return []
  if (!ref.startsWith('#/')) return undefined
  return ref
    .slice(2)
    .split('/')
    .map((segment) => decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** The subschema at `segments` of `schema`, if any. */
function resolve(schema: unknown, segments: readonly string[]): JsonSchema | undefined {
  let node: unknown = schema
  for (const segment of segments) {
    if (Array.isArray(node)) node = node[Number(segment)]
    else if (isSchemaObject(node)) node = node[segment]
    else return undefined
  }
  return isSchemaObject(node) ? node : undefined
}

/** The document's `components.schemas`, built up one standalone schema at a time. */
export class ComponentSchemas {
  private readonly entries = new Map<string, JsonSchema>()

  /**
   * Takes a standalone 2020-12 schema (its named types under `$defs`) and
   * returns it as a draft-07 schema whose references point into
   * `#/components/schemas/`, where its definitions now are. A reference to
   * the root or to another place inside it (not a definition) makes that
   * target a component too, named after `baseName`.
   */
  add(schema: JsonSchema, baseName: string): JsonSchema {
    const { $defs, definitions, ...root } = schema
    const defs: Record<string, JsonSchema> = {}
    for (const table of [definitions, $defs]) {
      if (!isSchemaObject(table)) continue
      for (const [name, def] of Object.entries(table)) if (isSchemaObject(def)) defs[name] = def
    }

    // Every reference target, by its pointer: definitions by name, anything else by its place in `schema`.
    const targets = new Map<string, { schema: JsonSchema; wanted: string }>()
    const collect = (node: JsonSchema): void => {
      if (typeof node.$ref !== 'string') return
      const segments = localSegments(node.$ref)
      if (segments === undefined || targets.has(node.$ref)) return
      const isDef = segments.length === 2 && (segments[0] === '$defs' || segments[0] === 'definitions') && defs[segments[1]!] !== undefined
      const target = isDef ? defs[segments[1]!] : segments.length === 0 ? root : resolve(schema, segments)
      if (target === undefined) return
      targets.set(node.$ref, { schema: target, wanted: isDef ? segments[1]! : segments.length === 0 ? baseName : `${baseName}.${segments.join('.')}` })
    }
    for (const part of [root, ...Object.values(defs)]) visitSchema(part, collect)
    // A definition nobody references still describes a type of the API: it is kept.
    for (const name of Object.keys(defs)) {
      const ref = `#/$defs/${encodeURIComponent(name.replace(/~/g, '~0').replace(/\//g, '~1'))}`
      if (![...targets.values()].some((t) => t.schema === defs[name])) targets.set(ref, { schema: defs[name]!, wanted: name })
    }

    // Names: each target's wanted name unless the document has it for another schema; retried until stable, since a rename changes the schemas that refer to it.
    const names = new Map<string, string>()
    const taken = new Set<string>()
    for (const [ref, { wanted }] of targets) {
      let name = componentKey(wanted)
      for (let n = 2; taken.has(name); n++) name = `${componentKey(wanted)}_${n}`
      taken.add(name)
      names.set(ref, name)
    }
    const rewrite = (s: JsonSchema): JsonSchema =>
      toDraft07(rewriteRefs(s, (ref) => (names.has(ref) ? `${PREFIX}${names.get(ref)!}` : ref)))
    for (let round = 0; round <= targets.size; round++) {
      let renamed = false
      for (const [ref, target] of targets) {
        const name = names.get(ref)!
        const existing = this.entries.get(name)
        if (existing === undefined || sameSchema(existing, rewrite(target.schema))) continue
        let free = name
        for (let n = 2; this.entries.has(free) || taken.has(free); n++) free = `${componentKey(target.wanted)}_${n}`
        taken.add(free)
        names.set(ref, free)
        renamed = true
      }
      if (!renamed) break
    }
    for (const [ref, target] of targets) this.entries.set(names.get(ref)!, rewrite(target.schema))
    return rewrite(root)
  }

  /** Adds a schema under a fixed name (the document's own, such as the envelopes); the name must be free. */
  set(name: string, schema: JsonSchema): string {
    if (this.entries.has(name)) throw new TypeError(`components.schemas already has ${name}`)
    this.entries.set(name, schema)
    return `${PREFIX}${name}`
  }

  /** True when `name` is taken. */
  has(name: string): boolean {
    return this.entries.has(name)
  }

  /** The entries, sorted by name so that the document does not depend on which procedure met a type first. */
  toObject(): Record<string, JsonSchema> {
    return Object.fromEntries([...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }
}

function sameSchema(a: JsonSchema, b: JsonSchema): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
