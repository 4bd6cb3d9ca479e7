import { createServer } from 'node:http'
import { describe, it } from 'vitest'
import { closeHttpServer, expectDocRunsHere, listening, mountingScenarios, type FrameworkServer } from './scenario'

/**
 * wirecall on a plain `node:http` server: the baseline the frameworks are
 * measured against. The server below is the one of docs/frameworks/node-http.md.
 */

async function startNodeHttp(): Promise<FrameworkServer> {
  const httpServer = createServer((req, res) => {
    if (req.url === '/health') res.end('ok')
    else res.writeHead(404).end()
  })
  httpServer.listen(0, '127.0.0.1')
  return { httpServer, origin: await listening(httpServer), close: () => closeHttpServer(httpServer) }
}

describe('node:http', () => {
  mountingScenarios(startNodeHttp)

  it('docs/frameworks/node-http.md: every line of its snippets runs here', () => {
    expectDocRunsHere('node-http.md', import.meta.url)
  })
})
