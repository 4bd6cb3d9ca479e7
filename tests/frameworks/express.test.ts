import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import { afterAll, describe, expect, it } from 'vitest'
import { closeHttpServer, expectDocRunsHere, listening, mountingScenarios, type FrameworkServer } from './scenario'

/**
 * wirecall on Express 5, as in the classic express + ws demo: the page,
 * an HTTP route and the RPC endpoint on one port. The app below is the one
 * of docs/frameworks/express.md; its `public/` is a temporary directory.
 */

const publicDir = mkdtempSync(join(tmpdir(), 'wirecall-express-'))
writeFileSync(join(publicDir, 'index.html'), '<!doctype html><title>wirecall</title><p>the page</p>\n')
afterAll(() => rmSync(publicDir, { recursive: true, force: true }))

async function startExpress(): Promise<FrameworkServer> {
  const app = express()
  app.use(express.static(publicDir))
  app.get('/health', (_req, res) => {
    res.send('ok')
  })

  // The http.Server that app.listen() returns is what wirecall mounts on: `app` itself has no 'upgrade' event.
  const httpServer = app.listen(0, '127.0.0.1')
  return { httpServer, origin: await listening(httpServer), close: () => closeHttpServer(httpServer) }
}

describe('Express 5', () => {
  mountingScenarios(startExpress, {
    // The page, on the port of /rpc.
    alsoServes: async (transport, origin) => {
      const page = await transport.get(`${origin}/`)
      expect(page).toMatchObject({ status: 200, body: expect.stringContaining('the page') })
      expect(page.contentType).toMatch(/^text\/html/)
    },
  })

  it('docs/frameworks/express.md: every line of its snippets runs here', () => {
    expectDocRunsHere('express.md', import.meta.url, [/express\.static\('public'\)/])
  })
})
