import { onTestFinished } from 'vitest'
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http'
import WebSocket from 'ws'
import { inspect } from 'node:util'
import { isRpcError, PROTOCOL, RpcError, type AnyRouter } from '@wirecall/core'
import { createRpcClient, type RpcClient, type RpcClientOptions } from '@wirecall/client'
import { createRpcServer, type RpcServer, type RpcServerOptions } from '@wirecall/server'
import { listenOnLoopback } from './sockets'

/**
 * Test fixtures on real sockets over 127.0.0.1. Everything a test starts is
 * registered here and torn down when the test finishes, and teardown checks
 * that nothing was left behind (open connections on the server).
 *
 * The socket-free waits (sleep, waitUntil, within, gate, untilAborted) live
 * in async.ts and are re-exported here, so a test imports from one place.
 */

export { gate, sleep, untilAborted, waitUntil, within, type Gate } from './async'

export interface TestServer {
  server: RpcServer
  url: string
  port: number
}

/** The `ack` a server with every default sends: its `maxPayload`, the limits it enforces and the extensions it accepts. */
export const DEFAULT_ACK = {
  type: 'ack',
  maxPayload: 1_048_576,
  limits: { maxInFlightCalls: 1_000, maxSubscriptions: 1_000, messagesPerSecond: 100_000, burst: 100_000 },
  features: ['streams'],
} as const

/** Starts a wirecall server on 127.0.0.1 and a free port; closed after the test. */
export async function startServer<TRouter extends AnyRouter>(
  options: RpcServerOptions<TRouter>,
  path = '/rpc',
): Promise<TestServer> {
  const server = createRpcServer(options)
  const info = await server.listen({ port: 0, host: '127.0.0.1', path })
  onTestFinished(async () => {
    await server.close()
    if (server.connectionCount !== 0) throw new Error(`server leaked ${server.connectionCount} connections`)
  })
  return { server, url: info.url, port: info.port }
}

/** A typed client using `ws` (Node 20 has no global WebSocket); closed after the test. */
export function connectClient<TRouter extends AnyRouter>(
  url: string,
  options: Partial<RpcClientOptions> = {},
): RpcClient<TRouter> {
  const api = createRpcClient<TRouter>({ url, WebSocket, ...options })
  onTestFinished(() => api.$connection.close())
  return api
}

/**
 * The bytes of a WebSocket upgrade request offering `wirecall.v1`, with
 * `headers` added, as a peer on raw TCP writes it (latin1): for tests that
 * must control what `ws`'s client would not let them (pipelining after it,
 * never reading the 101).
 */
export function upgradeRequest(path: string, headers: Record<string, string> = {}): Buffer {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    `Sec-WebSocket-Protocol: ${PROTOCOL}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ]
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
}

/** A raw WebSocket peer that records every frame and close, for protocol-level tests. */
export interface RawPeer {
  ws: WebSocket
  /** Parsed frames received, in order (arrays flattened). */
  messages: Record<string, unknown>[]
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>
  send(value: unknown): void
  /** Resolves with the first received message matching `predicate` (past or future). */
  next(predicate: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
}

/** Opens a raw peer; by default offers `wirecall.v1` and waits until open. */
export async function rawPeer(url: string, protocols: string | string[] = 'wirecall.v1'): Promise<RawPeer> {
  const ws = new WebSocket(url, protocols)
  const messages: Record<string, unknown>[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data) => {
    const parsed = JSON.parse(String(data)) as unknown
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) messages.push(m as Record<string, unknown>)
    for (const w of [...waiters]) w()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
  ws.on('error', () => {})
  onTestFinished(() => {
    ws.terminate()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
  return {
    ws,
    messages,
    closed,
    send(value) {
      ws.send(typeof value === 'string' ? value : JSON.stringify(value))
    },
    next(predicate, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate)
          if (found === undefined) return false
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error('timed out waiting for a message'))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
  }
}

/** How a WebSocket upgrade attempt ended. */
export type UpgradeOutcome = { opened: true; protocol: string } | { opened: false; status: number; body: string }

/** Options of {@link tryUpgrade}. */
export interface TryUpgradeOptions {
  /** Sent as the Origin header; without it (or when `undefined`) the request has none, as from a non-browser client. */
  origin?: string | undefined
  /** How long the attempt may take before it counts as a hang. Default 3 000 ms. */
  timeoutMs?: number  /** For wss://: the certificate authority to trust (a test's own self-signed one). */
  ca?: string | undefined
}

/**
 * Attempts a WebSocket upgrade and reports how it ended: opened (with the
 * negotiated subprotocol; the socket is then terminated) or refused with an
 * HTTP status (read through `ws`'s 'unexpected-response'). Rejects on a
 * network error, or when nothing happened within `timeoutMs` (a hang).
 */
export function tryUpgrade(
  url: string,
  protocols: string | string[] = [],
  { origin, timeoutMs = 3_000, ca }: TryUpgradeOptions = {},
): Promise<UpgradeOutcome> {
  const ws = new WebSocket(url, protocols, { ...(origin === undefined ? {} : { origin }), ...(ca === undefined ? {} : { ca }) })
  ws.on('error', () => {})
  onTestFinished(() => {
    ws.terminate()
  })
  return new Promise<UpgradeOutcome>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`upgrade to ${url} neither opened nor was refused within ${timeoutMs} ms`))
    }, timeoutMs)
    ws.once('open', () => {
      clearTimeout(timer)
      const protocol = ws.protocol
      ws.terminate()
      resolve({ opened: true, protocol })
    })
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer)
      let body = ''
      const done = () => {
        ws.terminate()
        resolve({ opened: false, status: res.statusCode ?? 0, body })
      }
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.once('end', done)
      res.once('close', done)
      res.once('error', done)
    })
    ws.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/** A plain `node:http` server of the test's own, listening on 127.0.0.1. */
export interface TestHttpServer {
  server: HttpServer
  port: number
  /** `http://127.0.0.1:port` */
  httpUrl: string
  /** `ws://127.0.0.1:port${path}` */
  wsUrl(path: string): string
}

/**
 * Starts a `node:http` server on 127.0.0.1 and a free port. Closed after the
 * test (keep-alive sockets included, so `fetch` cannot hold it open); start
 * it before anything mounted on it, so that it is closed after them.
 */
export async function startHttpServer(handler?: RequestListener): Promise<TestHttpServer> {
  const server = createHttpServer(
    handler ??
      ((_req, res) => {
        res.writeHead(404).end()
      }),
  )
  const port = await listenOnLoopback(server)
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  )
  return { server, port, httpUrl: `http://127.0.0.1:${port}`, wsUrl: (path) => `ws://127.0.0.1:${port}${path}` }
}

/**
 * A raw peer past the handshake: it has sent `init` (with `params`, when
 * given, as plain JSON) and received `ack`, so it may send calls.
 */
export async function readyPeer(url: string, params?: unknown): Promise<RawPeer> {
  const peer = await rawPeer(url)
  peer.send(params === undefined ? { type: 'init' } : { type: 'init', params })
  await peer.next((m) => m.type === 'ack')
  return peer
}

/**
 * Awaits a call that must fail and returns its error, checked to be an
 * `RpcError` both by class and by `isRpcError`. Throws (failing the test)
 * when the call succeeds or rejects with anything else.
 */
export async function rpcErrorOf(promise: Promise<unknown>): Promise<RpcError> {
  const outcome = await promise.then(
    (value: unknown) => ({ failed: false as const, value }),
    (error: unknown) => ({ failed: true as const, error }),
  )
  if (!outcome.failed) throw new Error(`expected the call to fail; it resolved with ${inspect(outcome.value, { depth: 3 })}`)
  const { error } = outcome
  if (!(error instanceof RpcError) || !isRpcError(error)) {
    throw new Error(`expected an RpcError; the call rejected with ${inspect(error, { depth: 3 })}`)
  }
  return error
}
