import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createRpcServer, type RpcServer } from '@wirecall/server'
import { build } from 'esbuild'
import { appRouter } from './router'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** A running greeter: one HTTP server for the page, its script and the RPC endpoint. */
export interface Greeter {
  url: string
  rpcUrl: string
  http: Server
  rpc: RpcServer
  close(): Promise<void>
}

/**
 * Starts the greeter: serves `public/index.html`, the page script bundled
 * for the browser, and wirecall on `/rpc`, all on one port.
 */
export async function startGreeter(options: { port: number; host?: string }): Promise<Greeter> {
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
  const rpc = createRpcServer({
    router: appRouter,
    createContext: ({ connectionParams }) => {
      const name = (connectionParams as { name?: unknown } | undefined)?.name
      return typeof name === 'string' && name.length > 0 ? { name: name.slice(0, 40) } : {}
    },
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL') console.error(`[greeter] ${path ?? 'connection'}:`, error.cause ?? error)
    },
  })
  rpc.attach(http, { path: '/rpc' })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(options.port, options.host, () => resolve())
  })
  const { port } = http.address() as AddressInfo
  const host = options.host ?? 'localhost'
  return {
    url: `http://${host}:${port}/`,
    rpcUrl: `ws://${host}:${port}/rpc`,
    http,
    rpc,
    async close() {
      await rpc.close()
      await new Promise<void>((resolve) => {
        http.close(() => resolve())
        http.closeAllConnections()
      })
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
