import type { JsonSchema } from '../schema/schema-types'
import { isSchemaObject, mapSchema } from '../schema/schema-walk'

/*
 * 2020-12 → draft-07, keyword by keyword, for the schemas the AsyncAPI
 * document embeds (AsyncAPI 3 lists draft-07, not 2020-12). Each node is
 * converted after its children (mapSchema walks innermost first). References
 * are left alone here: component-schemas.ts rewrites them.
 */

/** Keywords that only annotate: beside a `$ref` they change nothing, so a draft-07 reader may ignore them. */
const ANNOTATIONS = new Set(['$ref', 'title', 'description', 'default', 'examples', '$comment', 'deprecated', 'readOnly', 'writeOnly'])

/** Keywords 2020-12 has and draft-07 cannot say: dropped (the schema gets looser, never stricter). */
const UNSAYABLE = ['$anchor', '$dynamicAnchor', '$dynamicRef', '$vocabulary', 'minContains', 'maxContains', 'contentSchema']

const COMPOSITION = ['allOf', 'anyOf', 'oneOf', 'if', '$ref']

/** One node (its children already converted) in draft-07 keywords. */
function convertNode(node: JsonSchema): JsonSchema {
  const out: Record<string, unknown> = { ...node }
  delete out.$schema
  delete out.$id
  for (const key of UNSAYABLE) delete out[key]

  // Tuples: 2020-12 `prefixItems` + `items` (the rest) is draft-07 `items` (an array) + `additionalItems`.
  if (Array.isArray(out.prefixItems)) {
    const rest = out.items
    out.items = out.prefixItems
    delete out.prefixItems
    if (rest !== undefined) out.additionalItems = rest
  }

  if (isSchemaObject(out.dependentRequired) || isSchemaObject(out.dependentSchemas)) {
    out.dependencies = { ...(isSchemaObject(out.dependencies) ? out.dependencies : {}), ...(out.dependentSchemas as object | undefined), ...(out.dependentRequired as object | undefined) }
    delete out.dependentRequired
    delete out.dependentSchemas
  }

  // `unevaluated*` means `additional*` where no composition can evaluate more; elsewhere it is dropped.
  const composed = COMPOSITION.some((key) => key in out)
  if ('unevaluatedProperties' in out) {
    if (!composed && !('additionalProperties' in out)) out.additionalProperties = out.unevaluatedProperties
    delete out.unevaluatedProperties
  }
  if ('unevaluatedItems' in out) {
    if (!composed && Array.isArray(out.items) && !('additionalItems' in out)) out.additionalItems = out.unevaluatedItems
    else if (!composed && out.items === undefined) out.items = out.unevaluatedItems
    delete out.unevaluatedItems
  }

  if ('$defs' in out) {
    out.definitions = { ...(isSchemaObject(out.definitions) ? out.definitions : {}), ...(out.$defs as object) }
    delete out.$defs
  }

  // draft-07 ignores every keyword beside `$ref`: assertions move under `allOf` with it.
  if (typeof out.$ref === 'string' && Object.keys(out).some((key) => !ANNOTATIONS.has(key) && !key.startsWith('x-'))) {
    const { $ref, ...rest } = out
    return { allOf: [{ $ref }], ...rest }
  }
  return out
}

/** `schema` (2020-12) in draft-07 keywords; `$ref`s unchanged; `x-…` keywords kept as they are. */
export function toDraft07(schema: JsonSchema): JsonSchema {
  return mapSchema(schema, convertNode)
}
