import Fastify from 'fastify'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient } from '@wirecall/client'
import { createRpcServer } from '@wirecall/server'
import { waitUntil, within } from '../helpers/harness'
import { appRouter, expectDocRunsHere, listening, mountingScenarios, type AppRouter, type FrameworkServer } from './scenario'

/**
 * wirecall on Fastify 5, mounted on `app.server`, the Node `http.Server`
 * Fastify creates with the instance (so it exists before `listen()`). The
 * app below is the one of docs/frameworks/fastify.md.
 */

async function startFastify(): Promise<FrameworkServer> {
  const app = Fastify()
  app.get('/health', async () => 'ok')

  await app.listen({ port: 0, host: '127.0.0.1' })
  const httpServer = app.server
  return { httpServer, origin: await listening(httpServer), close: () => app.close() }
}

describe('Fastify 5', () => {
  mountingScenarios(startFastify)

  it("app.close() with a client connected: a preClose hook closes wirecall first, so Fastify's close does not wait for the client", async () => {
    const app = Fastify()
    app.get('/health', async () => 'ok')

    const rpc = createRpcServer({ router: appRouter })
    rpc.attach(app.server, { path: '/rpc' })
    app.addHook('preClose', () => rpc.close())

    await app.listen({ port: 0, host: '127.0.0.1' })
    onTestFinished(() => app.close())
    const origin = await listening(app.server)

    const api = createRpcClient<AppRouter>({ url: `${origin.replace('http', 'ws')}/rpc`, WebSocket, reconnect: false })
    onTestFinished(() => api.$connection.close())
    const closes: number[] = []
    api.$connection.on('close', ({ code }) => closes.push(code))
    expect(await within(api.greet.query({ name: 'Fastify' }), 'a call')).toBe('Hello, Fastify!')

    await within(app.close(), 'app.close()')
    await waitUntil(() => closes.length === 1, "the client's close event")
    expect(closes).toEqual([1001])
    expect(rpc.connectionCount).toBe(0)
  })

  it('without the hook, app.close() waits for the WebSocket clients (why the page adds it)', async () => {
    const app = Fastify()
    app.get('/health', async () => 'ok')
    const rpc = createRpcServer({ router: appRouter })
    rpc.attach(app.server, { path: '/rpc' })
    await app.listen({ port: 0, host: '127.0.0.1' })
    onTestFinished(() => app.close())
    onTestFinished(() => rpc.close())
    const origin = await listening(app.server)

    const api = createRpcClient<AppRouter>({ url: `${origin.replace('http', 'ws')}/rpc`, WebSocket, reconnect: false })
    onTestFinished(() => api.$connection.close())
    expect(await within(api.greet.query({ name: 'Fastify' }), 'a call')).toBe('Hello, Fastify!')

    let closed = false
    const closing = app.close().then(() => {
      closed = true
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(closed).toBe(false) // held by the open WebSocket
    await within(rpc.close(), 'rpc.close()')
    await within(closing, 'app.close() once wirecall has closed')
  })

  it('docs/frameworks/fastify.md: every line of its snippets runs here', () => {
    expectDocRunsHere('fastify.md', import.meta.url)
  })
})
