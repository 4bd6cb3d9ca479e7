import type { JsonSchema } from '../schema/schema-types'
import { isSchemaNode, type SchemaNode } from './schema-keywords'

/**
 * The schema a local `$ref` (`#`, `#/$defs/Post`, any JSON pointer into the
 * document) points at inside `root`; `undefined` for a remote reference or
 * a pointer to nothing. The generator writes only local references.
 */
export function resolveRef(root: JsonSchema, ref: string): SchemaNode | undefined {
  if (!ref.startsWith('#')) return undefined
  const pointer = decodeURIComponent(ref.slice(1))
  if (pointer === '') return root
  if (!pointer.startsWith('/')) return undefined
  let node: unknown = root
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, token)) return undefined
    node = (node as Record<string, unknown>)[token]
  }
  return isSchemaNode(node) ? node : undefined
}

/** The `$defs` (or draft-07 `definitions`) entry a reference names, as `['$defs', 'Post']`; `undefined` for any other pointer. */
export function refDefinition(ref: string): readonly [string, string] | undefined {
  const match = /^#\/(\$defs|definitions)\/([^/]+)/.exec(ref)
  if (match === null) return undefined
  return [match[1]!, decodeURIComponent(match[2]!).replaceAll('~1', '/').replaceAll('~0', '~')]
}
