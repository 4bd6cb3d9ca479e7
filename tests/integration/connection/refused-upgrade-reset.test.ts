import { createServer } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { initRpc } from '@wirecall/core'
import { createRpcServer } from '@wirecall/server'
import { connectClient, startServer, upgradeRequest, within } from '../../helpers/harness'
import { failOnEscapedErrors } from '../../helpers/invariants'

/**
 * A peer that resets its TCP connection right after sending an upgrade the
 * server refuses with a plain HTTP answer (400 without the subprotocol, 503
 * while closing): writing that answer to a reset socket fails, and the
 * failure must not escape as an uncaught exception (it once did: the
 * refused socket had no error listener).
 */

const rpc = initRpc.create()
const router = rpc.router({ alive: rpc.procedure.query(() => 'still here') })
type R = typeof router

/** Sends `request` and resets the connection at once; resolves when the socket is gone. */
function sendAndReset(port: number, request: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(request)
      socket.resetAndDestroy()
    })
    socket.on('error', () => {})
    socket.on('close', () => resolve())
  })
}

describe('a refused upgrade whose peer resets', () => {
  it('100 resets after an upgrade without the subprotocol: nothing escapes, and the server still serves', async () => {
    failOnEscapedErrors()
    const s = await startServer<R>({ router })
    const port = Number(new URL(s.url).port)
    const bad = Buffer.from(upgradeRequest('/rpc').toString('latin1').replace(/Sec-WebSocket-Protocol: [^\r]*\r\n/, ''), 'latin1')
    for (let i = 0; i < 100; i++) await within(sendAndReset(port, bad), `reset ${i}`)
    const api = connectClient<R>(s.url)
    expect(await within(api.alive.query(), 'a call after the resets')).toBe('still here')
  })

  it('100 resets after an upgrade refused with 503 by a closed server mounted on an http server: nothing escapes', async () => {
    failOnEscapedErrors()
    const rpcServer = createRpcServer<R>({ router })
    await rpcServer.close()
    const http = createServer()
    http.on('upgrade', (req, socket, head) => rpcServer.handleUpgrade(req, socket, head))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => new Promise<void>((resolve) => http.close(() => resolve())))
    const { port } = http.address() as AddressInfo
    for (let i = 0; i < 100; i++) await within(sendAndReset(port, upgradeRequest('/rpc')), `reset ${i}`)
  })
})
