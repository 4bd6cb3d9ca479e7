import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { CloseCode, initRpc, PROTOCOL } from '@wirecall/core'
import { DEFAULT_ACK, rawPeer, sleep, startServer, tryUpgrade, waitUntil, within, type RawPeer } from '../../helpers/harness'

/**
 * The handshake: the `wirecall.v1` subprotocol is required before any
 * upgrade, the first message must be `init` and arrive in time, the server
 * answers it with `ack`, and anything out of order or not a valid frame
 * closes the connection with 4400.
 */

const rpc = initRpc.create()
const router = rpc.router({
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
})

async function initialised(url: string): Promise<RawPeer> {
  const peer = await rawPeer(url)
  peer.send({ type: 'init' })
  await peer.next((m) => m.type === 'ack')
  return peer
}

describe('subprotocol negotiation', () => {
  it.each([
    ['no subprotocol', []],
    ['a wrong subprotocol', ['graphql-ws']],
    ['a later version only', ['wirecall.v2']],
    ['a near miss', ['wirecall.v1x', 'Wirecall.v1']],
  ] as const)('refuses %s with HTTP 400 before any upgrade', async (_name, protocols) => {
    const { url, server } = await startServer({ router })
    const outcome = await tryUpgrade(url, [...protocols])
    expect(outcome).toMatchObject({ opened: false, status: 400 })
    if (!outcome.opened) expect(outcome.body).toContain(PROTOCOL)
    expect(server.connectionCount).toBe(0)
  })

  it('accepts wirecall.v1 among other offered subprotocols and selects it', async () => {
    const { url } = await startServer({ router })
    expect(await tryUpgrade(url, ['graphql-ws', PROTOCOL])).toEqual({ opened: true, protocol: PROTOCOL })
    expect(await tryUpgrade(url, PROTOCOL)).toEqual({ opened: true, protocol: PROTOCOL })
  })
})

describe('init', () => {
  it('closes a peer that opens but never sends init with 4408 after initTimeoutMs', async () => {
    const { url, server } = await startServer({ router, initTimeoutMs: 200 })
    const startedAt = Date.now()
    const peer = await rawPeer(url)
    const closed = await within(peer.closed, 'the init timeout to close the peer')
    expect(closed.code).toBe(CloseCode.InitTimeout)
    expect(closed.code).toBe(4408)
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(180)
    expect(peer.messages).toEqual([])
    await waitUntil(() => server.connectionCount === 0, 'the server to release the connection')
  })

  it('pings do not count as init: the peer is still closed with 4408', async () => {
    const { url } = await startServer({ router, initTimeoutMs: 200 })
    const peer = await rawPeer(url)
    peer.send({ type: 'ping' })
    await peer.next((m) => m.type === 'pong')
    expect((await within(peer.closed, 'the init timeout to close the peer')).code).toBe(4408)
  })

  it('a peer that sends init in time is not closed by the init timer', async () => {
    const { url } = await startServer({ router, initTimeoutMs: 200 })
    const peer = await initialised(url)
    await sleep(350)
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
    peer.send({ type: 'call', id: 1, method: 'query', path: 'echo', input: 'alive' })
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'result', data: 'alive' })
  })

  it('sends ack after a valid init, and nothing before it', async () => {
    let contexts = 0
    const { url } = await startServer({
      router,
      createContext: async () => {
        await sleep(30)
        contexts++
        return {}
      },
    })
    const peer = await rawPeer(url)
    await sleep(30)
    expect(peer.messages).toEqual([])
    peer.send({ type: 'init', params: { token: 't' } })
    const ack = await peer.next((m) => m.type === 'ack')
    expect(ack).toEqual(DEFAULT_ACK)
    expect(contexts).toBe(1)
    expect(peer.messages).toEqual([DEFAULT_ACK])
  })
})

describe('protocol errors close with 4400', () => {
  const cases: [name: string, act: (peer: RawPeer) => Promise<void> | void][] = [
    ['a call before init', (p) => p.send({ type: 'call', id: 1, method: 'query', path: 'echo', input: 'x' })],
    ['a cancel before init', (p) => p.send({ type: 'cancel', id: 1 })],
    ['a subscribe before init', (p) => p.send({ type: 'subscribe', id: 1, path: 'echo' })],
    [
      'a call while createContext is still running',
      (p) => p.send([{ type: 'init' }, { type: 'call', id: 1, method: 'query', path: 'echo', input: 'x' }]),
    ],
    [
      'a second init after the ack',
      async (p) => {
        p.send({ type: 'init' })
        await p.next((m) => m.type === 'ack')
        p.send({ type: 'init' })
      },
    ],
    ['two inits in one batch', (p) => p.send([{ type: 'init' }, { type: 'init' }])],
    ['a binary frame', (p) => p.ws.send(Buffer.from(JSON.stringify({ type: 'init' })), { binary: true })],
    [
      'a binary frame after init',
      async (p) => {
        p.send({ type: 'init' })
        await p.next((m) => m.type === 'ack')
        p.ws.send(Buffer.from('{"type":"ping"}'), { binary: true })
      },
    ],
    ['a frame that is not JSON', (p) => p.send('{"type":"init"')],
    [
      'a frame that is not JSON after init',
      async (p) => {
        p.send({ type: 'init' })
        await p.next((m) => m.type === 'ack')
        p.send('hello?')
      },
    ],
    ['an unknown message type', (p) => p.send({ type: 'connection_init' })],
    ['an empty batch', (p) => p.send([])],
  ]

  it.each(cases)('%s', async (_name, act) => {
    // An async createContext keeps the connection in its authenticating state for a moment after init.
    const { url, server } = await startServer({
      router,
      createContext: async () => {
        await sleep(20)
        return {}
      },
    })
    const peer = await rawPeer(url)
    await act(peer)
    const closed = await within(peer.closed, 'the server to close the peer')
    expect(closed.code).toBe(CloseCode.ProtocolError)
    expect(closed.code).toBe(4400)
    // Nothing but (possibly) the ack was answered.
    expect(peer.messages.filter((m) => m.type !== 'ack')).toEqual([])
    await waitUntil(() => server.connectionCount === 0, 'the server to release the connection')
  })
})

describe('set-up time', () => {
  it('bounds a slow createContext by initTimeoutMs too, and says so', async () => {
    let release!: () => void
    const { url } = await startServer({
      router,
      initTimeoutMs: 200,
      createContext: () => new Promise<object>((resolve) => (release = () => resolve({}))),
    })
    const peer = await rawPeer(url)
    peer.send({ type: 'init' })
    const closed = await within(peer.closed, 'the server to give up on createContext')
    expect(closed).toEqual({ code: 4408, reason: 'connection set-up (createContext) took too long' })
    release()
  })
})

describe('a call batched with init', () => {
  it.each([
    ['no createContext', undefined],
    ['a synchronous createContext', () => ({})],
  ])('is a protocol error with %s too, not sometimes accepted', async (_name, createContext) => {
    const { url } = await startServer(createContext === undefined ? { router } : { router, createContext })
    const peer = await rawPeer(url)
    peer.send([{ type: 'init' }, { type: 'call', id: 1, method: 'query', path: 'echo', input: 'x' }])
    const closed = await within(peer.closed, 'the server to close the peer')
    expect(closed.code).toBe(4400)
    expect(peer.messages.filter((m) => m.type === 'result')).toEqual([])
  })
})

describe('ping', () => {
  it('answers pings with pongs before and after init', async () => {
    const { url } = await startServer({ router })
    const peer = await rawPeer(url)
    const pongs = () => peer.messages.filter((m) => m.type === 'pong').length

    peer.send({ type: 'ping' })
    await waitUntil(() => pongs() === 1, 'a pong before init')
    expect(peer.messages).toEqual([{ type: 'pong' }])

    peer.send({ type: 'init' })
    await peer.next((m) => m.type === 'ack')
    peer.send({ type: 'ping' })
    peer.send([{ type: 'ping' }, { type: 'ping' }])
    await waitUntil(() => pongs() === 4, 'three pongs after init')
    // A pong from the client needs no answer.
    peer.send({ type: 'pong' })
    peer.send({ type: 'call', id: 7, method: 'query', path: 'echo', input: 'ok' })
    expect(await peer.next((m) => m.id === 7)).toMatchObject({ type: 'result', data: 'ok' })
    expect(pongs()).toBe(4)
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
  })
})
