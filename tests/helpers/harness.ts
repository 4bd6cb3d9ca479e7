import { onTestFinished } from 'vitest'
import WebSocket from 'ws'
import type { AnyRouter } from '@wirecall/core'
import { createRpcClient, type RpcClient, type RpcClientOptions } from '@wirecall/client'
import { createRpcServer, type RpcServer, type RpcServerOptions } from '@wirecall/server'

/**
 * Test fixtures on real sockets over 127.0.0.1. Everything a test starts is
 * registered here and torn down when the test finishes, and teardown checks
 * that nothing was left behind (open connections on the server).
 */

export interface TestServer {
  server: RpcServer
  url: string
  port: number
}

/** Starts a wirecall server on 127.0.0.1 and a free port; closed after the test. */
export async function startServer<TRouter extends AnyRouter>(
  options: RpcServerOptions<TRouter>,
  path = '/rpc',
): Promise<TestServer> {
  const server = createRpcServer(options)
  const info = await server.listen({ port: 0, host: '127.0.0.1', path })
  onTestFinished(async () => {
    await server.close()
    if (server.connectionCount !== 0) throw new Error(`server leaked ${server.connectionCount} connections`)
  })
  return { server, url: info.url, port: info.port }
}

/** A typed client using `ws` (Node 20 has no global WebSocket); closed after the test. */
export function connectClient<TRouter extends AnyRouter>(
  url: string,
  options: Partial<RpcClientOptions> = {},
): RpcClient<TRouter> {
  const api = createRpcClient<TRouter>({ url, WebSocket, ...options })
  onTestFinished(() => api.$connection.close())
  return api
}

/** A raw WebSocket peer that records every frame and close, for protocol-level tests. */
export interface RawPeer {
  ws: WebSocket
  /** Parsed frames received, in order (arrays flattened). */
  messages: Record<string, unknown>[]
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>
  send(value: unknown): void
  /** Resolves with the first received message matching `predicate` (past or future). */
  next(predicate: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
}

/** Opens a raw peer; by default offers `wirecall.v1` and waits until open. */
export async function rawPeer(url: string, protocols: string | string[] = 'wirecall.v1'): Promise<RawPeer> {
  const ws = new WebSocket(url, protocols)
  const messages: Record<string, unknown>[] = []
  const waiters = new Set<() => void>()
  ws.on('message', (data) => {
    const parsed = JSON.parse(String(data)) as unknown
    for (const m of Array.isArray(parsed) ? parsed : [parsed]) messages.push(m as Record<string, unknown>)
    for (const w of [...waiters]) w()
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))
  })
  ws.on('error', () => {})
  onTestFinished(() => {
    ws.terminate()
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
  return {
    ws,
    messages,
    closed,
    send(value) {
      ws.send(typeof value === 'string' ? value : JSON.stringify(value))
    },
    next(predicate, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate)
          if (found === undefined) return false
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
          return true
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(new Error('timed out waiting for a message'))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
  }
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
