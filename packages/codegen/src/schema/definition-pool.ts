import type { JsonSchema } from './schema-types'
import { isSchemaObject, rewriteRefs, visitSchema } from './schema-walk'

const decodeSegment = (segment: string): string => decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~')
const encodeSegment = (name: string): string => encodeURIComponent(name.replace(/~/g, '~0').replace(/\//g, '~1'))

/** `#/$defs/Name`, for a definition of the schema being built. */
export const defRef = (name: string): string => `#/$defs/${encodeSegment(name)}`

/**
 * The `$defs` of one standalone schema being put together from several
 * converter outputs (the schemas of several `.input()` validators, a Map's
 * key and value converted on their own). Each output's own definitions join
 * the pool, renamed when another output already used the name for
 * something else, and its references are rewritten to match.
 */
export class DefinitionPool {
  private readonly defs = new Map<string, JsonSchema>()

  /** Adds a definition under `name` (or a free variant of it) and returns the name used. */
  define(name: string, schema: JsonSchema): string {
    const existing = this.defs.get(name)
    if (existing !== undefined && JSON.stringify(existing) === JSON.stringify(schema)) return name
    let free = name
    for (let n = 2; this.defs.has(free); n++) free = `${name}${n}`
    this.defs.set(free, schema)
    return free
  }

  /** Takes a free name like `name` for a definition written later with {@link replace}. */
  reserve(name: string): string {
    let free = name
    for (let n = 2; this.defs.has(free); n++) free = `${name}${n}`
    this.defs.set(free, {})
    return free
  }

  /** Sets the schema of a name {@link define} reserved (a recursive type is reserved before it is written). */
  replace(name: string, schema: JsonSchema): void {
    this.defs.set(name, schema)
  }

  has(name: string): boolean {
    return this.defs.has(name)
  }

  /**
   * Takes in a converter's standalone schema: drops `$schema`/`$id`, moves
   * its `$defs` (or draft-07 `definitions`) into the pool, and turns a
   * reference to the root (`$ref: '#'`, a recursive root) into one to a
   * definition, so that the root can sit inside another schema. Returns
   * the root, with references rewritten.
   */
  absorb(schema: JsonSchema): JsonSchema {
    const { $schema: _dialect, $id: _id, $defs, definitions, ...root } = schema
    const incoming: Record<string, JsonSchema> = {}
    for (const table of [definitions, $defs]) {
      if (!isSchemaObject(table)) continue
      for (const [name, def] of Object.entries(table)) if (isSchemaObject(def)) incoming[name] = def
    }
    let selfReferenced = false
    for (const part of [root, ...Object.values(incoming)]) visitSchema(part, (node) => (selfReferenced ||= node.$ref === '#'))
    const renamed = new Map<string, string>()
    // Names are reserved before any definition is rewritten, so that definitions referring to each other agree.
    for (const name of Object.keys(incoming)) {
      let free = name
      for (let n = 2; this.defs.has(free) || [...renamed.values()].includes(free); n++) free = `${name}${n}`
      renamed.set(name, free)
    }
    let selfName: string | undefined
    if (selfReferenced) {
      selfName = 'Root'
      for (let n = 2; this.defs.has(selfName) || [...renamed.values()].includes(selfName); n++) selfName = `Root${n}`
    }
    const rewrite = (ref: string): string => {
      if (ref === '#' && selfName !== undefined) return defRef(selfName)
      const match = /^#\/(?:\$defs|definitions)\/([^/]+)(.*)$/.exec(ref)
      if (match === null) return ref
      const name = renamed.get(decodeSegment(match[1]!))
      return name === undefined ? ref : defRef(name) + match[2]!
    }
    for (const [name, def] of Object.entries(incoming)) this.defs.set(renamed.get(name)!, rewriteRefs(def, rewrite))
    const out = rewriteRefs(root, rewrite)
    if (selfName === undefined) return out
    this.defs.set(selfName, out)
    return { $ref: defRef(selfName) }
  }

  /** The standalone schema: `root` with the pool's definitions (sorted by name) under `$defs`. */
  finish(root: JsonSchema): JsonSchema {
    if (this.defs.size === 0) return root
    const defs: Record<string, JsonSchema> = {}
    for (const name of [...this.defs.keys()].sort()) defs[name] = this.defs.get(name)!
    return { ...root, $defs: defs }
  }
}
