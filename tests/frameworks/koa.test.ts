import Koa from 'koa'
import { describe, it } from 'vitest'
import { closeHttpServer, expectDocRunsHere, listening, mountingScenarios, type FrameworkServer } from './scenario'

/**
 * wirecall on Koa 3. Koa has no server of its own until `app.listen()`,
 * which returns the Node `http.Server` that wirecall mounts on. The app
 * below is the one of docs/frameworks/koa.md.
 */

async function startKoa(): Promise<FrameworkServer> {
  const app = new Koa()
  app.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/health') ctx.body = 'ok'
    else await next()
  })

  const httpServer = app.listen(0, '127.0.0.1')
  return { httpServer, origin: await listening(httpServer), close: () => closeHttpServer(httpServer) }
}

describe('Koa 3', () => {
  mountingScenarios(startKoa)

  it('docs/frameworks/koa.md: every line of its snippets runs here', () => {
    expectDocRunsHere('koa.md', import.meta.url)
  })
})
