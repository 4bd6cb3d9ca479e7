import type { IncomingMessage } from 'node:http'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { z } from 'zod'
import { initRpc, PROTOCOL, RpcError } from '@wirecall/core'
import { createRpcServer, type ErrorHandlerOptions, type RpcServer, type RpcServerOptions } from '@wirecall/server'
import { rawPeer, readyPeer, sleep, startHttpServer, tryUpgrade, waitUntil, within, type RawPeer } from '../../helpers/harness'

/**
 * Every connection the server refuses or closes because of the peer or a
 * limit reaches `onError` exactly once, with the cause: an `RpcError`
 * whose code is what the close means to the client, a message naming the
 * cause, and `closeCode` (none for an upgrade refused with plain HTTP).
 * A peer that leaves by itself, and the server's own `close()`, are no
 * error and are not reported.
 */

const rpc = initRpc.create()
const router = rpc.router({
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
  held: rpc.procedure.query(({ signal }) => new Promise<string>((resolve) => signal.addEventListener('abort', () => resolve('aborted')))),
})
type R = typeof router

/** A server of its own, on 127.0.0.1, with what `onError` was told. */
async function serve(options: Partial<Omit<RpcServerOptions<R>, 'router'>> = {}) {
  const http = await startHttpServer()
  const reports: ErrorHandlerOptions[] = []
  const server = createRpcServer<R>({ router, keepAlive: false, onError: (report) => void reports.push(report), ...options } as RpcServerOptions<R>)
  onTestFinished(() => server.close())
  server.attach(http.server, { path: '/rpc' })
  return { server, url: http.wsUrl('/rpc'), reports }
}

/** A raw socket (with `options`: an Origin header...), whatever happens to it: resolves with its close. */
function closeOf(url: string, options: WebSocket.ClientOptions = {}, protocols: string | string[] = PROTOCOL, onOpen?: (ws: WebSocket) => void) {
  const ws = new WebSocket(url, protocols, options)
  ws.on('error', () => {})
  onTestFinished(() => ws.terminate())
  if (onOpen !== undefined) ws.once('open', () => onOpen(ws))
  return within(new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) }))), 'the close')
}

/** Waits for the one report, then a little longer to be sure it stays one. */
async function theReport(reports: ErrorHandlerOptions[]): Promise<ErrorHandlerOptions> {
  await waitUntil(() => reports.length > 0, 'onError')
  await sleep(50)
  expect(reports, 'one report per refused connection').toHaveLength(1)
  return reports[0]!
}

const shape = (r: ErrorHandlerOptions) => ({ code: r.error.code, closeCode: r.closeCode, message: r.error.message, path: r.path, type: r.type })

describe('onError is told of every refused connection, once, with its cause', () => {
  it('an origin allowedOrigins refuses: 4403 FORBIDDEN', async () => {
    const s = await serve({ allowedOrigins: ['https://app.example'] })
    expect(await closeOf(s.url, { origin: 'https://evil.example' })).toEqual({ code: 4403, reason: 'origin not allowed' })
    const report = await theReport(s.reports)
    expect(shape(report)).toEqual({ code: 'FORBIDDEN', closeCode: 4403, message: 'connection closed with 4403: origin not allowed', path: undefined, type: undefined })
    expect(report.error.data).toEqual({ closeCode: 4403, closeReason: 'origin not allowed' })
    expect(report.req.headers.origin).toBe('https://evil.example')
  })

  it('no Origin with requireOrigin: 4403 FORBIDDEN', async () => {
    const s = await serve({ requireOrigin: true })
    expect((await closeOf(s.url)).code).toBe(4403)
    expect(shape(await theReport(s.reports))).toMatchObject({ code: 'FORBIDDEN', closeCode: 4403, message: 'connection closed with 4403: Origin header required' })
  })

  it.each([
    ['maxConnections', { maxConnections: 1 }, /too many connections \(at most 1\)/],
    ['maxConnectionsPerIp', { maxConnectionsPerIp: 1 }, /too many connections from one address \(at most 1\)/],
  ] as const)('over %s: 1013 OVERLOADED', async (_name, options, reason) => {
    const s = await serve(options)
    await readyPeer(s.url)
    const closed = await closeOf(s.url)
    expect(closed.code).toBe(1013)
    const report = await theReport(s.reports)
    expect(report.error.code).toBe('OVERLOADED')
    expect(report.closeCode).toBe(1013)
    expect(report.error.message).toMatch(reason)
  })

  it.each([
    ['an UNAUTHORIZED RpcError', () => new RpcError('UNAUTHORIZED', 'invalid token'), 4401, 'UNAUTHORIZED', 'invalid token'],
    ['a FORBIDDEN RpcError', () => new RpcError('FORBIDDEN', 'suspended'), 4403, 'FORBIDDEN', 'suspended'],
    ['an OVERLOADED RpcError', () => new RpcError('OVERLOADED', 'store down'), 1013, 'OVERLOADED', 'store down'],
    ['a plain Error', () => new Error('db said no'), 4401, 'UNAUTHORIZED', 'Connection refused'],
  ] as const)('createContext throwing %s: the error as thrown, with the close code', async (_name, make, closeCode, code, message) => {
    const thrown = make()
    const s = await serve({
      createContext: () => {
        throw thrown
      },
    })
    expect((await closeOf(s.url, {}, PROTOCOL, (ws) => ws.send(JSON.stringify({ type: 'init' })))).code).toBe(closeCode)
    const report = await theReport(s.reports)
    expect(shape(report)).toEqual({ code, closeCode, message, path: undefined, type: undefined })
    if (thrown instanceof RpcError) expect(report.error).toBe(thrown)
    else expect(report.error.cause).toBe(thrown)
  })

  it('createContext returning a non-object: 1011 INTERNAL', async () => {
    const s = await serve({ createContext: () => 42 as unknown as object })
    expect((await closeOf(s.url, {}, PROTOCOL, (ws) => ws.send(JSON.stringify({ type: 'init' })))).code).toBe(1011)
    expect(shape(await theReport(s.reports))).toMatchObject({ code: 'INTERNAL', closeCode: 1011, message: 'createContext must return an object' })
  })

  it('no wirecall.v1 subprotocol: HTTP 400, BAD_REQUEST without closeCode', async () => {
    const s = await serve()
    expect(await tryUpgrade(s.url, ['wirecall.v2'])).toMatchObject({ opened: false, status: 400 })
    const report = await theReport(s.reports)
    expect(shape(report)).toEqual({
      code: 'BAD_REQUEST',
      closeCode: undefined,
      message: 'upgrade refused with HTTP 400: subprotocol wirecall.v1 required',
      path: undefined,
      type: undefined,
    })
    expect(report.req.headers['sec-websocket-protocol']).toBe('wirecall.v2')
  })

  it('a socket handed to handleConnection without wirecall.v1: 4400 BAD_REQUEST', async () => {
    const http = await startHttpServer()
    const reports: ErrorHandlerOptions[] = []
    const server: RpcServer = createRpcServer({ router, keepAlive: false, onError: (r) => void reports.push(r) })
    onTestFinished(() => server.close())
    const wss = new WebSocketServer({ noServer: true })
    onTestFinished(() => wss.close())
    http.server.on('upgrade', (req: IncomingMessage, socket, head) => {
      socket.on('error', () => {})
      wss.handleUpgrade(req, socket, head, (ws) => server.handleConnection(ws, req))
    })
    expect(await closeOf(http.wsUrl('/'), {}, [])).toEqual({ code: 4400, reason: 'subprotocol wirecall.v1 required' })
    expect(shape(await theReport(reports))).toMatchObject({ code: 'BAD_REQUEST', closeCode: 4400, message: 'connection closed with 4400: subprotocol wirecall.v1 required' })
  })

  it('no init in time: 4408 TIMEOUT', async () => {
    const s = await serve({ initTimeoutMs: 100 })
    expect((await closeOf(s.url)).code).toBe(4408)
    expect(shape(await theReport(s.reports))).toMatchObject({ code: 'TIMEOUT', closeCode: 4408, message: 'connection closed with 4408: no init message in time' })
  })

  it('an init over maxConnectionParamsBytes: 4413 PAYLOAD_TOO_LARGE', async () => {
    const s = await serve({ maxConnectionParamsBytes: 200 })
    const init = JSON.stringify({ type: 'init', params: { token: 'x'.repeat(1_000) } })
    expect((await closeOf(s.url, {}, PROTOCOL, (ws) => ws.send(init))).code).toBe(4413)
    expect(shape(await theReport(s.reports))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', closeCode: 4413, message: 'connection closed with 4413: connectionParams larger than 200 bytes' })
  })

  it('a frame over maxPayload, refused by ws itself: 1009 PAYLOAD_TOO_LARGE, with ws\u2019s error as cause', async () => {
    const s = await serve({ maxPayload: 1_024 })
    const peer = await readyPeer(s.url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'echo', input: 'x'.repeat(2_000) })
    expect((await within(peer.closed, 'the close')).code).toBe(1009)
    const report = await theReport(s.reports)
    expect(shape(report)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', closeCode: 1009, message: 'connection closed with 1009: Max payload size exceeded' })
    expect(report.error.cause).toBeInstanceOf(RangeError)
    expect(report.ctx).toEqual({})
  })

  it.each([
    ['not JSON', (peer: RawPeer) => peer.ws.send('{nope')],
    ['a binary frame', (peer: RawPeer) => peer.ws.send(Buffer.from('{"type":"ping"}'))],
    ['a call before ack', (peer: RawPeer) => peer.send({ type: 'call', id: 1, method: 'query', path: 'echo', input: 'early' })],
  ] as const)('%s: 4400 BAD_REQUEST', async (_name, send) => {
    const s = await serve()
    const peer = await rawPeer(s.url)
    send(peer)
    expect((await within(peer.closed, 'the close')).code).toBe(4400)
    const report = await theReport(s.reports)
    expect(report.error.code).toBe('BAD_REQUEST')
    expect(report.closeCode).toBe(4400)
    expect(report.error.message).toMatch(/^connection closed with 4400: /)
  })

  it('a message flood: 1008 FORBIDDEN', async () => {
    const s = await serve({ rateLimit: { messagesPerSecond: 0.1, burst: 3 } })
    const peer = await readyPeer(s.url)
    peer.send(Array.from({ length: 20 }, () => ({ type: 'ping' })))
    expect((await within(peer.closed, 'the close')).code).toBe(1008)
    expect(shape(await theReport(s.reports))).toMatchObject({ code: 'FORBIDDEN', closeCode: 1008, message: 'connection closed with 1008: message rate limit exceeded' })
  })

  it('while the server shuts down: an upgrade gets HTTP 503, a socket handed over 1001, both CONNECTION_LOST', async () => {
    const s = await serve()
    const peer = await readyPeer(s.url)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'held' })
    await waitUntil(() => s.server.stats().inFlightCalls === 1, 'the held call')
    const closing = s.server.close({ graceMs: 2_000, reconnectWindowMs: 0 })
    expect(await tryUpgrade(s.url, PROTOCOL)).toMatchObject({ opened: false, status: 503 })
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => PROTOCOL })
    onTestFinished(() => wss.close())
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    wss.on('connection', (ws, req) => s.server.handleConnection(ws, req))
    const port = (wss.address() as { port: number }).port
    expect((await closeOf(`ws://127.0.0.1:${port}/`)).code).toBe(1001)
    expect(s.reports.map(shape)).toEqual([
      { code: 'CONNECTION_LOST', closeCode: undefined, message: 'upgrade refused with HTTP 503: server is shutting down', path: undefined, type: undefined },
      { code: 'CONNECTION_LOST', closeCode: 1001, message: 'connection closed with 1001: server is shutting down', path: undefined, type: undefined },
    ])
    peer.ws.terminate()
    await closing
    // The held call was aborted by the close, and a cancelled call is no error: still two reports.
    expect(s.reports).toHaveLength(2)
  })
})

describe('what is not a refusal is not reported', () => {
  it('a peer that closes by itself, and the connections server.close() closes', async () => {
    const s = await serve()
    const leaving = await readyPeer(s.url)
    leaving.ws.close(1000, 'bye')
    await within(leaving.closed, 'the close')
    const staying = await readyPeer(s.url)
    await s.server.close()
    expect((await within(staying.closed, 'the server close')).code).toBe(1001)
    const restarted = await serve()
    const told = await readyPeer(restarted.url)
    await restarted.server.close({ graceMs: 0, reconnectWindowMs: 0 })
    expect((await within(told.closed, 'the restart close')).code).toBe(1012)
    await sleep(50)
    expect(s.reports).toEqual([])
    expect(restarted.reports).toEqual([])
  })
})
