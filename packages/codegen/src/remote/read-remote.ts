import { SCHEMA_ENDPOINT_PATH } from '@wirecall/core'
import { CliError } from '../cli-error'
import type { ApiDescription } from '../describe-router'
import { remoteQuery, RemoteQueryError, type RemoteFailure } from './remote-call'

export { manifestToApiModel } from './manifest-to-model'

// The schema endpoint's reserved path, as the server serves it (both take it from core's protocol).
export { SCHEMA_ENDPOINT_PATH }

/** What a server with `schemaEndpoint: true` answers. */
export type RemoteDescription = ApiDescription

/** Options of {@link readRemoteApi}. */
export interface ReadRemoteOptions {
  /** `connectionParams` for the server's `createContext` (a token). */
  readonly params?: Record<string, unknown> | undefined
  readonly signal?: AbortSignal | undefined
  /**
   * The whole exchange: connecting, the server building its description on
   * the first request (it loads `@wirecall/codegen` and converts every
   * schema), and the answer.
   * @default 30_000
   */
  readonly timeoutMs?: number | undefined
}

const DEFAULT_TIMEOUT_MS = 30_000

/**
 * Asks a running server for its manifest and AsyncAPI document, over one
 * short `wirecall.v1` connection (`--url` of `generate types` and
 * `generate schema`). Every way it can fail is a `CliError` (`LOAD`) that
 * says what to do: the endpoint is off, the server cannot be reached, it
 * refused the connection, it took too long.
 */
export async function readRemoteApi(url: string, options: ReadRemoteOptions = {}): Promise<RemoteDescription> {
  checkUrl(url)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let answer: unknown
  try {
    answer = await remoteQuery(url, SCHEMA_ENDPOINT_PATH, { params: options.params, signal: options.signal, timeoutMs })
  } catch (error) {
    if (error instanceof RemoteQueryError) throw new CliError('LOAD', explain(url, error.failure, timeoutMs))
    throw error
  }
  return checkDescription(url, answer)
}

function checkUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CliError('USAGE', `--url: "${url}" is not a URL; write ws://host:port/path`)
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new CliError('USAGE', `--url: "${url}" is not a WebSocket URL; write ws://host:port/path (or wss://)`)
  }
}

/** One line that says what happened and what to do about it. */
function explain(url: string, failure: RemoteFailure, timeoutMs: number): string {
  switch (failure.kind) {
    case 'rpc': {
      const { code, message } = failure.error
      if (code === 'NOT_FOUND') {
        return `${url} has no schema endpoint (${code}: ${message}); create the server with createRpcServer({ router, schemaEndpoint: true }), or generate from the source with --router`
      }
      if (code === 'NOT_IMPLEMENTED') return `${url} cannot describe its API: ${message}`
      return `${url} refused to describe its API: ${code}: ${message}`
    }
    case 'connect':
      return `cannot connect to ${url}: ${failure.reason}`
    case 'closed': {
      const hint = failure.code === 4401 || failure.code === 4403 ? ' (the server refused the connection: pass connection params with --params)' : ''
      return `${url} closed the connection before answering: ${failure.code}${failure.reason === '' ? '' : ` ${failure.reason}`}${hint}`
    }
    case 'protocol':
      return `${url} sent something that is not wirecall.v1: ${failure.reason}`
    case 'timeout':
      return `no answer from ${url} within ${timeoutMs / 1_000} s`
    case 'aborted':
      return `reading ${url} was cancelled`
  }
}

/** The answer as the server's endpoint writes it; anything else is not a wirecall server of this version. */
function checkDescription(url: string, answer: unknown): RemoteDescription {
  const { manifest, asyncapi } = (typeof answer === 'object' && answer !== null ? answer : {}) as { manifest?: unknown; asyncapi?: unknown }
  const format = typeof manifest === 'object' && manifest !== null ? (manifest as { format?: unknown }).format : undefined
  if (format !== 'wirecall-api/1') {
    throw new CliError('LOAD', `${url} answered the schema endpoint with no manifest this generator reads (format ${JSON.stringify(format ?? null)}, expected "wirecall-api/1")`)
  }
  const procedures = (manifest as { procedures?: unknown }).procedures
  if (typeof procedures !== 'object' || procedures === null || typeof asyncapi !== 'object' || asyncapi === null) {
    throw new CliError('LOAD', `${url} answered the schema endpoint with an incomplete description (no procedures or no AsyncAPI document)`)
  }
  return answer as RemoteDescription
}
