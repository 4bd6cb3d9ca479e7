import { createRpcServer, type RpcServer } from '@wirecall/server'
import { conformanceServerOptions } from '../conformance/router'
import type { ControlRoutes } from './scenario'

/**
 * Control routes that give the Python conformance runner
 * (clients/python/wirecall_client/conformance.py) a fresh conformance server
 * per transcript, as docs/protocol/conformance/README.md describes: POST
 * /conformance/start with the transcript's `server` options, then
 * /conformance/serverClose for its `serverClose` step, then
 * /conformance/stop, which waits (bounded) for a shutdown already started
 * and closes the server, reporting a connection it still held.
 */
export function conformanceRoutes(): { routes: ControlRoutes; closeAll(): Promise<void> } {
  let current: RpcServer | undefined
  let closing: Promise<void> | undefined
  const all = new Set<RpcServer>()

  const stop = async (): Promise<{ error?: string }> => {
    const server = current
    current = undefined
    if (server === undefined) return {}
    const started = closing
    closing = undefined
    let error: string | undefined
    if (started !== undefined) {
      const finished = await Promise.race([started.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000))])
      if (!finished) error = 'the shutdown started by serverClose did not finish within 5 s'
    }
    await server.close()
    all.delete(server)
    return error === undefined ? {} : { error }
  }

  const routes: ControlRoutes = {
    '/conformance/start': async (body) => {
      await stop()
      const server = createRpcServer(conformanceServerOptions((body.server ?? {}) as Record<string, unknown>))
      all.add(server)
      const { url } = await server.listen({ port: 0, host: '127.0.0.1', path: '/rpc' })
      current = server
      return { url }
    },
    '/conformance/serverClose': (body) => {
      if (current === undefined) return Promise.reject(new Error('no conformance server'))
      const restart = typeof body.graceMs === 'number' || typeof body.reconnectWindowMs === 'number'
      const options = { ...(typeof body.graceMs === 'number' ? { graceMs: body.graceMs } : {}), ...(typeof body.reconnectWindowMs === 'number' ? { reconnectWindowMs: body.reconnectWindowMs } : {}) }
      closing = restart ? current.close(options) : current.close()
      return Promise.resolve({})
    },
    '/conformance/stop': () => stop(),
  }
  return {
    routes,
    async closeAll() {
      await stop()
      await Promise.allSettled([...all].map((s) => s.close()))
      all.clear()
    },
  }
}
