import { connect } from 'node:net'

/**
 * Just enough RESP2 to talk to a test's own redis-server without a client
 * library: encode a command, parse a reply, and exchange a few commands over
 * one short-lived connection on 127.0.0.1. It never sends `HELLO`, so every
 * reply is RESP2.
 */

/** An error reply (`-ERR …`, `-LOADING …`): a value inside an array reply, thrown by {@link exchange}'s callers at the top level. */
export class RespError extends Error {
  override name = 'RespError'
}

/** A parsed reply: simple and bulk strings as strings, integers as numbers, a nil bulk string or array as `null`. */
export type RespValue = string | number | null | RespError | RespValue[]

const CRLF = '\r\n'

/** The bytes of one command, as a RESP array of bulk strings (what every client sends). */
export function encodeCommand(args: readonly string[]): Buffer {
  let text = `*${args.length}${CRLF}`
  for (const arg of args) text += `$${Buffer.byteLength(arg)}${CRLF}${arg}${CRLF}`
  return Buffer.from(text)
}

/**
 * Parses the reply that starts at `offset`: its value and the offset just past
 * it, or `undefined` when `buffer` does not hold the whole reply yet (read
 * more, then parse again from the same offset). Throws on a type byte RESP2
 * does not have: the stream is then out of step and nothing after it can be
 * trusted.
 */
export function parseReply(buffer: Buffer, offset = 0): { value: RespValue; end: number } | undefined {
  const lineEnd = buffer.indexOf(CRLF, offset)
  if (lineEnd === -1) return undefined
  const type = String.fromCharCode(buffer[offset]!)
  const line = buffer.toString('utf8', offset + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case '+':
      return { value: line, end: next }
    case '-':
      return { value: new RespError(line), end: next }
    case ':':
      return { value: Number(line), end: next }
    case '$': {
      const length = Number(line)
      if (length < 0) return { value: null, end: next }
      if (buffer.length < next + length + 2) return undefined
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { value: null, end: next }
      const items: RespValue[] = []
      let at = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at)
        if (item === undefined) return undefined
        items.push(item.value)
        at = item.end
      }
      return { value: items, end: at }
    }
    default:
      throw new Error(`not a RESP2 reply: type byte ${JSON.stringify(type)} at offset ${offset}`)
  }
}

/**
 * Sends `commands` in one write over a new connection to 127.0.0.1:`port`
 * and resolves with their replies in order (error replies included, as
 * {@link RespError} values), then closes the connection. Rejects when the
 * connection fails (ECONNREFUSED while the server starts), when the server
 * closes it before the last reply (`SHUTDOWN`, `CLIENT KILL` of this very
 * connection), or after `timeoutMs` (a server that is stopped, or busy in
 * `DEBUG SLEEP` for longer).
 */
export function exchange(port: number, commands: readonly (readonly string[])[], timeoutMs: number): Promise<RespValue[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    const replies: RespValue[] = []
    let buffer = Buffer.alloc(0)
    let offset = 0
    const timer = setTimeout(() => finish(new Error(`no reply from redis-server on 127.0.0.1:${port} within ${timeoutMs} ms to ${describe(commands)}`)), timeoutMs)
    let settled = false
    function finish(error?: Error): void {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(replies)
    }
    socket.on('error', (error) => finish(error))
    socket.on('close', () => finish(new Error(`redis-server on 127.0.0.1:${port} closed the connection after ${replies.length} of ${commands.length} replies to ${describe(commands)}`)))
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      try {
        for (let parsed = parseReply(buffer, offset); parsed !== undefined; parsed = parseReply(buffer, offset)) {
          replies.push(parsed.value)
          offset = parsed.end
          if (replies.length === commands.length) return finish()
        }
      } catch (error) {
        finish(error as Error)
      }
    })
    socket.write(Buffer.concat(commands.map(encodeCommand)))
  })
}

function describe(commands: readonly (readonly string[])[]): string {
  return commands.map((args) => args.join(' ')).join('; ')
}
