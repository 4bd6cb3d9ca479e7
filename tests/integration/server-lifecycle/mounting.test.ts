import type { IncomingMessage, RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { z } from 'zod'
import { initRpc, isRpcError, PROTOCOL, type RpcError } from '@wirecall/core'
import { createRpcServer, type RpcServer } from '@wirecall/server'
import {
  connectClient,
  rawPeer,
  startHttpServer,
  startServer,
  tryUpgrade,
  waitUntil,
  within,
  type TestHttpServer,
} from '../../helpers/harness'

/**
 * Mounting: `attach()` on an existing http server beside plain routes and
 * other WebSocket servers, `handleUpgrade()` and `handleConnection()` for
 * those who route upgrades themselves, the standalone `listen()`, and a
 * graceful `close()` that detaches and refuses what comes after it.
 */

const rpc = initRpc.create()
const started: AbortSignal[] = []
const router = rpc.router({
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
  hang: rpc.procedure.query(
    ({ signal }) =>
      new Promise<string>((_resolve, reject) => {
        started.push(signal)
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      }),
  ),
})
type R = typeof router

/** Plain routes of the "existing app" that wirecall is mounted beside. */
const app: RequestListener = (req, res) => {
  if (req.url === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok')
    return
  }
  if (req.url === '/api/hello' && req.method === 'POST') {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => (body += chunk))
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ hello: body })))
    return
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found')
}

/** A wirecall server created by hand (not through `startServer`), closed and checked after the test. */
function ownRpcServer(): RpcServer {
  const server = createRpcServer({ router })
  onTestFinished(async () => {
    await server.close()
    if (server.connectionCount !== 0) throw new Error(`server leaked ${server.connectionCount} connections`)
  })
  return server
}

/** A `ws` server in noServer mode answering `echo:<text>` on `path`, via its own 'upgrade' listener. */
function mountOtherWsServer(http: TestHttpServer, path: string): void {
  const other = new WebSocketServer({ noServer: true })
  const sockets = new Set<WebSocket>()
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate()
        other.close(() => resolve())
      }),
  )
  http.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url !== path) return // not ours: someone else's
    other.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws)
      ws.on('close', () => sockets.delete(ws))
      ws.on('message', (data) => ws.send(`echo:${String(data)}`))
    })
  })
}

/** Opens a plain `ws` client on `url`, sends `text`, resolves with the first reply. */
async function plainEcho(url: string, text: string): Promise<string> {
  const ws = new WebSocket(url)
  onTestFinished(() => {
    ws.terminate()
  })
  ws.on('error', () => {})
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

async function get(url: string): Promise<{ status: number; text: string; upgrade: string | null }> {
  const res = await within(fetch(url), `GET ${url}`)
  return { status: res.status, text: await res.text(), upgrade: res.headers.get('upgrade') }
}

describe('attach()', () => {
  it('mounts on an existing http server whose plain routes keep answering', async () => {
    const http = await startHttpServer(app)
    const rpcServer = ownRpcServer()
    rpcServer.attach(http.server, { path: '/rpc' })

    const api = connectClient<R>(http.wsUrl('/rpc'))
    expect(await api.echo.query('over rpc')).toBe('over rpc')
    expect(rpcServer.connectionCount).toBe(1)
    // A query string does not change the path.
    const withQuery = connectClient<R>(http.wsUrl('/rpc?client=2'))
    expect(await withQuery.echo.query('also')).toBe('also')

    expect(await get(`${http.httpUrl}/health`)).toMatchObject({ status: 200, text: 'ok' })
    const posted = await within(fetch(`${http.httpUrl}/api/hello`, { method: 'POST', body: 'world' }), 'POST /api/hello')
    expect(await posted.json()).toEqual({ hello: 'world' })
    // A plain GET on the rpc path is the app's business, not wirecall's.
    expect(await get(`${http.httpUrl}/rpc`)).toMatchObject({ status: 404, text: 'not found' })
    expect(await api.echo.query('still')).toBe('still')
  })

  it.each(['wirecall attached first', 'other ws server first'] as const)(
    'works side by side with a second ws server on another path (%s)',
    async (order) => {
      const http = await startHttpServer(app)
      const rpcServer = ownRpcServer()
      if (order === 'wirecall attached first') {
        rpcServer.attach(http.server, { path: '/rpc' })
        mountOtherWsServer(http, '/other')
      } else {
        mountOtherWsServer(http, '/other')
        rpcServer.attach(http.server, { path: '/rpc' })
      }

      const api = connectClient<R>(http.wsUrl('/rpc'))
      const [viaRpc, viaOther] = await Promise.all([api.echo.query('rpc'), plainEcho(http.wsUrl('/other'), 'hi')])
      expect(viaRpc).toBe('rpc')
      expect(viaOther).toBe('echo:hi')
      expect(await plainEcho(http.wsUrl('/other'), 'again')).toBe('echo:again')
      expect(rpcServer.connectionCount).toBe(1) // the other server's sockets are not wirecall's
      expect(await api.echo.query('rpc again')).toBe('rpc again')
      expect(await get(`${http.httpUrl}/health`)).toMatchObject({ status: 200, text: 'ok' })
    },
  )

  it('refuses an upgrade on an unknown path promptly with 404 when no other listener takes it', async () => {
    const http = await startHttpServer(app)
    const rpcServer = ownRpcServer()
    rpcServer.attach(http.server, { path: '/rpc' })
    const startedAt = Date.now()
    expect(await tryUpgrade(http.wsUrl('/nope'), PROTOCOL)).toMatchObject({ opened: false, status: 404 })
    expect(await tryUpgrade(http.wsUrl('/rpc/extra'), PROTOCOL)).toMatchObject({ opened: false, status: 404 })
    expect(Date.now() - startedAt).toBeLessThan(2_000)
    expect(rpcServer.connectionCount).toBe(0)
    // The rpc path itself still refuses a missing subprotocol with 400.
    expect(await tryUpgrade(http.wsUrl('/rpc'))).toMatchObject({ opened: false, status: 400 })
  })

  it('several wirecall servers share one http server and still refuse unknown paths, once', async () => {
    const http = await startHttpServer(app)
    const a = ownRpcServer()
    const b = ownRpcServer()
    a.attach(http.server, { path: '/a' })
    b.attach(http.server, { path: '/b' })
    expect(() => b.attach(http.server, { path: '/a' })).toThrow(/already attached at "\/a"/)
    const apiA = connectClient<R>(http.wsUrl('/a'))
    const apiB = connectClient<R>(http.wsUrl('/b'))
    expect(await apiA.echo.query('to a')).toBe('to a')
    expect(await apiB.echo.query('to b')).toBe('to b')
    expect([a.connectionCount, b.connectionCount]).toEqual([1, 1])
    const startedAt = Date.now()
    expect(await tryUpgrade(http.wsUrl('/c'), PROTOCOL)).toMatchObject({ opened: false, status: 404, body: 'no WebSocket endpoint at this path\n' })
    expect(Date.now() - startedAt).toBeLessThan(2_000)
    // After one detaches, the other still answers and refuses alone.
    await a.close()
    expect(await tryUpgrade(http.wsUrl('/a'), PROTOCOL)).toMatchObject({ opened: false, status: 404 })
    expect(await apiB.echo.query('still b')).toBe('still b')
  })

  it('listen() refuses upgrades on other paths with 404', async () => {
    const { url, port } = await startServer({ router }, '/rpc')
    expect(await tryUpgrade(`ws://127.0.0.1:${port}/elsewhere`, PROTOCOL)).toMatchObject({ opened: false, status: 404 })
    expect(await tryUpgrade(url, PROTOCOL)).toEqual({ opened: true, protocol: PROTOCOL })
  })
})

describe('routing upgrades yourself', () => {
  it('handleUpgrade() completes an upgrade from your own upgrade listener', async () => {
    const http = await startHttpServer(app)
    const rpcServer = ownRpcServer()
    http.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url === '/mine') return rpcServer.handleUpgrade(req, socket, head)
      socket.destroy()
    })
    const api = connectClient<R>(http.wsUrl('/mine'))
    expect(await api.echo.query('routed by hand')).toBe('routed by hand')
    expect(rpcServer.connectionCount).toBe(1)
    // It checks the subprotocol itself.
    expect(await tryUpgrade(http.wsUrl('/mine'), 'graphql-ws')).toMatchObject({ opened: false, status: 400 })
  })

  it('handleConnection() serves sockets from a ws server you created', async () => {
    const rpcServer = ownRpcServer()
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false),
    })
    onTestFinished(() => new Promise<void>((resolve) => wss.close(() => resolve())))
    await within(new Promise<void>((resolve) => wss.once('listening', () => resolve())), 'the ws server to listen')
    wss.on('connection', (ws, req) => rpcServer.handleConnection(ws, req))
    const { port } = wss.address() as AddressInfo

    const api = connectClient<R>(`ws://127.0.0.1:${port}/anything`)
    expect(await api.echo.query('handed over')).toBe('handed over')
    expect(rpcServer.connectionCount).toBe(1)
    await api.$connection.close()
    await waitUntil(() => rpcServer.connectionCount === 0, 'the connection to be released')
  })

  it('handleConnection() closes a socket that did not negotiate wirecall.v1 with 4400', async () => {
    const rpcServer = ownRpcServer()
    // No handleProtocols: `ws` picks the first subprotocol the client offers.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    onTestFinished(() => new Promise<void>((resolve) => wss.close(() => resolve())))
    await within(new Promise<void>((resolve) => wss.once('listening', () => resolve())), 'the ws server to listen')
    wss.on('connection', (ws, req) => rpcServer.handleConnection(ws, req))
    const { port } = wss.address() as AddressInfo

    const peer = await rawPeer(`ws://127.0.0.1:${port}/`, 'graphql-ws')
    expect((await within(peer.closed, 'the server to close the peer')).code).toBe(4400)
    await waitUntil(() => rpcServer.connectionCount === 0, 'the connection to be released')
  })
})

describe('listen()', () => {
  it('returns a usable url and answers plain HTTP GETs with 426', async () => {
    const { url, port, server } = await startServer({ router }, '/rpc')
    expect(url).toBe(`ws://127.0.0.1:${port}/rpc`)
    const api = connectClient<R>(url)
    expect(await api.echo.query('standalone')).toBe('standalone')
    expect(server.connectionCount).toBe(1)

    const plain = await get(`http://127.0.0.1:${port}/rpc`)
    expect(plain.status).toBe(426)
    expect(plain.upgrade?.toLowerCase()).toBe('websocket')
    expect(plain.text).toContain(PROTOCOL)
  })
})

describe('close()', () => {
  it('closes clients with 1001, aborts calls in flight, detaches from the http server, and resolves (twice too)', async () => {
    const http = await startHttpServer(app)
    const rpcServer = ownRpcServer()
    rpcServer.attach(http.server, { path: '/rpc' })
    expect(http.server.listenerCount('upgrade')).toBe(1)

    const peer = await rawPeer(http.wsUrl('/rpc'))
    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')
    // No reconnect, so the query in flight rejects instead of waiting to be re-sent.
    const api = connectClient<R>(http.wsUrl('/rpc'), { reconnect: false })
    const closes: number[] = []
    api.$connection.on('close', ({ code }) => closes.push(code))
    expect(await api.echo.query('before')).toBe('before')
    const before = started.length
    const pending = api.hang.query().then(
      () => undefined,
      (e: unknown) => e,
    )
    await waitUntil(() => started.length === before + 1, 'the hanging call to start')
    const signal = started[before]!
    expect(rpcServer.connectionCount).toBe(2)

    const first = rpcServer.close()
    const second = rpcServer.close()
    await within(Promise.all([first, second]), 'close() to resolve')
    await within(rpcServer.close(), 'a third close() to resolve')

    expect((await within(peer.closed, 'the raw peer to be closed')).code).toBe(1001)
    await waitUntil(() => closes.length === 1, "the client's close event")
    expect(closes).toEqual([1001])
    const error = await within(pending, 'the pending call to settle')
    expect(isRpcError(error)).toBe(true)
    expect((error as RpcError).code).toBe('CONNECTION_LOST')
    expect(signal.aborted).toBe(true)
    expect(rpcServer.connectionCount).toBe(0)

    // Detached: the app keeps serving, the rpc path no longer upgrades.
    expect(http.server.listenerCount('upgrade')).toBe(0)
    expect(http.server.listening).toBe(true)
    expect(await get(`${http.httpUrl}/health`)).toMatchObject({ status: 200, text: 'ok' })
    expect((await tryUpgrade(http.wsUrl('/rpc'), PROTOCOL)).opened).toBe(false)
  })

  it('leaves other upgrade listeners on the http server in place', async () => {
    const http = await startHttpServer(app)
    const rpcServer = ownRpcServer()
    rpcServer.attach(http.server, { path: '/rpc' })
    mountOtherWsServer(http, '/other')
    await within(rpcServer.close(), 'close() to resolve')
    expect(http.server.listenerCount('upgrade')).toBe(1)
    expect(await plainEcho(http.wsUrl('/other'), 'after')).toBe('echo:after')
  })

  it('refuses new upgrades and connections after close', async () => {
    // Standalone: the port is closed.
    const standalone = ownRpcServer()
    const { url } = await standalone.listen({ port: 0, host: '127.0.0.1', path: '/rpc' })
    await within(standalone.close(), 'close() to resolve')
    await expect(tryUpgrade(url, PROTOCOL)).rejects.toThrow(/ECONNREFUSED/)

    // Routed by hand: handleUpgrade() answers 503, handleConnection() closes with 1001.
    const http = await startHttpServer(app)
    const routed = ownRpcServer()
    http.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => routed.handleUpgrade(req, socket, head))
    const api = connectClient<R>(http.wsUrl('/rpc'))
    expect(await api.echo.query('before')).toBe('before')
    await within(routed.close(), 'close() to resolve')
    expect(await tryUpgrade(http.wsUrl('/rpc'), PROTOCOL)).toMatchObject({ opened: false, status: 503 })

    const handed = ownRpcServer()
    await within(handed.close(), 'close() to resolve')
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => PROTOCOL })
    onTestFinished(() => new Promise<void>((resolve) => wss.close(() => resolve())))
    await within(new Promise<void>((resolve) => wss.once('listening', () => resolve())), 'the ws server to listen')
    wss.on('connection', (ws, req) => handed.handleConnection(ws, req))
    const peer = await rawPeer(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`)
    expect((await within(peer.closed, 'the late socket to be closed')).code).toBe(1001)
    expect(handed.connectionCount).toBe(0)
  })
})
