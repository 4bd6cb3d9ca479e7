import { readFileSync } from 'node:fs'
import { STATUS_CODES, get as httpGet, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { get as httpsGet, type Server as HttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { expect, it, onTestFinished } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { z } from 'zod'
import { createRpcClient, type RpcClient } from '@wirecall/client'
import { createRpcServer, initRpc, PROTOCOL, type RpcServer } from '@wirecall/server'
import { tryUpgrade, waitUntil, within, type UpgradeOutcome } from '../helpers/harness'

/**
 * The checks every framework test runs once it holds the framework's Node
 * server. Getting that server (and closing it) is the framework's part, in
 * its own test file; everything after it is the same for every framework,
 * because wirecall only ever sees an `http.Server` or `https.Server`.
 *
 * The mounting code here (`createRpcServer`, `attach`, the upgrade
 * dispatcher and `refuseUpgrade`) is the code of docs/frameworks/*.md, line
 * for line: {@link expectDocRunsHere} fails when a line of a page is in
 * neither this file nor the framework's test file.
 */

// ---------------------------------------------------------------------------
// The app every framework serves

const t = initRpc.create()

/** One query and one finite subscription: enough to show calls and streams cross the framework's port. */
export const appRouter = t.router({
  greet: t.procedure.input(z.object({ name: z.string() })).query(({ input }) => `Hello, ${input.name}!`),
  countdown: t.procedure.input(z.object({ from: z.number().int().min(0).max(100) })).subscription(async function* ({ input }) {
    for (let n = input.from; n > 0; n--) yield n
  }),
})
export type AppRouter = typeof appRouter

/** An upgrade on an unknown path must be answered within this, never left hanging. */
export const REFUSAL_DEADLINE_MS = 1_000

// ---------------------------------------------------------------------------
// What a framework test provides

/** A framework's Node server, listening on 127.0.0.1, serving `GET /health` with `ok`. */
export interface FrameworkServer {
  /** What wirecall is mounted on. */
  httpServer: HttpServer | HttpsServer
  /** `http://127.0.0.1:port` or `https://127.0.0.1:port` */
  origin: string
  /** The framework's own shutdown (after wirecall's). */
  close(): Promise<void>
}

/** How the test reaches the server: plain, or TLS with the test's own CA. */
export interface Transport {
  /** The WebSocket class the wirecall client and the plain `ws` clients use. */
  WebSocket: WebSocketClass
  /** A GET without keep-alive (so nothing holds the server open). */
  get(url: string): Promise<HttpReply>
  /** Attempts an upgrade; rejects on a network error or when nothing happened within `timeoutMs`. */
  tryUpgrade(url: string, protocols: string | string[], timeoutMs: number): Promise<UpgradeOutcome>
}

/** `WebSocket` from `ws`, or a subclass that adds options (TLS). */
export type WebSocketClass = new (url: string, protocols?: string | string[]) => WebSocket

/** A plain HTTP reply. */
export interface HttpReply {
  status: number
  contentType: string | undefined
  body: string
}

/** ws:// and http://: the harness's `tryUpgrade`. */
export const plainTransport: Transport = {
  WebSocket,
  get: (url) => getWith(url, {}),
  tryUpgrade: (url, protocols, timeoutMs) => tryUpgrade(url, protocols, { timeoutMs }),
}

/**
 * wss:// and https:// against a server whose certificate is signed by `ca`
 * (the test's own self-signed one). The client gets a `ws` subclass that
 * passes `{ ca }`, exactly what docs/frameworks/https.md shows.
 */
export function tlsTransport(ca: string): Transport {
  class TlsWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca })
    }
  }
  return {
    WebSocket: TlsWebSocket,
    get: (url) => getWith(url, { ca }),
    tryUpgrade: (url, protocols, timeoutMs) => tryUpgrade(url, protocols, { timeoutMs, ca }),
  }
}

function getWith(url: string, tls: { ca?: string }): Promise<HttpReply> {
  return within(
    new Promise<HttpReply>((resolve, reject) => {
      const done = (res: IncomingMessage) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }))
        res.on('error', reject)
      }
      const req = url.startsWith('https:') ? httpsGet(url, { agent: false, ...tls }, done) : httpGet(url, { agent: false }, done)
      req.on('error', reject)
    }),
    `GET ${url}`,
  )
}


// ---------------------------------------------------------------------------
// The mounting code of the docs

/**
 * Answers an upgrade that nobody serves, so the client fails at once
 * instead of waiting for a handshake that never comes.
 */
function refuseUpgrade(socket: Duplex, status: number): void {
  socket.on('error', () => {}) // Node removed its own listener at the upgrade: a reset now would crash the process
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
}

/** wirecall alone on the framework's server: `attach()`, which also refuses unknown paths. */
function mountAlone(httpServer: HttpServer | HttpsServer): RpcServer {
  const rpc = createRpcServer({ router: appRouter })
  rpc.attach(httpServer, { path: '/rpc' })
  return rpc
}

/**
 * wirecall beside a second, unrelated `ws` server: one `upgrade` listener
 * routes by path, and refuses the paths it does not know.
 */
function mountBeside(httpServer: HttpServer | HttpsServer): { rpc: RpcServer; other: WebSocketServer } {
  const rpc = createRpcServer({ router: appRouter })
  const other = new WebSocketServer({ noServer: true })
  other.on('connection', (ws) => ws.on('message', (data) => ws.send(`echo:${String(data)}`)))

  httpServer.on('upgrade', (req, socket, head) => {
    const path = req.url?.split('?', 1)[0]
    if (path === '/rpc') rpc.handleUpgrade(req, socket, head)
    else if (path === '/other') other.handleUpgrade(req, socket, head, (ws) => other.emit('connection', ws, req))
    else refuseUpgrade(socket, 404)
  })
  return { rpc, other }
}

/**
 * The docs' shutdown. wirecall goes first: `httpServer.close()` waits for
 * every open socket, WebSockets included, and would wait for the clients.
 */
export async function shutDown(rpc: RpcServer, httpServer: HttpServer | HttpsServer): Promise<void> {
  await rpc.close()
  httpServer.close()
}

// ---------------------------------------------------------------------------
// Teardown and checks

/** Closes `rpc` after the test, and fails it if a connection was left behind. */
function closeAfter(rpc: RpcServer): void {
  onTestFinished(async () => {
    await within(rpc.close(), 'rpc.close()')
    if (rpc.connectionCount !== 0) throw new Error(`wirecall leaked ${rpc.connectionCount} connections`)
  })
}

/** Terminates the other server's sockets after the test (`close()` leaves them open since ws 8). */
function closeOtherAfter(other: WebSocketServer): void {
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of other.clients) ws.terminate()
        other.close(() => resolve())
      }),
  )
}

/**
 * Starts the framework and closes it after the test (registered first, so it
 * is closed last, after wirecall). Sockets still open by then (an upgrade a
 * failed test left hanging) are destroyed first, so that a failure cannot
 * also hang the teardown: `server.close()` waits for every socket, and
 * upgraded ones are beyond `closeAllConnections()`.
 */
export async function startFramework(start: () => Promise<FrameworkServer>): Promise<FrameworkServer> {
  const framework = await within(start(), 'the framework to listen')
  const sockets = new Set<Socket>()
  framework.httpServer.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy()
    await within(framework.close(), "the framework's close()")
  })
  return framework
}

/**
 * Resolves with `http(s)://127.0.0.1:port` once `server` listens: Express,
 * Koa and Hono call `listen()` inside their own functions and return at once.
 */
export async function listening(server: HttpServer | HttpsServer, scheme: 'http' | 'https' = 'http'): Promise<string> {
  if (!server.listening) {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', () => {
        server.off('error', reject)
        resolve()
      })
      server.once('error', reject)
    })
  }
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Closes a Node http(s) server, keep-alive sockets included, as the frameworks without a close() of their own need. */
export function closeHttpServer(server: HttpServer | HttpsServer): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

function wsUrl(origin: string, path: string): string {
  return `${origin.replace(/^http/, 'ws')}${path}`
}

/** A typed client makes a call and runs a subscription to its end. */
async function expectRpcWorks(transport: Transport, url: string, options: { reconnect?: false } = {}): Promise<RpcClient<AppRouter>> {
  const api = createRpcClient<AppRouter>({ url, WebSocket: transport.WebSocket, ...options })
  onTestFinished(() => api.$connection.close())
  expect(await within(api.greet.query({ name: 'Ada' }), 'a call over /rpc')).toBe('Hello, Ada!')
  const seen: number[] = []
  await within(
    (async () => {
      for await (const n of api.countdown.subscribe({ from: 3 })) seen.push(n)
    })(),
    'a subscription over /rpc to complete',
  )
  expect(seen).toEqual([3, 2, 1])
  return api
}

/** An upgrade on an unknown path gets a 404 within {@link REFUSAL_DEADLINE_MS}. */
async function expectRefused(transport: Transport, url: string): Promise<void> {
  const startedAt = Date.now()
  expect(await transport.tryUpgrade(url, PROTOCOL, REFUSAL_DEADLINE_MS)).toMatchObject({ opened: false, status: 404 })
  expect(Date.now() - startedAt).toBeLessThan(REFUSAL_DEADLINE_MS)
}

/** A plain `ws` client sends `text` on `url` and resolves with the first reply. */
async function echoOnce(transport: Transport, url: string, text: string): Promise<string> {
  const ws = new transport.WebSocket(url)
  ws.on('error', () => {})
  onTestFinished(() => {
    ws.terminate()
  })
  const reply = new Promise<string>((resolve, reject) => {
    ws.once('message', (data) => resolve(String(data)))
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
  })
  ws.once('open', () => ws.send(text))
  const result = await within(reply, `an echo from ${url}`)
  ws.close()
  return result
}

// ---------------------------------------------------------------------------
// The scenarios

/** Options of {@link mountingScenarios}. */
export interface ScenarioOptions {
  /** How the test reaches the server. @default plainTransport */
  transport?: Transport
  /** Checks of the framework's other routes (Express's static page), run beside `/health`. */
  alsoServes?: (transport: Transport, origin: string) => Promise<void>
}

/**
 * Registers the three tests every framework passes:
 *
 * 1. `attach()` alone: the framework serves its routes and wirecall serves
 *    `/rpc` on the same port; an unknown path is refused with 404 (which
 *    also proves the framework added no `upgrade` listener of its own);
 *    `rpc.close()` detaches and the framework keeps serving, then shuts down.
 * 2. Beside a second `ws` server on `/other`, routed by one `upgrade`
 *    listener: both endpoints work, an unknown path is refused with 404, and
 *    after `rpc.close()` the framework and `/other` carry on while `/rpc`
 *    answers 503.
 * 3. Shutting down with a client connected, as the docs show: `rpc.close()`
 *    and then the server's `close()`, which then completes at once.
 */
export function mountingScenarios(start: () => Promise<FrameworkServer>, options: ScenarioOptions = {}): void {
  const { transport = plainTransport, alsoServes = async () => {} } = options
  const expectHttpRoutes = async (origin: string) => {
    expect(await transport.get(`${origin}/health`)).toMatchObject({ status: 200, body: 'ok' })
    // A plain GET on /rpc is the framework's to answer (its 404), not wirecall's.
    expect((await transport.get(`${origin}/rpc`)).status).toBe(404)
    await alsoServes(transport, origin)
  }

  it('attach(): its routes and /rpc on one port, unknown paths refused, close() leaves it serving', async () => {
    const { httpServer, origin } = await startFramework(start)
    const rpc = mountAlone(httpServer)
    closeAfter(rpc)

    await expectRpcWorks(transport, wsUrl(origin, '/rpc'))
    expect(rpc.connectionCount).toBe(1)
    await expectHttpRoutes(origin)
    await expectRefused(transport, wsUrl(origin, '/nope'))
    await expectRefused(transport, wsUrl(origin, '/rpc/extra'))

    await within(rpc.close(), 'rpc.close()')
    expect(rpc.connectionCount).toBe(0)
    expect(httpServer.listenerCount('upgrade')).toBe(0)
    expect(await transport.get(`${origin}/health`)).toMatchObject({ status: 200, body: 'ok' })
    expect((await transport.tryUpgrade(wsUrl(origin, '/rpc'), PROTOCOL, REFUSAL_DEADLINE_MS)).opened).toBe(false)
  })

  it('beside another ws server on /other: one upgrade listener routes both and refuses the rest', async () => {
    const { httpServer, origin } = await startFramework(start)
    const { rpc, other } = mountBeside(httpServer)
    closeAfter(rpc)
    closeOtherAfter(other)

    const [, echoed] = await Promise.all([
      expectRpcWorks(transport, wsUrl(origin, '/rpc')),
      echoOnce(transport, wsUrl(origin, '/other'), 'hi'),
    ])
    expect(echoed).toBe('echo:hi')
    expect(rpc.connectionCount).toBe(1) // the other server's sockets are not wirecall's
    await expectHttpRoutes(origin)
    await expectRefused(transport, wsUrl(origin, '/nope'))
    await expectRefused(transport, wsUrl(origin, '/other/extra'))

    await within(rpc.close(), 'rpc.close()')
    expect(await transport.get(`${origin}/health`)).toMatchObject({ status: 200, body: 'ok' })
    expect(await echoOnce(transport, wsUrl(origin, '/other'), 'after')).toBe('echo:after')
    expect(await transport.tryUpgrade(wsUrl(origin, '/rpc'), PROTOCOL, REFUSAL_DEADLINE_MS)).toMatchObject({ opened: false, status: 503 })
    await expectRefused(transport, wsUrl(origin, '/nope'))
  })

  it('shutting down with a client connected: rpc.close(), then the server closes at once', async () => {
    const { httpServer, origin } = await startFramework(start)
    const rpc = mountAlone(httpServer)
    closeAfter(rpc)
    const api = await expectRpcWorks(transport, wsUrl(origin, '/rpc'), { reconnect: false })
    const closes: number[] = []
    api.$connection.on('close', ({ code }) => closes.push(code))
    const httpClosed = new Promise<void>((resolve) => httpServer.once('close', () => resolve()))

    await within(shutDown(rpc, httpServer), 'the shutdown')
    await within(httpClosed, 'the http server to close')
    await waitUntil(() => closes.length === 1, "the client's close event")
    expect(closes).toEqual([1001])
  })
}

// ---------------------------------------------------------------------------
// The docs and the tests stay in step

/** Lines of the pages that the tests write differently: the port and host, the placeholders. */
const notRunHere: RegExp[] = [
  /\.listen\(/, // port 0 on 127.0.0.1 in the tests
  /\bport: 3000\b/,
  /^process\.on\(/, // signal handlers: the tests call the same close() directly
  /^}\)$/, // the end of a handler whose first line was skipped
]

const normalise = (line: string) =>
  line
    .replace(/\s+\/\/ .*$/, '') // a trailing comment
    .trim()
    .replace(/^export (?=const|function|async function|type)/, '')

/**
 * Every line of every TypeScript snippet of `docs/frameworks/<page>` is in
 * this file or in the test file at `testFile`, so a page cannot show code
 * that the tests do not run (imports, comments and the patterns in
 * `notRunHere` and `alsoSkip` aside).
 */
export function expectDocRunsHere(page: string, testFile: string, alsoSkip: RegExp[] = []): void {
  const doc = readFileSync(new URL(`../../docs/frameworks/${page}`, import.meta.url), 'utf8')
  const here = new Set(
    [readFileSync(new URL(import.meta.url), 'utf8'), readFileSync(new URL(testFile), 'utf8')].flatMap((text) => text.split('\n').map(normalise)),
  )
  const snippets = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)
  expect(snippets.length).toBeGreaterThan(0)
  const missing: string[] = []
  for (const snippet of snippets) {
    for (const raw of snippet.split('\n')) {
      const line = normalise(raw)
      if (line === '' || line.startsWith('//') || line.startsWith('import ')) continue
      if ([...notRunHere, ...alsoSkip].some((pattern) => pattern.test(line))) continue
      if (!here.has(line)) missing.push(line)
    }
  }
  expect(missing).toEqual([])
}
