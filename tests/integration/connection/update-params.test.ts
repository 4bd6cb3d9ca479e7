import { describe, expect, it } from 'vitest'
import { initRpc, RpcError } from '@wirecall/core'
import type { RpcClient } from '@wirecall/client'
import { connectClient, rawPeer, readyPeer, rpcErrorOf, sleep, startServer, waitUntil, within } from '../../helpers/harness'
import { startFaultProxy } from '../../helpers/fault-proxy'

/**
 * `api.$connection.updateParams()`: new connection params (a refreshed
 * token) over the open socket. The server runs `createContext` again and
 * later calls use the new context; a refusal leaves the previous context and
 * the connection as they were; nothing in flight is disturbed.
 */

interface Ctx {
  token: string | undefined
}
const rpc = initRpc.context<Ctx>().create()

const router = rpc.router({
  whoami: rpc.procedure.query(({ ctx }) => ctx.token),
  /** Numbered events every few ms, each with the token of the context it runs under. */
  ticks: rpc.procedure.subscription(async function* ({ ctx, signal }) {
    for (let n = 0; !signal.aborted && n < 2_000; n++) {
      yield { n, token: ctx.token }
      await sleep(5, signal)
    }
  }),
})
type R = typeof router

/** A server whose `createContext` records the token of every init and reinit; 'bad' is refused, 'boom' throws a plain Error. */
async function serve() {
  const tokens: (string | undefined)[] = []
  const started = await startServer({
    router,
    keepAlive: false,
    createContext: async ({ connectionParams }) => {
      const token = (connectionParams as { token?: string } | undefined)?.token
      tokens.push(token)
      if (token?.startsWith('slow') === true) await sleep(100)
      if (token === 'bad') throw new RpcError('UNAUTHORIZED', 'token rejected')
      if (token === 'boom') throw new Error('the token store is down')
      return { token }
    },
  })
  return { ...started, tokens }
}

/** Connection events that would show the socket was replaced or a subscription restarted. */
function recordDisruptions(api: RpcClient<R>) {
  const seen: string[] = []
  api.$connection.on('close', ({ code }) => seen.push(`close:${code}`))
  api.$connection.on('resubscribe', ({ path }) => seen.push(`resubscribe:${path}`))
  api.$connection.on('state', (state) => seen.push(`state:${state}`))
  return seen
}

describe('updateParams', () => {
  it('gives later calls the new context while a subscription started under the old one runs on without a gap, on the same socket', async () => {
    const { server, url, tokens } = await serve()
    const api = connectClient<R>(url, { connectionParams: { token: 'a' } })
    const events: { n: number; token: string | undefined }[] = []
    api.ticks.subscribe(undefined, { onData: (e) => events.push(e) })
    await waitUntil(() => events.length >= 3, 'the first events')
    const disruptions = recordDisruptions(api)

    await within(api.$connection.updateParams({ token: 'b' }), 'updateParams')
    await expect(api.whoami.query()).resolves.toBe('b')
    const atUpdate = events.length
    await waitUntil(() => events.length >= atUpdate + 5, 'events after the update')

    expect(events.map((e) => e.n)).toEqual(events.map((_e, i) => i))
    expect(new Set(events.map((e) => e.token))).toEqual(new Set(['a']))
    expect(disruptions).toEqual([])
    expect(server.connectionCount).toBe(1)
    expect(tokens).toEqual(['a', 'b'])
  })

  it('rejects with UNAUTHORIZED when createContext refuses the new params, and keeps the previous context and the connection', async () => {
    const { server, url, tokens } = await serve()
    const api = connectClient<R>(url, { connectionParams: { token: 'a' } })
    await expect(api.whoami.query()).resolves.toBe('a')
    const disruptions = recordDisruptions(api)

    const error = await within(rpcErrorOf(api.$connection.updateParams({ token: 'bad' })), 'updateParams')
    expect(error.code).toBe('UNAUTHORIZED')
    await expect(api.whoami.query()).resolves.toBe('a')
    expect(api.$connection.state).toBe('open')
    expect(disruptions).toEqual([])
    expect(server.connectionCount).toBe(1)
    expect(tokens).toEqual(['a', 'bad'])
  })

  it('rejects with UNAUTHORIZED when createContext throws a plain Error on the new params, and keeps the previous context', async () => {
    const { url } = await serve()
    const api = connectClient<R>(url, { connectionParams: { token: 'a' } })
    await expect(api.whoami.query()).resolves.toBe('a')
    const disruptions = recordDisruptions(api)

    const error = await within(rpcErrorOf(api.$connection.updateParams({ token: 'boom' })), 'updateParams')
    expect(error.code).toBe('UNAUTHORIZED')
    await expect(api.whoami.query()).resolves.toBe('a')
    expect(disruptions).toEqual([])
  })

  it('evaluates the connectionParams function again when called without an argument', async () => {
    const { url, tokens } = await serve()
    let token = 'a'
    const api = connectClient<R>(url, { connectionParams: () => ({ token }) })
    await expect(api.whoami.query()).resolves.toBe('a')

    token = 'c'
    await within(api.$connection.updateParams(), 'updateParams')
    await expect(api.whoami.query()).resolves.toBe('c')
    expect(tokens).toEqual(['a', 'c'])
  })

  it('resolves without connecting when the client is not connected, and the next connect sends the params in init', async () => {
    const { url, tokens } = await serve()
    const api = connectClient<R>(url, { lazy: true, connectionParams: { token: 'a' } })

    await within(api.$connection.updateParams({ token: 'b' }), 'updateParams')
    expect(api.$connection.state).toBe('idle')
    expect(tokens).toEqual([])

    await expect(api.whoami.query()).resolves.toBe('b')
    expect(tokens).toEqual(['b'])
  })

  it('sends params given while disconnected on the next connect even when connectionParams is a function, and asks the function again after that', async () => {
    const { port, tokens } = await serve()
    const proxy = await startFaultProxy(port)
    let asked = 0
    const api = connectClient<R>(proxy.url('/rpc'), {
      connectionParams: () => ({ token: `fn${++asked}` }),
      reconnect: { minDelayMs: 10, maxDelayMs: 30 },
      lazy: true,
    })
    await within(api.$connection.updateParams({ token: 'given' }), 'updateParams')
    await expect(api.whoami.query()).resolves.toBe('given')
    expect(asked).toBe(0)

    let reopened = false
    api.$connection.on('state', (state) => {
      if (state === 'open') reopened = true
    })
    const pending = api.whoami.query(undefined, { timeoutMs: 5_000 }).catch(() => undefined) // something to restore, so the lazy client reconnects
    proxy.cut()
    await waitUntil(() => reopened, 'the reconnect')
    await pending
    await expect(api.whoami.query()).resolves.toBe('fn1')
    expect(tokens).toEqual(['given', 'fn1'])
  })

  it('sends the params given to updateParams, not the static connectionParams option, when reconnecting', async () => {
    const { port, tokens } = await serve()
    const proxy = await startFaultProxy(port)
    const api = connectClient<R>(proxy.url('/rpc'), {
      connectionParams: { token: 'a' },
      reconnect: { minDelayMs: 10, maxDelayMs: 30 },
    })
    await expect(api.whoami.query()).resolves.toBe('a')
    await within(api.$connection.updateParams({ token: 'b' }), 'updateParams')
    let reopened = false
    api.$connection.on('state', (state) => {
      if (state === 'open') reopened = true
    })

    proxy.cut()
    await waitUntil(() => reopened, 'the reconnect')
    await expect(api.whoami.query()).resolves.toBe('b')
    expect(tokens).toEqual(['a', 'b', 'b'])
  })
})

describe('reinit on the wire', () => {
  it('closes a peer that sends reinit before init with 4400', async () => {
    const { url, tokens } = await serve()
    const peer = await rawPeer(url)
    peer.send({ type: 'reinit', id: 1, params: { token: 'b' } })

    const { code } = await within(peer.closed, 'the close')
    expect(code).toBe(4400)
    expect(tokens).toEqual([])
  })

  it('answers reinit after the ack with a result for its id, and later calls use the new context', async () => {
    const { url } = await serve()
    const peer = await readyPeer(url, { token: 'a' })
    peer.send({ type: 'reinit', id: 1, params: { token: 'b' } })

    expect(await peer.next((m) => m.id === 1)).toEqual({ type: 'result', id: 1 })
    peer.send({ type: 'call', id: 2, method: 'query', path: 'whoami' })
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2, data: 'b' })
  })

  it('overlapping reinits: the latest that succeeded wins, whatever order they finish in', async () => {
    const { url } = await serve()
    const peer = await readyPeer(url, { token: 'a' })
    // The first is slow and succeeds last; the second is fast and succeeds first: the second still wins.
    peer.send({ type: 'reinit', id: 1, params: { token: 'slow-b' } })
    peer.send({ type: 'reinit', id: 2, params: { token: 'c' } })
    expect(await peer.next((m) => m.id === 1)).toEqual({ type: 'result', id: 1 })
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2 })
    peer.send({ type: 'call', id: 3, method: 'query', path: 'whoami' })
    expect(await peer.next((m) => m.id === 3)).toEqual({ type: 'result', id: 3, data: 'c' })

    // A later one that fails leaves the earlier success in place, even when the earlier finishes last.
    peer.send({ type: 'reinit', id: 4, params: { token: 'slow-d' } })
    peer.send({ type: 'reinit', id: 5, params: { token: 'bad' } })
    expect(await peer.next((m) => m.id === 5)).toMatchObject({ type: 'error', id: 5, code: 'UNAUTHORIZED' })
    expect(await peer.next((m) => m.id === 4)).toEqual({ type: 'result', id: 4 })
    peer.send({ type: 'call', id: 6, method: 'query', path: 'whoami' })
    expect(await peer.next((m) => m.id === 6)).toEqual({ type: 'result', id: 6, data: 'slow-d' })
  })

  it('answers a refused reinit with an error for its id and keeps the connection', async () => {
    const { url } = await serve()
    const peer = await readyPeer(url, { token: 'a' })
    peer.send({ type: 'reinit', id: 1, params: { token: 'bad' } })

    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', id: 1, code: 'UNAUTHORIZED' })
    peer.send({ type: 'call', id: 2, method: 'query', path: 'whoami' })
    expect(await peer.next((m) => m.id === 2)).toEqual({ type: 'result', id: 2, data: 'a' })
  })
})
