import { RpcError } from './errors'

/** Helpers of the payload checks (`payload-guard.ts`, `meta-guard.ts`, `meta-paths.ts`). */

/** Refuses the payload: the caller gets `BAD_REQUEST`, "Payload refused: …". */
export function refuse(why: string): never {
  throw new RpcError('BAD_REQUEST', `Payload refused: ${why}`)
}

export function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key)
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

