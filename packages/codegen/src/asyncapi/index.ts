// The AsyncAPI 3.0 document of a connection, and what its tests and users read from it.
export { buildAsyncApi, type BuildAsyncApiOptions } from './build-asyncapi'
export { standaloneSchema } from './standalone-schema'
export { DRAFT_07, envelopeKey } from './messages'
export { envelopeSchema, messageTypes, unmappedEnvelopeFields, type Direction } from './envelope-schemas'
