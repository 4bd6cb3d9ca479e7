import type { Server } from 'node:http'
import { serve, upgradeWebSocket, type WebSocketServerLike } from '@hono/node-server'
import { Hono } from 'hono'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createRpcClient } from '@wirecall/client'
import { createRpcServer, PROTOCOL } from '@wirecall/server'
import { tryUpgrade, within } from '../helpers/harness'
import {
  appRouter,
  closeHttpServer,
  expectDocRunsHere,
  listening,
  mountingScenarios,
  REFUSAL_DEADLINE_MS,
  startFramework,
  type AppRouter,
  type FrameworkServer,
} from './scenario'

/**
 * wirecall on Hono, on its Node server (`@hono/node-server`): `serve()`
 * returns the Node server wirecall mounts on. The apps below are the ones of
 * docs/frameworks/hono.md, including the one that also uses Hono's own
 * `upgradeWebSocket`.
 */

async function startHono(): Promise<FrameworkServer> {
  const app = new Hono()
  app.get('/health', (c) => c.text('ok'))

  // serve() is typed for HTTP/2 too; without HTTP/2 options it is an http.Server.
  const httpServer = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
  return { httpServer, origin: await listening(httpServer), close: () => closeHttpServer(httpServer) }
}

/** A Hono app with a WebSocket route of its own (Hono's `upgradeWebSocket`), echoing on /other. */
async function startHonoWithWebSockets(): Promise<FrameworkServer & { wss: WebSocketServer }> {
  const app = new Hono()
  app.get('/health', (c) => c.text('ok'))
  app.get(
    '/other',
    upgradeWebSocket(() => ({
      onMessage: (event, ws) => ws.send(`echo:${String(event.data)}`),
    })),
  )

  const wss = new WebSocketServer({ noServer: true })
  // The cast is for exactOptionalPropertyTypes only: Hono types `options.noServer` without `| undefined`.
  const httpServer = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', websocket: { server: wss as WebSocketServerLike } }) as Server
  const close = async () => {
    for (const ws of wss.clients) ws.terminate()
    await closeHttpServer(httpServer)
  }
  return { httpServer, origin: await listening(httpServer), close, wss }
}

/** A plain `ws` client: resolves with the first reply to `text`. */
async function echo(url: string, text: string): Promise<string> {
  const ws = new WebSocket(url)
  ws.on('error', () => {})
  onTestFinished(() => {
    ws.terminate()
  })
  const reply = new Promise<string>((resolve, reject) => {
    ws.once('message', (data) => resolve(String(data)))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
  ws.once('open', () => ws.send(text))
  return within(reply, `an echo from ${url}`)
}

describe('Hono (@hono/node-server)', () => {
  mountingScenarios(startHono)

  describe("beside Hono's own upgradeWebSocket", () => {
    it('one listener takes /rpc and hands the rest to Hono, which serves /other and refuses unknown paths', async () => {
      const framework = await startFramework(startHonoWithWebSockets)
      const httpServer = framework.httpServer
      const ws = framework.origin.replace('http', 'ws')

      const rpc = createRpcServer({ router: appRouter })
      const [honoUpgrade] = httpServer.listeners('upgrade') as ((...args: Parameters<typeof rpc.handleUpgrade>) => void)[]
      httpServer.removeAllListeners('upgrade')
      httpServer.on('upgrade', (req, socket, head) => {
        if (req.url?.split('?', 1)[0] === '/rpc') rpc.handleUpgrade(req, socket, head)
        else honoUpgrade?.(req, socket, head)
      })
      onTestFinished(() => within(rpc.close(), 'rpc.close()'))

      const api = createRpcClient<AppRouter>({ url: `${ws}/rpc`, WebSocket })
      onTestFinished(() => api.$connection.close())
      expect(await within(api.greet.query({ name: 'Hono' }), 'a call')).toBe('Hello, Hono!')
      expect(await echo(`${ws}/other`, 'hi')).toBe('echo:hi')
      expect(rpc.connectionCount).toBe(1)
      const startedAt = Date.now()
      expect(await tryUpgrade(`${ws}/nope`, PROTOCOL, { timeoutMs: REFUSAL_DEADLINE_MS })).toMatchObject({ opened: false, status: 404 })
      expect(Date.now() - startedAt).toBeLessThan(REFUSAL_DEADLINE_MS)

      await within(rpc.close(), 'rpc.close()')
      expect(await echo(`${ws}/other`, 'after')).toBe('echo:after')
      expect(await tryUpgrade(`${ws}/rpc`, PROTOCOL, { timeoutMs: REFUSAL_DEADLINE_MS })).toMatchObject({ opened: false, status: 503 })
    })

    it('attach() there leaves an unknown path hanging: neither listener answers when the other exists (why the page wraps)', async () => {
      const framework = await startFramework(startHonoWithWebSockets)
      const ws = framework.origin.replace('http', 'ws')
      const rpc = createRpcServer({ router: appRouter })
      rpc.attach(framework.httpServer, { path: '/rpc' })
      onTestFinished(() => within(rpc.close(), 'rpc.close()'))

      // Both endpoints work...
      const api = createRpcClient<AppRouter>({ url: `${ws}/rpc`, WebSocket })
      onTestFinished(() => api.$connection.close())
      expect(await within(api.greet.query({ name: 'Hono' }), 'a call')).toBe('Hello, Hono!')
      expect(await echo(`${ws}/other`, 'hi')).toBe('echo:hi')
      // ...but nobody answers this one: the socket would stay open for good (startFramework destroys it after the test).
      await expect(tryUpgrade(`${ws}/nope`, PROTOCOL, { timeoutMs: 500 })).rejects.toThrow(/neither opened nor was refused/)
    })
  })

  it('docs/frameworks/hono.md: every line of its snippets runs here', () => {
    expectDocRunsHere('hono.md', import.meta.url)
  })
})
