import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createRpcServer, RpcError, type CloseOptions, type RpcServer } from '@wirecall/server'
import { build } from 'esbuild'
import { z } from 'zod'
import type { ChatStateOptions } from './chat-state'
import { UserName } from './rooms'
import { createChatRouter } from './router'
import type { ChatStore } from './store/chat-store'
import { openMemoryStore } from './store/memory'
import { openRedisStore } from './store/redis'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

/** Options of {@link startChat}. */
export interface ChatOptions extends ChatStateOptions {
  /** The port; 0 picks a free one. */
  port: number
  /** @default every interface ('localhost' in the URLs) */
  host?: string | undefined
  /**
   * A Redis shared by several chat processes (`redis://127.0.0.1:6379`):
   * messages, presence, typing and idempotent sends live there, so a page
   * may reach any process and resume on any other. Without it, the chat
   * keeps everything in this process (and `dataDir`).
   */
  redisUrl?: string | undefined
  /** With `redisUrl`: how long the users of a process that died stay listed, in ms. @default 10_000 */
  presenceTtlMs?: number | undefined
}

/** A running chat: one HTTP server for the page, its script and the RPC endpoint. */
export interface Chat {
  url: string
  rpcUrl: string
  http: Server
  rpc: RpcServer
  /** Where the rooms live: this process, or the shared Redis. */
  store: ChatStore
  /**
   * Stops the chat; `options` go to the wirecall server's `close()`.
   * Without them every connection closes at once; with them it is a restart
   * (`{ graceMs, reconnectWindowMs }`): clients are told when to come back,
   * and resume where they left off. The store (log files, Redis
   * connections) is closed last. Calling
   * it again returns the same promise.
   */
  close(options?: CloseOptions): Promise<void>
}

const Params = z.object({ name: UserName })

/**
 * Starts the chat: serves `public/index.html`, the page script bundled for
 * the browser, and wirecall on `/rpc`, all on one port. With `redisUrl`,
 * the rooms live in that Redis, shared with the other processes; without
 * it, messages are loaded from, and appended to, `dataDir` when it is
 * given.
 */
export async function startChat(options: ChatOptions): Promise<Chat> {
  const [page, script] = await Promise.all([readFile(here('../public/index.html')), bundlePage()])
  const store = options.redisUrl === undefined ? openMemoryStore(options) : await openRedisStore({ ...options, url: options.redisUrl })
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page)
    } else if (req.method === 'GET' && path === '/app.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(script)
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end()
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n')
    }
  })
  const rpc = createRpcServer({
    router: createChatRouter(store),
    // Who you are comes with the connection, once: every call and subscription can rely on it.
    createContext: ({ connectionParams }) => {
      const params = Params.safeParse(connectionParams)
      if (!params.success) throw new RpcError('UNAUTHORIZED', 'choose a name: 1 to 24 letters, digits, spaces, ".", "_" or "-"')
      return { name: params.data.name }
    },
    onError: ({ error, path }) => {
      if (error.code === 'INTERNAL') console.error(`[chat] ${path ?? 'connection'}:`, error.cause ?? error)
    },
    // With Redis, a send retried on another process joins the first run or replays its outcome.
    ...(store.idempotencyStore === undefined ? {} : { idempotency: { store: store.idempotencyStore } }),
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
    await store.close()
    throw error // EADDRINUSE and the like: the caller may retry
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
        try {
          await rpc.close(closeOptions) // every subscription's `finally` has run: presence is empty
          await new Promise<void>((resolve) => {
            http.close(() => resolve())
            http.closeAllConnections()
          })
        } finally {
          await store.close()
        }
      })()
      return closing
    },
  }
}

let bundled: Promise<string> | undefined

/**
 * Bundles the page script with esbuild: the browser gets `@wirecall/client`
 * and superjson in one small file. Once per process, so that a restart in
 * the same process (as in the tests) is quick.
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
