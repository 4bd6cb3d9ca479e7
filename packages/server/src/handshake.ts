import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { PROTOCOL } from '@wirecall/core'

/** True when the client offered the `wirecall.v1` subprotocol. */
export function offersProtocol(req: IncomingMessage): boolean {
  const header = req.headers['sec-websocket-protocol']
  if (typeof header !== 'string') return false
  return header.split(',').some((p) => p.trim() === PROTOCOL)
}

/** The path part of a request URL (no query string), or `undefined` if it is unparsable. */
export function requestPath(req: IncomingMessage): string | undefined {
  const url = req.url
  if (typeof url !== 'string') return undefined
  const q = url.indexOf('?')
  return q === -1 ? url : url.slice(0, q)
}

/**
 * Refuses an upgrade with a plain HTTP response and closes the socket, so
 * the client fails fast instead of waiting for a handshake that never comes.
 */
export function refuseUpgrade(socket: Duplex, status: number, text: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return
  const body = `${text}\n`
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ]
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`)
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  426: 'Upgrade Required',
  503: 'Service Unavailable',
}
