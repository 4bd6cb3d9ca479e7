import { describe, expect, it } from 'vitest'
import { WebSocketServer } from 'ws'
import { CliError, describeRouter, readRemoteApi } from '@wirecall/codegen'
import { RpcError, initRpc } from '@wirecall/core'
import { freePort } from '../../helpers/child-server'
import { startHttpServer, startServer } from '../../helpers/harness'
import { richRouter } from './fixtures/rich-router'

/** `readRemoteApi` against real servers on 127.0.0.1: the description, and every way of not getting it, as a CliError that says what to do. */

async function cliErrorOf(promise: Promise<unknown>): Promise<CliError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  if (!(error instanceof CliError)) throw new Error(`expected a CliError, got ${String(error)}`)
  return error
}

/** A router that needs a token in the connection params. */
function guardedRouter() {
  const rpc = initRpc.context<{ user: string }>().create()
  return rpc.router({ me: rpc.procedure.query(({ ctx }) => ctx.user) })
}

function guard({ connectionParams }: { connectionParams: unknown }): { user: string } {
  const token = (connectionParams as { token?: unknown } | undefined)?.token
  if (token !== 'secret') throw new RpcError('UNAUTHORIZED', 'bad token')
  return { user: 'ada' }
}

describe('readRemoteApi', () => {
  it('reads the manifest and the AsyncAPI document a server with the endpoint answers', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true })
    const description = await readRemoteApi(url)
    const { manifest, asyncapi } = await describeRouter(richRouter)
    expect(description).toEqual({ manifest, asyncapi })
  })

  it('sends the connection params to createContext', async () => {
    const { url } = await startServer({ router: guardedRouter(), createContext: guard, schemaEndpoint: true })
    const refused = await cliErrorOf(readRemoteApi(url))
    expect(refused.message).toBe(`${url} closed the connection before answering: 4401 bad token (the server refused the connection: pass connection params with --params)`)
    const description = await readRemoteApi(url, { params: { token: 'secret' } })
    expect(Object.keys(description.manifest.procedures)).toEqual(['me'])
  })

  it('says to turn the endpoint on when the server answers NOT_FOUND', async () => {
    const { url } = await startServer({ router: richRouter })
    const error = await cliErrorOf(readRemoteApi(url))
    expect(error.code).toBe('LOAD')
    expect(error.message).toBe(
      `${url} has no schema endpoint (NOT_FOUND: no procedure at "$wirecall.describe"); create the server with createRpcServer({ router, schemaEndpoint: true }), or generate from the source with --router`,
    )
  })

  it('says it cannot connect when nothing listens on the port', async () => {
    const port = await freePort()
    const error = await cliErrorOf(readRemoteApi(`ws://127.0.0.1:${port}/rpc`))
    expect(error.code).toBe('LOAD')
    expect(error.message).toBe(`cannot connect to ws://127.0.0.1:${port}/rpc: connect ECONNREFUSED 127.0.0.1:${port}`)
  })

  it('says so when the address is an HTTP server that does not upgrade', async () => {
    const http = await startHttpServer()
    const error = await cliErrorOf(readRemoteApi(http.wsUrl('/rpc')))
    expect(error.message).toBe(`cannot connect to ${http.wsUrl('/rpc')}: the server answered HTTP 404 instead of opening a WebSocket`)
  })

  it('gives up after timeoutMs on a server that never answers, and closes its socket', async () => {
    const port = await freePort()
    const silent = new WebSocketServer({ port, host: '127.0.0.1', handleProtocols: (protocols) => [...protocols][0] ?? false })
    let closedByClient = false
    silent.on('connection', (ws) => ws.on('close', () => (closedByClient = true)))
    try {
      await new Promise((resolve) => silent.once('listening', resolve))
      const started = Date.now()
      const error = await cliErrorOf(readRemoteApi(`ws://127.0.0.1:${port}/rpc`, { timeoutMs: 300 }))
      expect(error.message).toBe(`no answer from ws://127.0.0.1:${port}/rpc within 0.3 s`)
      expect(Date.now() - started).toBeLessThan(5_000)
      await expect.poll(() => closedByClient).toBe(true)
    } finally {
      for (const client of silent.clients) client.terminate()
      await new Promise((resolve) => silent.close(resolve))
    }
  })

  it('stops when its signal is aborted', async () => {
    const { url } = await startServer({ router: richRouter, schemaEndpoint: true })
    const error = await cliErrorOf(readRemoteApi(url, { signal: AbortSignal.abort() }))
    expect(error.message).toBe(`reading ${url} was cancelled`)
  })

  it.each([
    ['not a URL', 'localhost:3000'],
    ['an http URL', 'http://127.0.0.1:1/rpc'],
  ])('refuses %s as a usage error', async (_, url) => {
    const error = await cliErrorOf(readRemoteApi(url))
    expect(error.code).toBe('USAGE')
  })
})
