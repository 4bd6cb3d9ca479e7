import { RpcError, isRpcError, resultFrame, utf8Length, type InitMessage, type ReinitMessage } from '@wirecall/core'
import { decodeFromPeer, jsonOfPeerValue } from './payload'
import type { CallResult } from './hooks'
import type { Session } from './session'

/**
 * A session's context: made by `createContext` from the `init` message's
 * params, and made again by each `reinit` (a refreshed token) without
 * dropping anything.
 */

/** Numbers the `reinit`s of one session; the context in use came from the one numbered `applied`. */
export interface ContextVersions {
  issued: number
  applied: number
}

/** `init`: runs `createContext`, then acks, or closes with the code that says whether to retry. */
export async function init(session: Session, message: InitMessage): Promise<void> {
  session.authenticating()
  if (message.handlers !== undefined) session.handlers = new Set(message.handlers)
  let ctx: object
  try {
    ctx = await buildContext(session, message.params, message.meta)
  } catch (thrown) {
    if (!session.isClosed) session.refuse(thrown as RpcError)
    return
  }
  if (!session.isClosed) session.accept(ctx)
}

/**
 * `reinit`: new connection params on the open session. Answers `result`
 * (later calls use the new context) or `error` (the previous context
 * stays). Its id is held in the calls table while `createContext` runs, so
 * it shares the id space with calls and can be cancelled like one.
 */
export async function reinit(session: Session, message: ReinitMessage): Promise<CallResult> {
  const { id } = message
  const inUse = session.refuseIdInUse(id, undefined, undefined)
  if (inUse !== undefined) return inUse
  const max = session.config.maxConnectionParamsBytes
  // Measured as encoded, without the rest of its frame: a client may batch a reinit with calls.
  const json = jsonOfPeerValue([message.params, message.meta])
  if (json === undefined) return session.sendError(id, new RpcError('BAD_REQUEST', 'connectionParams could not be measured'), undefined, undefined)
  if (utf8Length(json) > max) {
    return session.sendError(id, new RpcError('PAYLOAD_TOO_LARGE', `connectionParams larger than ${max} bytes`), undefined, undefined)
  }
  const versions = (session.versions ??= { issued: 0, applied: 0 })
  const version = ++versions.issued
  const calls = session.callTable()
  const held = calls.hold(id)
  let ctx: object
  try {
    ctx = await buildContext(session, message.params, message.meta)
  } catch (error) {
    return calls.release(id, held) ? session.sendError(id, error, undefined, undefined) : held
  }
  if (!calls.release(id, held)) return held
  // Overlapping reinits: the latest one that succeeded wins, whatever order they finish in.
  if (version > versions.applied) {
    session.ctx = ctx
    versions.applied = version
    // With the context, so the client procedures a refused reinit named are not taken either.
    if (message.handlers !== undefined) session.handlers = new Set(message.handlers)
  }
  session.write(resultFrame(session.config.serializer, id, undefined))
  return 'ok'
}

/**
 * Runs `createContext` on connection params from the wire. Throws an
 * `RpcError`: what `createContext` threw, or `UNAUTHORIZED` for anything
 * else (a bug must not let a connection in).
 */
async function buildContext(session: Session, params: unknown, meta: unknown): Promise<object> {
  const { config } = session
  let ctx: unknown
  try {
    const connectionParams = decodeFromPeer(config, params, meta)
    // Always await, even without createContext or with a synchronous one:
    // the rest of the frame holding `init` is then handled before `ready`
    // whatever createContext is, so a call batched with init is always a
    // protocol error rather than sometimes accepted.
    ctx = await (config.createContext === undefined ? {} : config.createContext({ req: session.req!, connectionParams }))
  } catch (cause) {
    throw isRpcError(cause) ? cause : new RpcError('UNAUTHORIZED', 'Connection refused', { cause })
  }
  if (typeof ctx !== 'object' || ctx === null) throw new RpcError('INTERNAL', 'createContext must return an object')
  return ctx
}
