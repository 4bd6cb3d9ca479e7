import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { JsonSchema, ProcedureSchemas, SchemaEntry, SchemaSet } from './schema-types'

export const DIALECT_2020_12 = 'https://json-schema.org/draft/2020-12/schema'
const INDEX = 'index.json'
const INDEX_FORMAT = 'wirecall-schema-index/1'

/** The file of one side: `post.add.input.json`, `post.add.output.json`, `ticks.event.json`. */
export function schemaFileName(path: string, side: 'input' | 'output' | 'event'): string {
  // Keys are the user's: anything outside a safe file name is percent-encoded (never a `/`).
  return `${encodeURIComponent(path)}.${side}.json`
}

/** A side's standalone file: `$schema` 2020-12, an `$id` (its file name, resolved against where the file is served), then the schema. */
export function schemaFile(entry: SchemaEntry, file: string): JsonSchema {
  return { $schema: DIALECT_2020_12, $id: file, ...entry.schema }
}

const outputSide = (p: ProcedureSchemas): 'output' | 'event' => (p.kind === 'subscription' ? 'event' : 'output')

/** How `index.json` records where a side came from: the set's source, or `remote` for a schema read from a server. */
export type SourceLabel = (entry: SchemaEntry) => { source: string; library?: string }

const ownSource: SourceLabel = (entry) => ({ source: entry.source, ...(entry.library !== undefined && { library: entry.library }) })

/**
 * `index.json`: every procedure by path (sorted), with its kind, whether it
 * is idempotent (and can resync), and each side's file and source.
 */
export function schemaIndex(set: SchemaSet, label: SourceLabel = ownSource): JsonSchema {
  const procedures: Record<string, unknown> = {}
  for (const p of [...set.procedures].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const out = outputSide(p)
    procedures[p.path] = {
      kind: p.kind,
      idempotent: p.idempotent,
      ...(p.resync === true && { resync: true }),
      input: { file: schemaFileName(p.path, 'input'), ...label(p.input) },
      [out]: { file: schemaFileName(p.path, out), ...label(p.output) },
    }
  }
  return { format: INDEX_FORMAT, protocol: 'wirecall.v1', procedures }
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`

/** The files a previous run wrote into `dir`, as its `index.json` lists them. */
async function previousFiles(dir: string): Promise<string[]> {
  let index: unknown
  try {
    index = JSON.parse(await readFile(join(dir, INDEX), 'utf8'))
  } catch {
    return []
  }
  const procedures = (index as { format?: unknown; procedures?: unknown } | null)?.procedures
  if ((index as { format?: unknown }).format !== INDEX_FORMAT || typeof procedures !== 'object' || procedures === null) return []
  const files: string[] = []
  for (const entry of Object.values(procedures)) {
    for (const side of ['input', 'output', 'event']) {
      const file = (entry as Record<string, { file?: unknown } | undefined>)[side]?.file
      // Only plain names this writer makes: never a path out of `dir`.
      if (typeof file === 'string' && /^[^/\\]+\.(input|output|event)\.json$/.test(file)) files.push(file)
    }
  }
  return files
}

/**
 * Writes one file per side and `index.json` into `dir` (created if needed),
 * and removes the files of procedures a previous run wrote that are gone.
 * Resolves to the names written.
 */
export async function writeSchemaFiles(set: SchemaSet, dir: string, label: SourceLabel = ownSource): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const stale = new Set(await previousFiles(dir))
  const written: string[] = []
  for (const p of set.procedures) {
    const sides: [string, SchemaEntry][] = [
      [schemaFileName(p.path, 'input'), p.input],
      [schemaFileName(p.path, outputSide(p)), p.output],
    ]
    for (const [file, entry] of sides) {
      await writeFile(join(dir, file), json(schemaFile(entry, file)))
      written.push(file)
      stale.delete(file)
    }
  }
  for (const file of stale) await rm(join(dir, file), { force: true })
  await writeFile(join(dir, INDEX), json(schemaIndex(set, label)))
  written.push(INDEX)
  return written
}
