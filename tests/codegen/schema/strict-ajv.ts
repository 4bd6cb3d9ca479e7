import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { WIRE_KEYWORDS } from '../../../packages/codegen/src/schema/wire-schemas'

// ajv-formats is CJS with a default export; under ESM interop it may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as typeof addFormatsModule

/**
 * ajv for 2020-12 in strict mode, with formats, and wirecall's `x-wirecall-*`
 * keywords registered as annotations: the line users need too
 * (`ajv.addVocabulary(['x-wirecall-type', 'x-wirecall-unrepresentable'])`).
 */
export function strictAjv(options: { strictTuples?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, ...options })
  addFormats(ajv)
  ajv.addVocabulary([...WIRE_KEYWORDS])
  return ajv
}
