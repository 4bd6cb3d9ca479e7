import type { JsonSchema } from '../schema/schema-types'
import { canonicalJson, sortKeysDeep } from './canonical-json'
import { refDefinition } from './resolve-ref'
import { DOC_KEYWORDS, forEachSubschema, isSchemaObject, mapSubschemas, type SchemaNode } from './schema-keywords'

/** Options of {@link normalizeSchema}. */
export interface NormalizeOptions {
  /** Keep `description`, `title`, `examples` and `$comment`. @default false: they are documentation, not contract. */
  readonly keepDocs?: boolean | undefined
}

/**
 * A schema in the manifest's canonical form, so that equal APIs give equal
 * bytes: documentation keywords dropped (unless `keepDocs`), `$schema`/`$id`
 * dropped from the root, `$defs` that nothing reachable refers to dropped,
 * `required`/`type`/`enum` in a fixed order (they are sets), every object's
 * keys sorted. Accepting the same values before and after is the point: no
 * keyword that constrains a value is touched.
 */
export function normalizeSchema(schema: JsonSchema, options: NormalizeOptions = {}): JsonSchema {
  const keepDocs = options.keepDocs === true
  const clean = (node: SchemaNode): SchemaNode => {
    if (!isSchemaObject(node)) return node
    const mapped = mapSubschemas(node, clean, (keyword) => keepDocs || !DOC_KEYWORDS.has(keyword))
    return sortSets(mapped)
  }
  const { $schema: _schema, $id: _id, ...rest } = schema
  const cleaned = clean(rest) as JsonSchema
  return sortKeysDeep(dropUnreferencedDefinitions(cleaned)) as JsonSchema
}

function sortSets(schema: JsonSchema): JsonSchema {
  const out: Record<string, unknown> = { ...schema }
  if (Array.isArray(out.required)) out.required = [...new Set(out.required as unknown[])].sort()
  if (Array.isArray(out.type)) out.type = [...new Set(out.type as unknown[])].sort()
  if (Array.isArray(out.enum)) {
    const byText = new Map((out.enum as unknown[]).map((value) => [canonicalJson(value), value]))
    out.enum = [...byText.keys()].sort().map((text) => byText.get(text))
  }
  return out
}

/** Drops `$defs`/`definitions` entries that no reference reachable from the root names (following references through other entries). */
function dropUnreferencedDefinitions(root: JsonSchema): JsonSchema {
  const tables = ['$defs', 'definitions'] as const
  const used = new Set<string>()
  const pending: SchemaNode[] = []
  const scan = (node: SchemaNode, skipTables: boolean): void => {
    if (!isSchemaObject(node)) return
    if (typeof node.$ref === 'string') {
      const target = refDefinition(node.$ref)
      if (target !== undefined && !used.has(target.join('/'))) {
        used.add(target.join('/'))
        const table = root[target[0]]
        const entry = isSchemaObject(table) ? table[target[1]] : undefined
        if (typeof entry === 'boolean' || isSchemaObject(entry)) pending.push(entry)
      }
    }
    const body = skipTables ? Object.fromEntries(Object.entries(node).filter(([keyword]) => !(tables as readonly string[]).includes(keyword))) : node
    forEachSubschema(body, (child) => scan(child, false))
  }
  scan(root, true)
  while (pending.length > 0) scan(pending.pop()!, false)
  const out: Record<string, unknown> = { ...root }
  for (const table of tables) {
    const entries = root[table]
    if (!isSchemaObject(entries)) continue
    const kept = Object.fromEntries(Object.entries(entries).filter(([name]) => used.has(`${table}/${name}`)))
    if (Object.keys(kept).length === 0) delete out[table]
    else out[table] = kept
  }
  return out
}
