import { mkdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRpcServer, type CloseOptions, type RpcServer } from '@wirecall/server'
import { build } from 'esbuild'
import { MessageStore } from './message-store'
import { contextFrom, createAppRouter } from './router'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** Options of {@link startLiveChat}. */
export interface LiveChatOptions {
  port: number
  host?: string | undefined
  /** Where `messages.jsonl` is kept; without it messages live in memory only. */
  dataDir?: string | undefined
}

/** A running server: one HTTP server for the page, its script and the RPC endpoint. */
export interface LiveChat {
  url: string
  rpcUrl: string
  http: Server
  rpc: RpcServer
  store: MessageStore
  /** Stops it; `options` go to the wirecall server's `close()` (a restart: `{ graceMs, reconnectWindowMs }`). Idempotent. */
  close(options?: CloseOptions): Promise<void>
}

/**
 * Starts the server: `public/index.html`, the React page bundled by esbuild
 * (`/app.js`), and wirecall on `/rpc`, all on one port.
 */
export async function startLiveChat(options: LiveChatOptions): Promise<LiveChat> {
  const page = readFileSync(here('../public/index.html'))
  const script = await bundlePage()
  if (options.dataDir !== undefined) mkdirSync(options.dataDir, { recursive: true })
  const store = MessageStore.open(options.dataDir === undefined ? undefined : join(options.dataDir, 'messages.jsonl'))
  const app = createAppRouter(store)
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page)
    } else if (req.method === 'GET' && path === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script)
    } else {
      res.writeHead(path === '/favicon.ico' ? 204 : 404).end()
    }
  })
  const rpc = createRpcServer({
    router: app.router,
    createContext: ({ connectionParams }) => contextFrom(connectionParams),
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL') console.error(`[live-react] ${path ?? 'connection'}:`, error.cause ?? error)
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
    await rpc.close()
    store.close()
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
    store,
    close(closeOptions) {
      closing ??= (async () => {
        await rpc.close(closeOptions)
        app.dispose()
        store.close()
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

/** The page (React, TanStack Query, the wirecall client and the binding) in one minified file; once per process. */
function bundlePage(): Promise<string> {
  bundled ??= build({
    entryPoints: [here('./page.tsx')],
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
  }).then((result) => result.outputFiles[0]!.text)
  bundled.catch(() => {
    bundled = undefined
  })
  return bundled
}
