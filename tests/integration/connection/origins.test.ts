import type { IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { z } from 'zod'
import { CloseCode, initRpc, PROTOCOL } from '@wirecall/core'
import type { RpcClientOptions } from '@wirecall/client'
import { createRpcServer, type ErrorHandlerOptions, type RpcServer, type RpcServerOptions, type RpcSocket } from '@wirecall/server'
import { connectClient, rpcErrorOf, sleep, startHttpServer, upgradeRequest, waitUntil, within } from '../../helpers/harness'
import { failOnEscapedErrors } from '../../helpers/invariants'

/**
 * `allowedOrigins` and `requireOrigin`, on real sockets over 127.0.0.1. A
 * request without `Origin` is not a browser's, so a list lets it in; an
 * origin that is refused gets the WebSocket, closed at once with 4403, so
 * that the client can read why and stop with `FORBIDDEN` (an HTTP 403 would
 * reach a WHATWG WebSocket as a bare 1006, retried for ever). Each refusal
 * reaches `onError` once, and costs the server nothing past the close: no
 * session, no `createContext`.
 */

const good = 'https://app.example'
const evil = 'https://evil.example'

const rpc = initRpc.create()
const router = rpc.router({
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
})
type R = typeof router

/** A server attached to an http server of the test's own, which counts every upgrade request that reaches it. */
async function serve(options: Partial<Omit<RpcServerOptions<R>, 'router'>> = {}) {
  failOnEscapedErrors()
  const http = await startHttpServer()
  const reports: ErrorHandlerOptions[] = []
  let contexts = 0
  const server = createRpcServer<R>({
    router,
    keepAlive: false,
    createContext: () => (contexts++, {}),
    onError: (report) => void reports.push(report),
    ...options,
  })
  onTestFinished(() => server.close())
  let upgrades = 0
  http.server.on('upgrade', () => upgrades++)
  server.attach(http.server, { path: '/rpc' })
  return {
    server,
    url: http.wsUrl('/rpc'),
    port: http.port,
    reports,
    get upgrades() {
      return upgrades
    },
    get contexts() {
      return contexts
    },
  }
}

/** A `ws` WebSocket class that sends `origin` as its Origin header, as a browser page on that origin would. */
function webSocketWithOrigin(origin: string): NonNullable<RpcClientOptions['WebSocket']> {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { origin })
    }
  } as unknown as NonNullable<RpcClientOptions['WebSocket']>
}

/**
 * A peer on raw TCP: sends an upgrade request from `origin` and, unless
 * told not to wait, waits for the 101; then reads nothing and answers
 * nothing, unless the test does.
 */
async function rawUpgrade(port: number, origin: string, waitFor101 = true): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  onTestFinished(() => void socket.destroy())
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  socket.write(upgradeRequest('/rpc', { Origin: origin }))
  if (waitFor101) await new Promise((resolve) => socket.once('data', resolve))
  return socket
}

/** What `onError` was told, in short. */
const summary = (r: ErrorHandlerOptions) => ({ code: r.error.code, closeCode: r.closeCode, message: r.error.message, path: r.path, ctx: r.ctx })

describe('a Node client (no Origin header)', () => {
  it('connects and calls when allowedOrigins is a list', async () => {
    const s = await serve({ allowedOrigins: [good] })
    const api = connectClient<R>(s.url) // `ws` sends no Origin unless told to
    await expect(within(api.echo.query('from node'), 'the call')).resolves.toBe('from node')
    expect(api.$connection.state).toBe('open')
    expect(s.reports).toEqual([])
  })

  it('is refused with requireOrigin: the client ends closed with FORBIDDEN within a second, and never tries again', async () => {
    const s = await serve({ allowedOrigins: [good], requireOrigin: true })
    const startedAt = Date.now()
    const api = connectClient<R>(s.url, { reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
    const error = await rpcErrorOf(api.echo.query('refused'))
    expect(Date.now() - startedAt).toBeLessThan(1_000)
    expect(error.code).toBe('FORBIDDEN')
    expect(error.data).toEqual({ closeCode: 4403, closeReason: 'Origin header required' })
    expect(api.$connection.state).toBe('closed')
    expect(api.$connection.error?.code).toBe('FORBIDDEN')
    // A later call fails at once, without dialling again.
    expect((await rpcErrorOf(api.echo.query('later'))).code).toBe('FORBIDDEN')
    await sleep(300) // far longer than the client's backoff: a reconnect would have happened by now
    expect(s.upgrades).toBe(1)
    expect(s.reports.map(summary)).toEqual([
      { code: 'FORBIDDEN', closeCode: 4403, message: 'connection closed with 4403: Origin header required', path: undefined, ctx: undefined },
    ])
    expect(s.contexts).toBe(0)
    expect(s.server.stats().connections).toBe(0)
  })

  it('reaches a predicate as undefined, which decides itself', async () => {
    const seen: (string | undefined)[] = []
    const s = await serve({
      allowedOrigins: (origin, req) => {
        seen.push(origin)
        expect(req.headers.upgrade?.toLowerCase()).toBe('websocket')
        return origin === good
      },
    })
    const api = connectClient<R>(s.url)
    expect((await rpcErrorOf(api.echo.query('refused'))).code).toBe('FORBIDDEN')
    expect(seen).toEqual([undefined])
    expect(s.reports.map((r) => [r.error.code, r.closeCode, r.error.data])).toEqual([['FORBIDDEN', 4403, { closeCode: 4403, closeReason: 'origin not allowed' }]])
  })
})

describe('a browser page (Origin header)', () => {
  it('from a listed origin connects and calls', async () => {
    const s = await serve({ allowedOrigins: [good], requireOrigin: true })
    const api = connectClient<R>(s.url, { WebSocket: webSocketWithOrigin(good) })
    await expect(within(api.echo.query('hello'), 'the call')).resolves.toBe('hello')
    expect(s.reports).toEqual([])
  })

  it.each([evil, 'https://app.example.evil.example', 'http://app.example'])(
    'from %s gets 4403: its calls reject with FORBIDDEN at once, and the client stops',
    async (origin) => {
      const s = await serve({ allowedOrigins: [good] })
      const startedAt = Date.now()
      const api = connectClient<R>(s.url, { WebSocket: webSocketWithOrigin(origin), reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
      const calls = [api.echo.query('a'), api.echo.query('b')]
      const errors = await Promise.all(calls.map(rpcErrorOf))
      expect(Date.now() - startedAt).toBeLessThan(1_000)
      expect(errors.map((e) => e.code)).toEqual(['FORBIDDEN', 'FORBIDDEN'])
      expect(api.$connection.state).toBe('closed')
      await sleep(300)
      expect(s.upgrades).toBe(1)
      expect(s.reports.map(summary)).toEqual([
        { code: 'FORBIDDEN', closeCode: 4403, message: 'connection closed with 4403: origin not allowed', path: undefined, ctx: undefined },
      ])
      expect(s.reports[0]!.req.headers.origin).toBe(origin)
    },
  )

  it('a refused socket costs only its close: no init is read, no context made, nothing counted', async () => {
    const s = await serve({ allowedOrigins: [good], maxConnections: 1 })
    for (let i = 0; i < 3; i++) {
      // Each opens (the refusal comes after the upgrade) and sends init at once, which is never read.
      const browser = new WebSocket(s.url, PROTOCOL, { origin: evil })
      browser.on('error', () => {})
      onTestFinished(() => browser.terminate())
      browser.once('open', () => browser.send(JSON.stringify({ type: 'init' })))
      const closed = await within(new Promise<[number, string]>((resolve) => browser.once('close', (code, reason) => resolve([code, String(reason)]))), 'the close')
      expect(closed).toEqual([CloseCode.Forbidden, 'origin not allowed'])
    }
    expect(s.contexts).toBe(0)
    expect(s.server.stats().connections).toBe(0)
    // Refused sockets took no place under maxConnections: 1.
    const api = connectClient<R>(s.url, { WebSocket: webSocketWithOrigin(good) })
    await expect(within(api.echo.query('still serving'), 'a listed client')).resolves.toBe('still serving')
    expect(s.reports.map((r) => r.closeCode)).toEqual([4403, 4403, 4403])
  })

  it('asks a predicate once per upgrade; one that throws refuses, and onError gets what it threw', async () => {
    const seen: (string | undefined)[] = []
    const boom = new Error('the origin registry is down')
    const s = await serve({
      allowedOrigins: (origin) => {
        seen.push(origin)
        if (origin === 'https://boom.example') throw boom
        return origin === good
      },
    })
    for (const origin of [good, evil, 'https://boom.example']) {
      const ws = new WebSocket(s.url, PROTOCOL, { origin })
      ws.on('error', () => {})
      onTestFinished(() => ws.terminate())
      if (origin === good) {
        await new Promise<void>((resolve) => ws.once('open', () => resolve()))
        ws.close()
      }
      await new Promise<void>((resolve) => ws.once('close', () => resolve()))
    }
    expect(seen).toEqual([good, evil, 'https://boom.example'])
    expect(s.reports.map((r) => [r.error.code, r.closeCode, r.error.cause])).toEqual([
      ['FORBIDDEN', 4403, undefined],
      ['FORBIDDEN', 4403, boom],
    ])
  })

  it('cuts off a refused peer that never answers the close after a second, not ws\u2019s 30', async () => {
    const s = await serve({ allowedOrigins: [good] })
    const socket = await rawUpgrade(s.port, evil)
    const startedAt = Date.now()
    await within(new Promise((resolve) => socket.once('close', resolve)), 'the server to cut the socket off', 5_000)
    expect(Date.now() - startedAt).toBeLessThan(3_000)
    expect(s.reports.map((r) => r.closeCode)).toEqual([4403])
  })

  it('survives a refused peer that sends a bad frame before it reads the close', async () => {
    const s = await serve({ allowedOrigins: [good] })
    const socket = await rawUpgrade(s.port, evil, false)
    let received = ''
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    // An unmasked client frame, right behind the upgrade request: a protocol error for `ws` on the refused socket.
    socket.write(Buffer.from([0x81, 0x01, 0x20]))
    await waitUntil(() => received.includes('origin not allowed'), 'the 4403 close frame')
    expect(received).toMatch(/^HTTP\/1\.1 101/)
    const api = connectClient<R>(s.url, { WebSocket: webSocketWithOrigin(good) })
    await expect(within(api.echo.query('ok'), 'a listed client')).resolves.toBe('ok')
    // One report, for the origin: the bad frame on a socket already refused is nobody's business.
    expect(s.reports.map((r) => r.closeCode)).toEqual([4403])
  })
})

describe('sockets the server did not upgrade itself', () => {
  /** A server fed through `handleConnection` by an upgrade handler of the app's own. */
  async function serveThroughHandleConnection(options: Partial<Omit<RpcServerOptions<R>, 'router'>>) {
    const http = await startHttpServer()
    const reports: ErrorHandlerOptions[] = []
    const server = createRpcServer<R>({ router, keepAlive: false, onError: (r) => void reports.push(r), ...options })
    onTestFinished(() => server.close())
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has(PROTOCOL) ? PROTOCOL : false) })
    onTestFinished(() => wss.close())
    http.server.on('upgrade', (req: IncomingMessage, socket, head) => {
      socket.on('error', () => {})
      wss.handleUpgrade(req, socket, head, (ws) => server.handleConnection(ws, req))
    })
    return { server, url: http.wsUrl('/'), reports }
  }

  it('handleConnection: a refused origin is closed with 4403, a Node client is served', async () => {
    const s = await serveThroughHandleConnection({ allowedOrigins: [good] })
    const browser = connectClient<R>(s.url, { WebSocket: webSocketWithOrigin(evil) })
    expect((await rpcErrorOf(browser.echo.query('x'))).code).toBe('FORBIDDEN')
    const node = connectClient<R>(s.url)
    await expect(within(node.echo.query('node'), 'the Node client')).resolves.toBe('node')
    expect(s.reports.map((r) => [r.error.code, r.closeCode])).toEqual([['FORBIDDEN', 4403]])
  })

  it('opened(): a socket from a refused origin is closed with 4403 and gets no session', async () => {
    const reports: ErrorHandlerOptions[] = []
    const server: RpcServer = createRpcServer<R>({ router, keepAlive: false, allowedOrigins: [good], requireOrigin: true, onError: (r) => void reports.push(r) })
    onTestFinished(() => server.close())
    const closes: [number, string][] = []
    const socket: RpcSocket = { protocol: PROTOCOL, bufferedAmount: 0, send: () => {}, close: (code, reason) => void closes.push([code, reason]), terminate: () => {} }
    server.opened(socket, { headers: { origin: evil } })
    server.opened(socket, { headers: {} })
    expect(closes).toEqual([
      [4403, 'origin not allowed'],
      [4403, 'Origin header required'],
    ])
    expect(server.stats().connections).toBe(0)
    expect(reports.map((r) => [r.error.code, r.closeCode, r.req.headers.origin])).toEqual([
      ['FORBIDDEN', 4403, evil],
      ['FORBIDDEN', 4403, undefined],
    ])
  })
})
