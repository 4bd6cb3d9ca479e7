import type { JsonSchema } from '../schema/schema-types'
import { isSchemaObject, rewriteRefs, visitSchema } from '../schema/schema-walk'

const PREFIX = '#/components/schemas/'

/**
 * A schema of an AsyncAPI document (a message payload, an envelope) made
 * standalone: every `components.schemas` entry it reaches is copied under
 * `definitions` and its `$ref`s point there, so that a draft-07 validator
 * compiles it without the document. A reference into a component
 * (`#/components/schemas/Root/properties/a`) keeps its inner pointer.
 * Throws a `TypeError` for a reference to a component the document lacks.
 */
export function standaloneSchema(document: JsonSchema, schema: JsonSchema): JsonSchema {
  const components = (document.components as { schemas?: Record<string, JsonSchema> } | undefined)?.schemas ?? {}
  const reached = new Map<string, JsonSchema>()
  const pending: JsonSchema[] = [schema]
  const nameOf = (ref: string): string | undefined => (ref.startsWith(PREFIX) ? ref.slice(PREFIX.length).split('/')[0] : undefined)
  while (pending.length > 0) {
    visitSchema(pending.pop()!, (node) => {
      const name = typeof node.$ref === 'string' ? nameOf(node.$ref) : undefined
      if (name === undefined || reached.has(name)) return
      const target = components[name]
      if (!isSchemaObject(target)) throw new TypeError(`${String(node.$ref)} is not in the document's components.schemas`)
      reached.set(name, target)
      pending.push(target)
    })
  }
  const local = (s: JsonSchema) => rewriteRefs(s, (ref) => (ref.startsWith(PREFIX) ? `#/definitions/${ref.slice(PREFIX.length)}` : ref))
  if (reached.size === 0) return schema
  const definitions = Object.fromEntries([...reached].map(([name, target]) => [name, local(target)]))
  return { ...local(schema), definitions: { ...(isSchemaObject(schema.definitions) ? schema.definitions : {}), ...definitions } }
}
