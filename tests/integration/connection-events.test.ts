import { describe, expect, it } from 'vitest'
import { initRpc, type RpcError } from '@wirecall/core'
import type { ConnectionState } from '@wirecall/client'
import { connectClient, startServer, waitUntil, within } from '../helpers/harness'

const rpc = initRpc.create()
const router = rpc.router({
  ping: rpc.procedure.query(() => 'pong'),
  hang: rpc.procedure.query(({ signal }) => new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))),
})
type R = typeof router

describe('$connection events', () => {
  it("'close' fires after the state change and the rejections, so a listener can connect again at once", async () => {
    const { url, server } = await startServer({ router })
    const api = connectClient<R>(url)
    expect(await api.ping.query()).toBe('pong')
    const pending = api.hang.query().catch((e: RpcError) => e)
    await waitUntil(() => server.connectionCount === 1, 'the call to be in flight')

    const states: ConnectionState[] = []
    api.$connection.on('state', (s) => states.push(s))
    const closes: { code: number; stateThen: ConnectionState }[] = []
    api.$connection.on('close', ({ code }) => {
      closes.push({ code, stateThen: api.$connection.state })
      if (closes.length === 1) api.$connection.connect() // must not be a no-op
    })

    await server.close() // 1001: going away, retryable
    expect((await within(pending, 'the pending call to reject')).code).toBe('CONNECTION_LOST')
    await waitUntil(() => closes.length === 2, 'the reconnect attempt to fail too')
    expect(closes[0]).toEqual({ code: 1001, stateThen: 'idle' })
    expect(states).toEqual(['idle', 'connecting', 'idle'])
  })
})
