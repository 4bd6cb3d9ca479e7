// The generator as a library: what the `wirecall` commands run, for build
// scripts and tests that want the artifacts without a child process.
export { main } from './cli/main'
export type { CliIo, Command } from './cli/io'
export { CliError, type CliErrorCode } from './cli-error'
export { parseRouterSpec, type RouterSpec } from './load/router-spec'
export { loadRouter } from './load/load-router'
export type { ApiModel, ProcedureModel } from './model/api-model'
export type { PrimitiveName, PropertyModel, RichName, TupleElementModel, TypeModel } from './model/type-model'
export type { JsonSchema, ProcedureSchemas, SchemaEntry, SchemaSet, SchemaSource, SchemaWarning } from './schema/schema-types'
export type { ApiManifest, ManifestProcedure } from './manifest/manifest-types'
