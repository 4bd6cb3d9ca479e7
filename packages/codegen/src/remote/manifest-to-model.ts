import type { ApiManifest } from '../manifest/manifest-types'
import type { ApiModel, ProcedureModel } from '../model/api-model'
import type { TypeModel } from '../model/type-model'
import type { JsonSchema } from '../schema/schema-types'
import { AliasNames, toIdentifier } from '../types/alias-names'
import { definitionNameOf, schemaToType, union, type RefScope } from './schema-to-type'

/**
 * The API model of a manifest read from a server: each procedure's JSON
 * Schemas read back as types (see `schemaToType`), so that
 * `generate types --url` prints the same kind of `api.d.ts` as
 * `--router`. Each schema is standalone with its own `$defs`; a definition
 * that two schemas share under one name and one content becomes one alias,
 * and two different ones of the same name get distinct names (`Post`,
 * `Post2`). A subscription that can resync gets the resync in its events,
 * as the router's own type has it.
 */
export function manifestToApiModel(manifest: ApiManifest): ApiModel {
  const aliases = new AliasTable()
  const procedures: ProcedureModel[] = []
  for (const path of Object.keys(manifest.procedures)) {
    const procedure = manifest.procedures[path]!
    const input = aliases.read(procedure.input, `${path}.input`)
    const events = aliases.read(procedure.output, `${path}.output`)
    procedures.push({
      path,
      kind: procedure.kind,
      idempotent: procedure.idempotent === true,
      input,
      output: procedure.kind === 'subscription' && procedure.resync === true ? union([events, { kind: 'resync' }]) : events,
    })
  }
  return { procedures, aliases: aliases.models }
}

/** The aliases of every schema read so far, shared across schemas when they define the same thing. */
class AliasTable {
  readonly models = new Map<string, TypeModel>()
  private readonly names = new AliasNames()
  /** Alias name by what a definition is: its name and its content, with the definitions it reaches. */
  private readonly byIdentity = new Map<string, string>()

  /** The type of one standalone schema; `where` names a recursive root (`post.list.output` → `PostListOutput`). */
  read(schema: JsonSchema, where: string): TypeModel {
    const definitions = definitionsOf(schema)
    const local = new Map<string, string>()
    let root: string | undefined
    const pending: (() => void)[] = []
    const scope: RefScope = {
      aliasOf: (name) => {
        const definition = definitions[name]
        if (definition === undefined) return undefined
        const known = local.get(name)
        if (known !== undefined) return known
        const identity = `${name}\u0000${canonicalJson(reachable(definitions, name))}`
        const shared = this.byIdentity.get(identity)
        const alias = shared ?? this.names.claim(name)
        local.set(name, alias)
        if (shared === undefined) {
          this.byIdentity.set(identity, alias)
          // Read after the name is set, so a definition that refers to itself finds its own alias.
          pending.push(() => this.models.set(alias, schemaToType(definition, scope)))
        }
        return alias
      },
      rootAlias: () => (root ??= this.names.claim(pascalCase(where))),
    }
    const type = schemaToType(schema, scope)
    for (let next = pending.shift(); next !== undefined; next = pending.shift()) next()
    if (root === undefined) return type
    this.models.set(root, type)
    return { kind: 'ref', name: root }
  }
}

/** `$defs` (2020-12) or `definitions` (draft-07), as a null-prototype table: names come from the server. */
function definitionsOf(schema: JsonSchema): { readonly [name: string]: unknown } {
  const table: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  for (const key of ['definitions', '$defs']) {
    const defs = schema[key]
    if (typeof defs === 'object' && defs !== null && !Array.isArray(defs)) Object.assign(table, defs)
  }
  return table
}

/** A definition with every definition it refers to, directly or not: two schemas share an alias only if all of this is equal. */
function reachable(definitions: { readonly [name: string]: unknown }, start: string): Record<string, unknown> {
  const found: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  const queue = [start]
  for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
    if (Object.hasOwn(found, name) || definitions[name] === undefined) continue
    found[name] = definitions[name]
    for (const ref of refsIn(definitions[name])) queue.push(ref)
  }
  return found
}

/** The definition names of every local `$ref` in a schema; a loop rather than recursion, since the schema comes from a server. */
function refsIn(schema: unknown): string[] {
  const found: string[] = []
  const stack = [schema]
  for (let value = stack.pop(); value !== undefined || stack.length > 0; value = stack.pop()) {
    if (typeof value !== 'object' || value === null) continue
    for (const [key, inner] of Object.entries(value)) {
      const name = key === '$ref' && typeof inner === 'string' ? definitionNameOf(inner) : undefined
      if (name !== undefined) found.push(name)
      else stack.push(inner)
    }
  }
  return found
}

/**
 * JSON with object keys sorted, so that key order does not tell two equal
 * definitions apart. One nested past the stack gets an identity of its
 * own: it is then shared with nothing.
 */
function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === 'object' && inner !== null && !Array.isArray(inner)
        ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : inner,
    )
  } catch {
    return `unshared:${++unshared}`
  }
}
let unshared = 0

function pascalCase(text: string): string {
  return toIdentifier(
    text
      .split(/[^A-Za-z0-9$]+/)
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join(''),
  )
}
