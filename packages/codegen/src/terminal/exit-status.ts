import { inspect } from 'node:util'
import { isRpcError, type RpcError } from '@wirecall/client'
import type { CliIo } from '../cli/io'
import { useColor } from './render-value'
import { closeCodeOf } from './terminal-client'

/**
 * Exit statuses of `wirecall call` and `wirecall subscribe` (1 is the CLI's
 * usage error, as for every command). The usage text and docs/generate.md
 * list the same table.
 */
export const TerminalExit = {
  /** The answer (call), or the stream ended by the server's `complete` or by Ctrl-C (subscribe). */
  ok: 0,
  /** The server answered with an `RpcError`: its `code: message` (and `data`) are on stderr. */
  rpcError: 2,
  /**
   * No answer: the connection was refused, unreachable, closed by the
   * server with a terminal code, or dropped and not restored, or no answer
   * came within `--timeout`.
   */
  connection: 3,
  /** A call interrupted by Ctrl-C (the server was told to cancel it): the shell's 128 + SIGINT. */
  interrupted: 130,
} as const

/** What a call or subscription was, for the hint that follows a `METHOD_NOT_SUPPORTED`. */
export interface Attempt {
  readonly url: string
  readonly path: string
  readonly method: 'query' | 'mutation' | 'subscription'
}

/**
 * Reports an error a call or subscription ended with, on stderr, and
 * returns the exit status: 3 for the client's own errors about the
 * connection (they carry the close code), 2 for what the server answered.
 * A `METHOD_NOT_SUPPORTED` gets a line saying which flag or command fits
 * the procedure's kind, read from the server's message.
 */
export function reportFailure(error: unknown, attempt: Attempt, io: CliIo): number {
  if (!isRpcError(error)) throw error
  const closeCode = closeCodeOf(error.data)
  if (closeCode !== undefined) {
    // For a mutation in flight the client's message says it may or may not have run (it is never re-sent).
    io.stderr.write(`wirecall: connection lost: ${error.message}\n`)
    return TerminalExit.connection
  }
  io.stderr.write(`${error.code}: ${error.message}\n`)
  if (error.data !== undefined) io.stderr.write(`data: ${inspect(error.data, { depth: null, colors: useColor(io.stderr, io.env) })}\n`)
  const hint = kindHint(error, attempt)
  if (hint !== undefined) io.stderr.write(`wirecall: ${hint}\n`)
  return TerminalExit.rpcError
}

/**
 * The server refuses a method that does not match the procedure's kind
 * with `"post.add" is a mutation, not a query` (server/src/session/lookup.ts)
 * before any middleware, input parsing or resolver runs. The CLI cannot
 * know a procedure's kind beforehand, so it says what to run instead; it
 * does not re-send by itself (see call.ts).
 */
function kindHint(error: RpcError, attempt: Attempt): string | undefined {
  if (error.code !== 'METHOD_NOT_SUPPORTED') return undefined
  const kind = /\bis an? (query|mutation|subscription), not an? /.exec(error.message)?.[1] as 'query' | 'mutation' | 'subscription' | undefined
  const { path, url } = attempt
  switch (kind) {
    case 'query':
      return attempt.method === 'subscription' ? `${path} is a query: run wirecall call ${url} ${path}` : `${path} is a query: run it without --mutation`
    case 'mutation':
      return attempt.method === 'subscription' ? `${path} is a mutation: run wirecall call ${url} ${path} --mutation` : `${path} is a mutation: add --mutation`
    case 'subscription':
      return `${path} is a subscription: run wirecall subscribe ${url} ${path}`
    case undefined:
      // A METHOD_NOT_SUPPORTED thrown by the app itself: no hint to give.
      return undefined
  }
}
