import type { JsonSchema } from '../schema/schema-types'
import type { Finding } from './subset-findings'
import type { SchemaNode } from './schema-keywords'

/** What the keyword-family checks get from the subset check: the two documents, and the check itself for subschemas. */
export interface SubsetContext {
  /** The document `sub`'s references resolve in. */
  readonly subRoot: JsonSchema
  /** The document `sup`'s references resolve in. */
  readonly supRoot: JsonSchema
  /** `sub ⊆ sup` for two subschemas, at a location below the current one. */
  readonly check: (sub: SchemaNode, sup: SchemaNode, at: string) => Finding[]
}

/** `at` extended by a property name: `.title`, or `["a b"]` when it is not an identifier. */
export function atProperty(at: string, name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `${at}.${name}` : `${at}[${JSON.stringify(name)}]`
}
