import { RpcError, SCHEMA_ENDPOINT_PATH, getProcedure, type AnyProcedure, type ProcedureType } from '@wirecall/core'
import type { SessionConfig } from './config'

/**
 * The procedure at a wire-supplied `path`, if it is of the kind the message
 * asks for; otherwise the per-call error to answer with (`NOT_FOUND`,
 * `METHOD_NOT_SUPPORTED`). The path is looked up in a Map, so
 * `__proto__` or `constructor` finds nothing.
 */
export function lookupProcedure(config: SessionConfig, path: string, type: ProcedureType): AnyProcedure | RpcError {
  const procedure = procedureAt(config, path)
  if (procedure === undefined) return new RpcError('NOT_FOUND', `no procedure at "${shorten(path)}"`)
  if (procedure._def.type !== type) return new RpcError('METHOD_NOT_SUPPORTED', `"${path}" is a ${procedure._def.type}, not a ${type}`)
  return procedure
}

/** Whether the router has a procedure of kind `type` at `path`: what instrumentation calls `known`. */
export function isKnown(config: SessionConfig, path: string, type: ProcedureType): boolean {
  return procedureAt(config, path)?._def.type === type
}

/** The router's procedure at `path`, or the schema endpoint's reserved one when it is on (no router key can shadow it). */
function procedureAt(config: SessionConfig, path: string): AnyProcedure | undefined {
  return path === SCHEMA_ENDPOINT_PATH ? config.schemaEndpoint : getProcedure(config.router, path)
}

function shorten(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text
}
