import { describe, expect, it } from 'vitest'
import { initRpc, type RpcError } from '@wirecall/core'
import type { ConnectionState } from '@wirecall/client'
import { connectClient, startServer, waitUntil, within } from '../../helpers/harness'

const rpc = initRpc.create()
const router = rpc.router({
  ping: rpc.procedure.query(() => 'pong'),
  hang: rpc.procedure.query(({ signal }) => new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))),
  hangMutation: rpc.procedure.mutation(
    ({ signal }) => new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  ),
})
type R = typeof router

describe('$connection events', () => {
  it("'close' fires after the state change, so a listener sees the client already reconnecting", async () => {
    const { url, server } = await startServer({ router })
    // A long first delay keeps the reconnect out of the way of what the test looks at.
    const api = connectClient<R>(url, { reconnect: { minDelayMs: 60_000 } })
    expect(await api.ping.query()).toBe('pong')
    const pending = api.hangMutation.mutate().catch((e: RpcError) => e)
    await waitUntil(() => server.connectionCount === 1, 'the call to be in flight')

    const states: ConnectionState[] = []
    api.$connection.on('state', (s) => states.push(s))
    const closes: { code: number; stateThen: ConnectionState }[] = []
    const reconnects: number[] = []
    api.$connection.on('reconnect', ({ attempt }) => reconnects.push(attempt))
    api.$connection.on('close', ({ code }) => {
      closes.push({ code, stateThen: api.$connection.state })
    })

    await server.close() // 1001: going away, retryable
    expect((await within(pending, 'the pending mutation to reject')).code).toBe('CONNECTION_LOST')
    await waitUntil(() => closes.length === 1, 'the close event')
    expect(closes).toEqual([{ code: 1001, stateThen: 'reconnecting' }])
    expect(states).toEqual(['reconnecting'])
    expect(reconnects).toEqual([1])
  })
})
