import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createRpcServer, type CloseOptions, type RpcServer } from '@wirecall/server'
import { build } from 'esbuild'
import { createAppRouter } from './router'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** A running ticker: one HTTP server for the page, its script and the RPC endpoint. */
export interface Ticker {
  url: string
  rpcUrl: string
  tickMs: number
  http: Server
  rpc: RpcServer
  /**
   * Stops the ticker; `options` go to the wirecall server's `close()`.
   * Without them every connection closes at once; with them it is a
   * restart (`{ graceMs, reconnectWindowMs }`): clients are told when to
   * come back, and resume their subscriptions where they left off. Calling
   * it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>
}

/**
 * Starts the ticker: serves `public/index.html`, the page script bundled
 * for the browser, and wirecall on `/rpc`, all on one port. Ticks come
 * every `tickMs` (default 2 s).
 */
export async function startTicker(options: { port: number; host?: string; tickMs?: number }): Promise<Ticker> {
  const tickMs = options.tickMs ?? 2_000
  if (!Number.isInteger(tickMs) || tickMs < 10) throw new RangeError(`tickMs must be an integer of at least 10, got ${tickMs}`)
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
    router: createAppRouter({ tickMs }),
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL') console.error(`[ticker] ${path ?? 'connection'}:`, error.cause ?? error)
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
    throw error // EADDRINUSE and the like: the caller may retry
  }
  const { port } = http.address() as AddressInfo
  const host = options.host ?? 'localhost'
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}/`,
    rpcUrl: `ws://${host}:${port}/rpc`,
    tickMs,
    http,
    rpc,
    close(closeOptions) {
      closing ??= (async () => {
        await rpc.close(closeOptions)
        await new Promise<void>((resolve) => {
          http.close(() => resolve())
          http.closeAllConnections()
        })
      })()
      return closing
    },
  }
}

let bundled: Promise<string> | undefined

/**
 * Bundles the page script with esbuild: the browser gets `@wirecall/client`
 * and superjson in one small file. Once per process, so that a restart in
 * the same process (as in the test) is quick.
 */
function bundlePage(): Promise<string> {
  bundled ??= build({
    entryPoints: [here('./page.ts')],
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    platform: 'browser',
    write: false,
  }).then((result) => result.outputFiles[0]!.text)
  bundled.catch(() => {
    bundled = undefined // let the next start try again
  })
  return bundled
}
