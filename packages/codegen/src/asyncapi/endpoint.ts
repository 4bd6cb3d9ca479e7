import { CLOSE_CODES, CloseCode, ERROR_CODES, PROTOCOL } from '@wirecall/core'
import { CliError } from '../cli-error'

/*
 * Where the connection is (the AsyncAPI server), how the upgrade must look
 * (the WebSockets bindings: the subprotocol), and the two code tables a
 * client acts on (close codes as an extension, error codes beside them).
 */

const WS_BINDING_VERSION = '0.1.0'

/** An AsyncAPI server object. */
export type ServerObject = Record<string, unknown>

/**
 * The server of `url` (`ws://host:port/path` or `wss://…`), or, without
 * one, a placeholder whose host and path are variables. Throws a `USAGE`
 * `CliError` for any other URL.
 */
export function serverObject(url: string | undefined): ServerObject {
  const common = {
    title: 'wirecall endpoint',
    summary: `A WebSocket endpoint speaking ${PROTOCOL}: offer the subprotocol ${PROTOCOL}; every frame is a UTF-8 JSON text frame.`,
    bindings: { ws: { bindingVersion: WS_BINDING_VERSION } },
    'x-wirecall-subprotocol': PROTOCOL,
  }
  if (url === undefined) {
    return {
      host: '{host}',
      pathname: '/{path}',
      protocol: 'ws',
      description: 'A placeholder: the document was generated without --url. Use wss in production.',
      variables: {
        host: { default: 'localhost:3000', description: 'Host and port of the server.' },
        path: { default: 'rpc', description: 'The path the endpoint is mounted on, without its leading slash.' },
      },
      ...common,
    }
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new CliError('USAGE', `--url ${url} is not a URL (ws://host:port/path or wss://...)`)
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw new CliError('USAGE', `--url ${url} is not a ws:// or wss:// URL`)
  if (parsed.username !== '' || parsed.password !== '') throw new CliError('USAGE', `--url ${url} carries credentials: they belong in init, never in the URL`)
  return { host: parsed.host, pathname: parsed.pathname, protocol: parsed.protocol.slice(0, -1), ...common }
}

/** The WebSockets channel binding: the upgrade is a GET that offers the subprotocol (among others, possibly). */
export function channelBinding(): Record<string, unknown> {
  const offered = PROTOCOL.replace(/\./g, '\\.')
  return {
    ws: {
      method: 'GET',
      headers: {
        type: 'object',
        properties: {
          'Sec-WebSocket-Protocol': {
            type: 'string',
            description: `Must offer ${PROTOCOL}; the server selects it, and answers 400 when it is missing.`,
            pattern: `(^|,)\\s*${offered}\\s*(,|$)`,
          },
        },
        required: ['Sec-WebSocket-Protocol'],
      },
      bindingVersion: WS_BINDING_VERSION,
    },
  }
}

/** One row of `x-wirecall-close-codes`. */
export interface CloseCodeEntry {
  readonly code: number
  /** The name in core's `CloseCode` table. */
  readonly name: string
  /** The error code that calls waiting on the connection reject with. */
  readonly errorCode: string
  /** The client stops for good (else it reconnects with backoff). */
  readonly terminal: boolean
}

/** Core's `CLOSE_CODES`, each with its `CloseCode` name. */
export function closeCodes(): CloseCodeEntry[] {
  const names = new Map<number, string>(Object.entries(CloseCode).map(([name, code]) => [code, name]))
  return CLOSE_CODES.map((row) => ({ code: row.code, name: names.get(row.code) ?? String(row.code), errorCode: row.errorCode, terminal: row.terminal }))
}

/** Core's `ERROR_CODES`: whether a client may retry, and the matching HTTP status. */
export function errorCodes(): Record<string, { retryable: boolean; httpStatus: number }> {
  return Object.fromEntries(Object.entries(ERROR_CODES).map(([code, row]) => [code, { retryable: row.retryable, httpStatus: row.httpStatus }]))
}
