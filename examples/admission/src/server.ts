import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createRpcServer, type RpcServer } from '@wirecall/server'
import { build } from 'esbuild'
import { createAppRouter, type AnnouncementStreams } from './router'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** A running admission gate: one HTTP server for the page, its script and the RPC endpoint. */
export interface Admission {
  url: string
  rpcUrl: string
  http: Server
  rpc: RpcServer
  /** How many `announcements` generators have started, and how many have ended. */
  streams: Readonly<AnnouncementStreams>
  /** Closes every RPC connection (ending their announcements), then the HTTP server. Calling it again returns the same promise. */
  close(): Promise<void>
}

/**
 * Starts the admission gate: serves `public/index.html`, the page script
 * bundled for the browser, and wirecall on `/rpc`, all on one port.
 * `draw` replaces the random draws of the announcements (for tests).
 */
export async function startAdmission(options: { port: number; host?: string; draw?: () => number }): Promise<Admission> {
  const [page, script] = await Promise.all([readFile(here('../public/index.html')), bundlePage()])
  const http = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url === '/index.html')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page)
    } else if (req.method === 'GET' && req.url === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script)
    } else if (req.url === '/favicon.ico') {
      res.writeHead(204).end()
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
    }
  })
  const streams: AnnouncementStreams = { started: 0, ended: 0 }
  const rpc = createRpcServer({
    router: createAppRouter({ streams, ...(options.draw === undefined ? {} : { draw: options.draw }) }),
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL') console.error(`[admission] ${path ?? 'connection'}:`, error.cause ?? error)
    },
  })
  rpc.attach(http, { path: '/rpc' })
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(options.port, options.host, () => {
        http.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await rpc.close() // detaches from `http`, which never listened
    throw error
  }
  const { port } = http.address() as AddressInfo
  const host = options.host ?? 'localhost'
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}/`,
    rpcUrl: `ws://${host}:${port}/rpc`,
    http,
    rpc,
    streams,
    close() {
      closing ??= (async () => {
        await rpc.close() // returns once every announcements generator has run its finally
        await new Promise<void>((resolve) => {
          http.close(() => resolve())
          http.closeAllConnections()
        })
      })()
      return closing
    },
  }
}

/** Bundles the page script with esbuild: the browser gets `@wirecall/client` and superjson in one small file. */
async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [here('./page.ts')],
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    platform: 'browser',
    write: false,
  })
  return result.outputFiles[0]!.text
}
