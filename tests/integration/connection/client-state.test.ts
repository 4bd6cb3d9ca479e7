import { describe, expect, it } from 'vitest'
import { initRpc, RpcError } from '@wirecall/core'
import type { ConnectionState } from '@wirecall/client'
import { connectClient, sleep, startServer, waitUntil, within } from '../../helpers/harness'

/**
 * The client's view of its connection: `$connection.state` as it walks from
 * idle to closed, and the events it emits on the way.
 */

const rpc = initRpc.create()
const router = rpc.router({
  ctx: rpc.procedure.query(({ ctx }) => ctx),
  ping: rpc.procedure.query(() => 'pong'),
  hang: rpc.procedure.query(({ signal }) => new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)))),
  hangMutation: rpc.procedure.mutation(
    ({ signal }) => new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  ),
})
type R = typeof router

describe('$connection.state', () => {
  it('walks idle -> connecting -> open, and ends closed on close()', async () => {
    const { url } = await startServer({ router })
    const api = connectClient<R>(url, { lazy: true })
    const states: ConnectionState[] = []
    api.$connection.on('state', (s) => states.push(s))
    expect(api.$connection.state).toBe('idle')
    await sleep(20)
    expect(api.$connection.state).toBe('idle') // lazy: nothing happens until used

    const call = api.ctx.query()
    expect(api.$connection.state).toBe('connecting')
    await call
    expect(api.$connection.state).toBe('open')
    expect(states).toEqual(['connecting', 'open'])

    await api.$connection.close()
    expect(api.$connection.state).toBe('closed')
    expect(states).toEqual(['connecting', 'open', 'closed'])
  })

  it('ends closed on a terminal close from the server, never reaching open', async () => {
    const { url } = await startServer({
      router,
      createContext: () => {
        throw new RpcError('UNAUTHORIZED', 'who are you')
      },
    })
    const api = connectClient<R>(url, { lazy: true })
    const states: ConnectionState[] = []
    const unsubscribe = api.$connection.on('state', (s) => states.push(s))
    api.$connection.connect()
    await waitUntil(() => api.$connection.state === 'closed', 'the client to reach closed')
    expect(states).toEqual(['connecting', 'closed'])

    // connect() on a closed client does nothing; the listener can be removed.
    unsubscribe()
    api.$connection.connect()
    await sleep(20)
    expect(api.$connection.state).toBe('closed')
    expect(states).toEqual(['connecting', 'closed'])
  })
})

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
