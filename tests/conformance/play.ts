import { isDeepStrictEqual } from 'node:util'
import WebSocket from 'ws'

/**
 * Plays a conformance transcript (docs/protocol/conformance/*.json) over
 * real sockets, as a client would: it sends the transcript's frames and
 * checks every message and close the server sends against the transcript's
 * patterns. The format is specified in docs/protocol/conformance/README.md;
 * this file is one reading of it, and a runner in another language reads it
 * the same way.
 *
 * Strict by design: each connection's messages are consumed in the order
 * they arrive, and a message that no `expect` step accounts for fails the
 * transcript (at the next `expect`, at a close, or at the end). Every wait
 * is bounded, and every socket is closed when the transcript ends, passed
 * or failed.
 */

// ---- The format -------------------------------------------------------------

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export interface Transcript {
  name: string
  description: string
  /** Server options over the defaults; see the README's "Server configuration". */
  server: Record<string, Json>
  steps: Step[]
}

type Common = { note?: string }
type OnConn = Common & { conn?: string }

export type Step =
  | (OnConn & { op: 'connect'; protocols?: string[]; expectStatus?: number; timeoutMs?: number })
  | (OnConn & { op: 'reconnect'; timeoutMs?: number })
  | (OnConn & { op: 'send'; frame?: Json; text?: string; binary?: string })
  | (OnConn & {
      op: 'expect'
      message?: Json
      messages?: Json[]
      order?: 'sequence' | 'any'
      frame?: 'any' | 'batch' | 'single'
      timeoutMs?: number
    })
  | (OnConn & { op: 'expectClose'; code: number; reason?: Json; timeoutMs?: number })
  | (OnConn & { op: 'close'; code?: number; reason?: string; timeoutMs?: number })
  | (OnConn & { op: 'dropConnection' })
  | (Common & { op: 'wait'; ms: number })
  | (Common & { op: 'serverClose'; graceMs?: number; reconnectWindowMs?: number })

/** Keys each step may have, besides `op` and `note`. */
const stepKeys: Record<Step['op'], string[]> = {
  connect: ['conn', 'protocols', 'expectStatus', 'timeoutMs'],
  reconnect: ['conn', 'timeoutMs'],
  send: ['conn', 'frame', 'text', 'binary'],
  expect: ['conn', 'message', 'messages', 'order', 'frame', 'timeoutMs'],
  expectClose: ['conn', 'code', 'reason', 'timeoutMs'],
  close: ['conn', 'code', 'reason', 'timeoutMs'],
  dropConnection: ['conn'],
  wait: ['ms'],
  serverClose: ['graceMs', 'reconnectWindowMs'],
}

/** The connection a step names when it names none. */
export const DEFAULT_CONN = 'main'
/** How long an `expect`, `expectClose`, `close` or `connect` waits by default. */
export const DEFAULT_TIMEOUT_MS = 2_000
/** The longest wait a transcript may ask for, in any step. */
export const MAX_TIMEOUT_MS = 10_000

/** What the runner must be able to do to the server. */
export interface ServerHandle {
  /** `ws://127.0.0.1:port/path` */
  url: string
  /** Starts `server.close(options)` (restart mode when options are given); the runner does not wait for it here. */
  close(options?: { graceMs?: number; reconnectWindowMs?: number }): Promise<void>
}

/** Checks a parsed file against the format; throws with the first problem. */
export function checkTranscript(value: unknown, file: string): Transcript {
  const fail = (where: string, problem: string): never => {
    throw new Error(`${file}: ${where}: ${problem}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('top level', 'not an object')
  const t = value as Record<string, unknown>
  for (const key of Object.keys(t)) if (!['name', 'description', 'server', 'steps'].includes(key)) fail('top level', `unknown key "${key}"`)
  if (typeof t.name !== 'string' || t.name === '') fail('name', 'must be a non-empty string')
  if (typeof t.description !== 'string') fail('description', 'must be a string')
  if (typeof t.server !== 'object' || t.server === null || Array.isArray(t.server)) fail('server', 'must be an object ({} for the defaults)')
  if (!Array.isArray(t.steps) || t.steps.length === 0) fail('steps', 'must be a non-empty array')
  ;(t.steps as unknown[]).forEach((raw, i) => {
    const where = `step ${i + 1}`
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail(where, 'not an object')
    const step = raw as Record<string, unknown>
    const op = step.op as Step['op']
    if (typeof op !== 'string' || !(op in stepKeys)) return fail(where, `unknown op ${JSON.stringify(step.op)}`)
    for (const key of Object.keys(step)) if (key !== 'op' && key !== 'note' && !stepKeys[op].includes(key)) fail(where, `"${op}" has no key "${key}"`)
    if (step.conn !== undefined && (typeof step.conn !== 'string' || step.conn === '')) fail(where, 'conn must be a non-empty string')
    for (const key of ['timeoutMs', 'ms', 'graceMs', 'reconnectWindowMs']) {
      const n = step[key]
      if (n !== undefined && (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_TIMEOUT_MS)) fail(where, `${key} must be an integer from 0 to ${MAX_TIMEOUT_MS}`)
    }
    if (op === 'send' && ['frame', 'text', 'binary'].filter((k) => step[k] !== undefined).length !== 1) fail(where, 'send needs exactly one of frame, text, binary')
    if (op === 'send' && step.text !== undefined && typeof step.text !== 'string') fail(where, 'text must be a string')
    if (op === 'send' && step.binary !== undefined && (typeof step.binary !== 'string' || !/^([0-9a-f]{2})*$/.test(step.binary))) fail(where, 'binary must be lowercase hex')
    if (op === 'expect') {
      if ((step.message === undefined) === (step.messages === undefined)) fail(where, 'expect needs exactly one of message, messages')
      if (step.messages !== undefined && (!Array.isArray(step.messages) || step.messages.length === 0)) fail(where, 'messages must be a non-empty array')
      if (step.order !== undefined && step.order !== 'sequence' && step.order !== 'any') fail(where, 'order must be "sequence" or "any"')
      if (step.frame !== undefined && !['any', 'batch', 'single'].includes(step.frame as string)) fail(where, 'frame must be "any", "batch" or "single"')
    }
    if ((op === 'expectClose' || op === 'close') && step.code !== undefined && (typeof step.code !== 'number' || !Number.isInteger(step.code))) fail(where, 'code must be an integer')
    if (op === 'expectClose' && step.code === undefined) fail(where, 'expectClose needs a code')
    if (op === 'wait' && step.ms === undefined) fail(where, 'wait needs ms')
    if (op === 'connect' && step.protocols !== undefined && (!Array.isArray(step.protocols) || !step.protocols.every((p) => typeof p === 'string'))) fail(where, 'protocols must be an array of strings')
  })
  return value as Transcript
}

// ---- Patterns ---------------------------------------------------------------

export type Bindings = ReadonlyMap<string, Json>

const CAPTURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
const typePlaceholders = new Set(['any', 'string', 'number', 'integer', 'boolean', 'object', 'array', 'eventId'])

/** Whether `value` is of the kind a type placeholder (without its `$`) names. */
function isOfType(type: string, value: Json): boolean {
  switch (type) {
    case 'any':
      return true
    case 'string':
      return typeof value === 'string'
    case 'number':
      return typeof value === 'number'
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value)
    case 'boolean':
      return typeof value === 'boolean'
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    case 'array':
      return Array.isArray(value)
    case 'eventId':
      return typeof value === 'string' && value.length <= 1_024
    default:
      throw new Error(`unknown placeholder "$${type}"`)
  }
}

/**
 * Matches `value` against `pattern` (see the README's "Patterns"). Returns
 * the bindings extended with what was captured, or `undefined` when it
 * does not match; `bindings` itself is never changed, so a failed attempt
 * (in an unordered set) leaves nothing behind.
 */
export function match(pattern: Json, value: Json | undefined, bindings: Bindings): Bindings | undefined {
  if (value === undefined) return undefined
  if (typeof pattern === 'string' && pattern.startsWith('$')) {
    if (pattern.startsWith('$$')) return value === pattern.slice(1) ? bindings : undefined
    const [kind, name, type, ...extra] = pattern.slice(1).split(':')
    if (kind === 'capture') {
      if (name === undefined || !CAPTURE_NAME.test(name) || extra.length > 0) throw new Error(`malformed placeholder "${pattern}"`)
      if (bindings.has(name)) throw new Error(`"${pattern}": "${name}" is already captured`)
      if (type !== undefined && !isOfType(type, value)) return undefined
      return new Map(bindings).set(name, value)
    }
    if (kind === 'use') {
      if (name === undefined || type !== undefined) throw new Error(`malformed placeholder "${pattern}"`)
      if (!bindings.has(name)) throw new Error(`"${pattern}": nothing was captured as "${name}"`)
      return isDeepStrictEqual(bindings.get(name), value) ? bindings : undefined
    }
    if (name !== undefined || !typePlaceholders.has(kind!)) throw new Error(`unknown placeholder "${pattern}"`)
    return isOfType(kind!, value) ? bindings : undefined
  }
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value) || value.length !== pattern.length) return undefined
    let b: Bindings | undefined = bindings
    for (let i = 0; i < pattern.length && b !== undefined; i++) b = match(pattern[i]!, value[i], b)
    return b
  }
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
    const keys = Object.keys(pattern)
    if (Object.keys(value).length !== keys.length) return undefined
    let b: Bindings | undefined = bindings
    for (const key of keys) {
      if (b === undefined) break
      b = Object.hasOwn(value, key) ? match(pattern[key]!, value[key], b) : undefined
    }
    return b
  }
  return pattern === value ? bindings : undefined
}

/** Resolves `$use:`, `$repeat:` and `$$` in a value to send (see the README's "send"). */
export function substitute(value: Json, bindings: Bindings): Json {
  if (typeof value === 'string' && value.startsWith('$')) {
    if (value.startsWith('$$')) return value.slice(1)
    const [kind, ...args] = value.slice(1).split(':')
    if (kind === 'use' && args.length === 1) {
      if (!bindings.has(args[0]!)) throw new Error(`"${value}": nothing was captured as "${args[0]}"`)
      return bindings.get(args[0]!)!
    }
    if (kind === 'repeat' && args.length >= 2 && /^\d+$/.test(args[0]!)) return args.slice(1).join(':').repeat(Number(args[0]))
    throw new Error(`"${value}" cannot be sent: only $use:NAME, $repeat:COUNT:TEXT and $$ are resolved in a frame`)
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, bindings))
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, bindings)]))
  return value
}

/**
 * Finds a one-to-one assignment of `values` to `patterns` (an unordered
 * set): the patterns are taken in the order they are written, each tried
 * against the values not yet taken, in arrival order, backtracking when a
 * later pattern finds none. So a `$capture` in one pattern is bound before
 * a later pattern's `$use` reads it. Returns the first assignment's
 * bindings.
 */
function matchUnordered(patterns: Json[], values: Json[], bindings: Bindings): Bindings | undefined {
  const taken = new Array<boolean>(values.length).fill(false)
  const assign = (p: number, b: Bindings): Bindings | undefined => {
    if (p === patterns.length) return b
    for (let v = 0; v < values.length; v++) {
      if (taken[v]) continue
      const next = match(patterns[p]!, values[v], b)
      if (next === undefined) continue
      taken[v] = true
      const done = assign(p + 1, next)
      if (done !== undefined) return done
      taken[v] = false
    }
    return undefined
  }
  return assign(0, bindings)
}

// ---- Connections ------------------------------------------------------------

/** One message as received: where it was in its frame. */
interface Received {
  message: Json
  /** Index of its frame on this connection, from 0. */
  frame: number
  /** True when the frame was an array (a batch), even of one message. */
  batch: boolean
  /** Position in the frame and the frame's length (1 for a plain message frame). */
  index: number
  size: number
}

class Connection {
  readonly received: Received[] = []
  /** How many of `received` the transcript has accounted for. */
  consumed = 0
  closeInfo: { code: number; reason: string } | undefined
  /** Something the server sent that is not a message at all (binary, not JSON, not an object): fails the next step. */
  protocolProblem: string | undefined
  private frames = 0
  private readonly waiters = new Set<() => void>()

  constructor(readonly name: string, readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = this.frames++
      if (isBinary) this.protocolProblem ??= `frame ${frame} is binary`
      else {
        let parsed: unknown
        try {
          parsed = JSON.parse(String(data))
        } catch {
          this.protocolProblem ??= `frame ${frame} is not JSON: ${String(data).slice(0, 200)}`
        }
        const messages = Array.isArray(parsed) ? parsed : [parsed]
        for (const [index, message] of messages.entries()) {
          if (typeof message !== 'object' || message === null || Array.isArray(message)) this.protocolProblem ??= `frame ${frame} holds a non-object: ${String(data).slice(0, 200)}`
          this.received.push({ message: message as Json, frame, batch: Array.isArray(parsed), index, size: messages.length })
        }
      }
      this.wake()
    })
    ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() }
      this.wake()
    })
    ws.on('error', () => {})
  }

  get isClosed(): boolean {
    return this.closeInfo !== undefined
  }

  /** Resolves when `ready()` is true, or false after `timeoutMs`. */
  until(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true)
    return new Promise((resolve) => {
      const check = () => {
        if (!ready()) return
        cleanup()
        resolve(true)
      }
      const timer = setTimeout(() => {
        cleanup()
        resolve(false)
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.waiters.delete(check)
      }
      this.waiters.add(check)
    })
  }

  private wake(): void {
    for (const w of [...this.waiters]) w()
  }

  /** The messages received and not accounted for, for error messages. */
  unconsumed(): Json[] {
    return this.received.slice(this.consumed).map((r) => r.message)
  }
}

function openSocket(url: string, protocols: string[], timeoutMs: number): Promise<{ ws: WebSocket } | { status: number }> {
  const ws = new WebSocket(url, protocols)
  ws.on('error', () => {})
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`the upgrade neither opened nor was refused within ${timeoutMs} ms`))
    }, timeoutMs)
    ws.once('open', () => {
      clearTimeout(timer)
      resolve({ ws })
    })
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer)
      res.resume()
      ws.terminate()
      resolve({ status: res.statusCode ?? 0 })
    })
    ws.once('error', (error) => {
      clearTimeout(timer)
      ws.terminate()
      reject(error)
    })
  })
}

// ---- The player -------------------------------------------------------------

const show = (value: unknown) => JSON.stringify(value)

/**
 * Plays `transcript` against `server`. Resolves when every step passed;
 * rejects with the first step that did not, naming it and what arrived.
 * Every socket it opened is closed (terminated) before it settles.
 */
export async function play(transcript: Transcript, server: ServerHandle): Promise<void> {
  const conns = new Map<string, Connection>()
  let bindings: Bindings = new Map()
  let serverClosing: Promise<void> | undefined

  const connOf = (name: string): Connection => {
    const conn = conns.get(name)
    if (conn === undefined) throw new Error(`no connection "${name}" (connect it first)`)
    return conn
  }
  /** A connection's end (close, drop, expectClose, end of transcript): every message must have been expected. */
  const assertAllConsumed = (conn: Connection, when: string) => {
    if (conn.protocolProblem !== undefined) throw new Error(`connection "${conn.name}": ${conn.protocolProblem}`)
    const left = conn.unconsumed()
    if (left.length > 0) throw new Error(`connection "${conn.name}" ${when}, with messages no step expected: ${left.map(show).join(' ')}`)
  }
  const connect = async (name: string, protocols: string[], expectStatus: number | undefined, timeoutMs: number) => {
    const opened = await openSocket(server.url, protocols, timeoutMs)
    if ('status' in opened) {
      if (expectStatus === undefined) throw new Error(`the upgrade was refused with HTTP ${opened.status}`)
      if (opened.status !== expectStatus) throw new Error(`the upgrade was refused with HTTP ${opened.status}, expected ${expectStatus}`)
      return
    }
    if (expectStatus !== undefined) {
      opened.ws.terminate()
      throw new Error(`the upgrade opened (protocol "${opened.ws.protocol}"), expected HTTP ${expectStatus}`)
    }
    const conn = new Connection(name, opened.ws)
    conns.set(name, conn)
    if (opened.ws.protocol !== 'wirecall.v1') throw new Error(`the server selected the subprotocol "${opened.ws.protocol}", not wirecall.v1`)
  }

  const run = async (step: Step) => {
    const name = 'conn' in step && step.conn !== undefined ? step.conn : DEFAULT_CONN
    const timeoutMs = 'timeoutMs' in step && step.timeoutMs !== undefined ? step.timeoutMs : DEFAULT_TIMEOUT_MS
    switch (step.op) {
      case 'connect': {
        const existing = conns.get(name)
        if (existing !== undefined && !existing.isClosed) throw new Error(`connection "${name}" is still open (use reconnect)`)
        return connect(name, step.protocols ?? ['wirecall.v1'], step.expectStatus, timeoutMs)
      }
      case 'reconnect': {
        const old = connOf(name)
        if (!old.isClosed) {
          assertAllConsumed(old, 'was dropped for a reconnect')
          old.ws.terminate()
        }
        return connect(name, ['wirecall.v1'], undefined, timeoutMs)
      }
      case 'send': {
        const conn = connOf(name)
        if (conn.ws.readyState !== WebSocket.OPEN) throw new Error(`connection "${name}" is not open (closed ${show(conn.closeInfo)})`)
        if (step.binary !== undefined) return conn.ws.send(Buffer.from(step.binary, 'hex'), { binary: true })
        return conn.ws.send(step.text ?? JSON.stringify(substitute(step.frame!, bindings)))
      }
      case 'expect': {
        const conn = connOf(name)
        const patterns = step.messages ?? [step.message!]
        const start = conn.consumed
        const arrived = await conn.until(() => conn.received.length - start >= patterns.length || conn.isClosed || conn.protocolProblem !== undefined, timeoutMs)
        if (conn.protocolProblem !== undefined) throw new Error(`connection "${name}": ${conn.protocolProblem}`)
        const got = conn.received.slice(start, start + patterns.length)
        const expected = `expected ${step.order === 'any' ? 'in any order ' : ''}${patterns.map(show).join(' ')}`
        if (got.length < patterns.length) {
          const why = arrived ? `the connection closed ${show(conn.closeInfo)}` : `nothing more arrived within ${timeoutMs} ms`
          throw new Error(`${expected}\n  got ${got.length === 0 ? 'nothing' : got.map((r) => show(r.message)).join(' ')}; ${why}`)
        }
        const values = got.map((r) => r.message)
        const matched = step.order === 'any' ? matchUnordered(patterns, values, bindings) : match(patterns, values, bindings)
        if (matched === undefined) throw new Error(`${expected}\n  got ${values.map(show).join(' ')}`)
        const frame = step.frame ?? 'any'
        if (frame === 'batch') {
          const first = got[0]!
          const oneFrame = first.batch && first.index === 0 && first.size === got.length && got.every((r) => r.frame === first.frame)
          if (!oneFrame) throw new Error(`${expected}, as one batch frame\n  got them in frames ${show(got.map((r) => ({ frame: r.frame, batch: r.batch, size: r.size })))}`)
        } else if (frame === 'single' && got.some((r) => r.batch)) {
          throw new Error(`${expected}, each in a plain message frame\n  got a batch: ${show(got.map((r) => ({ frame: r.frame, batch: r.batch, size: r.size })))}`)
        }
        bindings = matched
        conn.consumed += got.length
        return
      }
      case 'expectClose': {
        const conn = connOf(name)
        const closed = await conn.until(() => conn.isClosed, timeoutMs)
        assertAllConsumed(conn, closed ? `closed ${show(conn.closeInfo)}` : 'is still open')
        if (!closed) throw new Error(`expected a close with ${step.code}; the connection is still open after ${timeoutMs} ms`)
        const { code, reason } = conn.closeInfo!
        if (code !== step.code) throw new Error(`expected a close with ${step.code}, got ${code} "${reason}"`)
        if (step.reason !== undefined) {
          const matched = match(step.reason, reason, bindings)
          if (matched === undefined) throw new Error(`expected the close reason ${show(step.reason)}, got ${show(reason)}`)
          bindings = matched
        }
        return
      }
      case 'close': {
        const conn = connOf(name)
        assertAllConsumed(conn, 'was closed by the client')
        conn.ws.close(step.code ?? 1000, step.reason)
        if (!(await conn.until(() => conn.isClosed, timeoutMs))) throw new Error(`the server did not answer the close within ${timeoutMs} ms`)
        return assertAllConsumed(conn, 'was closed by the client')
      }
      case 'dropConnection': {
        const conn = connOf(name)
        assertAllConsumed(conn, 'was dropped')
        conn.ws.terminate()
        return
      }
      case 'wait':
        return new Promise<void>((resolve) => setTimeout(resolve, step.ms))
      case 'serverClose': {
        if (serverClosing !== undefined) throw new Error('serverClose was already played')
        const restart = step.graceMs !== undefined || step.reconnectWindowMs !== undefined
        const options = {
          ...(step.graceMs === undefined ? {} : { graceMs: step.graceMs }),
          ...(step.reconnectWindowMs === undefined ? {} : { reconnectWindowMs: step.reconnectWindowMs }),
        }
        serverClosing = server.close(restart ? options : undefined)
        return
      }
    }
  }

  try {
    for (const [i, step] of transcript.steps.entries()) {
      try {
        await run(step)
      } catch (error) {
        const note = step.note === undefined ? '' : ` (${step.note})`
        throw new Error(`${transcript.name}, step ${i + 1} ${show(step.op)}${note}: ${(error as Error).message}`, { cause: error })
      }
    }
    for (const conn of conns.values()) assertAllConsumed(conn, 'was left at the end of the transcript')
    await serverClosing
  } finally {
    for (const conn of conns.values()) conn.ws.terminate()
  }
}
