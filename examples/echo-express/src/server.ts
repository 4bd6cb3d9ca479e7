import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createRpcServer, type RpcServer } from '@wirecall/server'
import { build } from 'esbuild'
import express from 'express'
import { appRouter } from './router'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** A running echo app: one Express server for the page, its script and the RPC endpoint. */
export interface EchoExpress {
  url: string
  rpcUrl: string
  /** The `http.Server` that `app.listen()` returned; wirecall is attached to it. */
  http: Server
  rpc: RpcServer
  /** Closes every RPC connection, then the HTTP server. Calling it again returns the same promise. */
  close(): Promise<void>
}

/**
 * Starts the echo app: Express serves `public/` and the page script
 * (bundled by esbuild at start-up), and wirecall takes the WebSocket
 * upgrades on `/rpc` of the same `http.Server`, so everything is on one port.
 */
export async function startEchoExpress(options: { port: number; host?: string }): Promise<EchoExpress> {
  const script = await bundlePage()

  const app = express()
  app.disable('x-powered-by')
  app.get('/app.js', (_req, res) => {
    res.type('text/javascript; charset=utf-8').send(script)
  })
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end()
  })
  app.use(express.static(here('../public')))

  const rpc = createRpcServer({
    router: appRouter,
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL') console.error(`[echo-express] ${path ?? 'connection'}:`, error.cause ?? error)
    },
  })

  // Express 5 passes a listen error (EADDRINUSE...) to the callback instead of throwing.
  let http!: Server
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => (error === undefined ? resolve() : reject(error))
    http = options.host === undefined ? app.listen(options.port, done) : app.listen(options.port, options.host, done)
  })
  // Only upgrades on /rpc reach wirecall; every plain HTTP request, even GET /rpc, stays Express's.
  rpc.attach(http, { path: '/rpc' })

  const { port } = http.address() as AddressInfo
  const host = options.host ?? 'localhost'
  let closing: Promise<void> | undefined
  return {
    url: `http://${host}:${port}/`,
    rpcUrl: `ws://${host}:${port}/rpc`,
    http,
    rpc,
    close() {
      closing ??= (async () => {
        await rpc.close() // closes the WebSockets and detaches from `http`
        await new Promise<void>((resolve) => {
          http.close(() => resolve())
          http.closeAllConnections() // keep-alive sockets from the page would hold close() up
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
