import { describe, expect, it } from 'vitest'
import { rpcErrorOf, sleep, waitUntil, within } from '../../helpers/harness'
import { connectionNamed, peerClient, rawHandlerPeer, startPeerServer } from './fixtures'

/**
 * The server calling a client procedure (`peer.x.call()`): answers,
 * errors both ways, validation on the client, timeouts and cancellation
 * that reach the client's handler, what is refused before anything is
 * sent, and `reinit` replacing the advertised set.
 */

describe('server → client calls', () => {
  it('resolves with what the handler returned, from server.connections() and from a resolver', async () => {
    const { server, url } = await startPeerServer()
    const { api, log } = peerClient(url, 'ada')
    const { peer, ctx } = await connectionNamed(server, 'ada')
    expect(ctx).toEqual({ name: 'ada' })
    await expect(peer.ui.confirm.call({ text: 'Delete?' })).resolves.toBe(true)
    await expect(peer.math.double.call(21, { timeoutMs: 1_000 })).resolves.toBe(42)
    // A resolver's `peer` is its own connection's client.
    await expect(api.confirm.mutate('Sure.')).resolves.toBe(false)
    expect(log.calls).toEqual(['ui.confirm', 'math.double', 'ui.confirm'])
    expect(server.stats().peerCalls).toBe(0)
  })

  it('an RpcError the handler throws reaches the server with its code, message and data; anything else is INTERNAL without its message', async () => {
    const { server, url } = await startPeerServer()
    peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    const conflict = await rpcErrorOf(peer.fail.call({ code: 'CONFLICT' }))
    expect([conflict.code, conflict.message, conflict.data]).toEqual(['CONFLICT', 'failed with CONFLICT', { why: 'asked to' }])
    const secret = await rpcErrorOf(peer.fail.call({ code: 'secret' }))
    expect(secret.code).toBe('INTERNAL')
    expect(secret.message).not.toContain('hunter2')
  })

  it('input the client refuses is BAD_REQUEST with the issues, and the handler never runs', async () => {
    const { server, url } = await startPeerServer()
    const { log } = peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    // The types say a string; what reaches the client is checked by the client all the same.
    const error = await rpcErrorOf(peer.ui.confirm.call({ text: 42 as unknown as string }))
    expect(error.code).toBe('BAD_REQUEST')
    expect((error.data as { issues: { path: unknown[] }[] }).issues[0]!.path).toEqual(['text'])
    expect(log.calls).toEqual([])
  })

  it('past its timeoutMs: TIMEOUT on the server, and the handler sees its signal aborted (the cancel arrived)', async () => {
    const { server, url } = await startPeerServer()
    const { log } = peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    const started = performance.now()
    const error = await rpcErrorOf(peer.hold.call({ ms: 10_000 }, { timeoutMs: 200 }))
    expect(error.code).toBe('TIMEOUT')
    expect(performance.now() - started).toBeGreaterThanOrEqual(190)
    await waitUntil(() => log.aborted.includes('hold'), 'the handler to be aborted')
    expect(server.stats().peerCalls).toBe(0)
  })

  it('the default timeout comes from the peerCalls option', async () => {
    const { server, url } = await startPeerServer({ peerCalls: { timeoutMs: 150 } })
    const { log } = peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    expect((await rpcErrorOf(peer.hold.call({ ms: 10_000 }))).code).toBe('TIMEOUT')
    await waitUntil(() => log.aborted.includes('hold'), 'the handler to be aborted')
  })

  it('aborting the signal: CANCELLED at once, and the handler is aborted', async () => {
    const { server, url } = await startPeerServer()
    const { log } = peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    const controller = new AbortController()
    const call = peer.hold.call({ ms: 10_000 }, { signal: controller.signal })
    await waitUntil(() => log.calls.includes('hold'), 'the handler to start')
    controller.abort()
    expect((await within(rpcErrorOf(call), 'the cancelled call', 500)).code).toBe('CANCELLED')
    await waitUntil(() => log.aborted.includes('hold'), 'the handler to be aborted')
    expect(server.stats().peerCalls).toBe(0)
    // An already aborted signal: refused without sending.
    expect((await rpcErrorOf(peer.hold.call({ ms: 1 }, { signal: controller.signal }))).code).toBe('CANCELLED')
    await sleep(50)
    expect(log.calls.filter((p) => p === 'hold')).toHaveLength(1)
  })

  it('a resolver that awaits its client is cancelled with its caller: the server call is CANCELLED and the client handler aborted', async () => {
    const { server, url } = await startPeerServer()
    const { api, log } = peerClient(url, 'ada')
    await connectionNamed(server, 'ada')
    const controller = new AbortController()
    const call = api.holdVia.mutate(undefined, { signal: controller.signal })
    await waitUntil(() => log.calls.includes('hold'), 'the client handler to start')
    controller.abort()
    expect((await rpcErrorOf(call)).code).toBe('CANCELLED')
    await waitUntil(() => log.aborted.includes('hold'), 'the client handler to be aborted')
    await waitUntil(() => server.stats().peerCalls === 0 && server.stats().inFlightCalls === 0, 'everything to settle')
  })

  it('more than maxInFlight calls at once: the next is TOO_MANY_REQUESTS without being sent', async () => {
    const { server, url } = await startPeerServer({ peerCalls: { maxInFlight: 3 } })
    const { log } = peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    const controller = new AbortController()
    const held = [1, 2, 3].map(() => peer.hold.call({ ms: 10_000 }, { signal: controller.signal }))
    expect((await rpcErrorOf(peer.math.double.call(1))).code).toBe('TOO_MANY_REQUESTS')
    expect(server.stats().peerCalls).toBe(3)
    controller.abort()
    for (const call of held) expect((await rpcErrorOf(call)).code).toBe('CANCELLED')
    await expect(peer.math.double.call(2)).resolves.toBe(4)
    expect(log.calls.filter((p) => p === 'math.double')).toHaveLength(1)
  })

  it('a timeoutMs that is not a positive integer, or input that cannot be serialized: BAD_REQUEST, nothing sent', async () => {
    const { server, url } = await startPeerServer()
    const { log } = peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    for (const timeoutMs of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect((await rpcErrorOf(peer.math.double.call(1, { timeoutMs }))).code).toBe('BAD_REQUEST')
    }
    const unwritable = { text: 'x', toJSON: () => { throw new Error('cannot be written') } }
    expect((await rpcErrorOf(peer.ui.confirm.call(unwritable))).code).toBe('BAD_REQUEST')
    await sleep(50)
    expect(log.calls).toEqual([])
    expect(server.stats().peerCalls).toBe(0)
  })
})

describe('what the client advertised', () => {
  it('a path the client did not advertise: NOT_IMPLEMENTED at once, and no frame reaches the client', async () => {
    const { server } = await startPeerServer().then(async (s) => ({ ...s, peer: await rawHandlerPeer(s.url, 'raw', ['ui.confirm']) }))
    const { peer } = await connectionNamed(server, 'raw')
    const started = performance.now()
    const error = await rpcErrorOf(peer.math.double.call(1))
    expect(error.code).toBe('NOT_IMPLEMENTED')
    expect(performance.now() - started).toBeLessThan(50)
    expect(server.stats().peerCalls).toBe(0)
  })

  it('counts the frames: an unadvertised call sends nothing, an advertised one sends one call', async () => {
    const { server, url } = await startPeerServer()
    const raw = await rawHandlerPeer(url, 'raw', ['ui.confirm'])
    const { peer } = await connectionNamed(server, 'raw')
    const before = raw.messages.length
    expect((await rpcErrorOf(peer.math.double.call(1))).code).toBe('NOT_IMPLEMENTED')
    expect((await rpcErrorOf(peer.hold.call({ ms: 1 }))).code).toBe('NOT_IMPLEMENTED')
    await sleep(100)
    expect(raw.messages.length).toBe(before)
    const answered = peer.ui.confirm.call({ text: 'ok?' })
    const call = await raw.next((m) => m.type === 'call')
    expect(call).toEqual({ type: 'call', id: 1, path: 'ui.confirm', input: { text: 'ok?' }, timeoutMs: 10_000 })
    raw.send({ type: 'result', id: 1, data: true })
    await expect(answered).resolves.toBe(true)
    expect(raw.messages.length).toBe(before + 1)
  })

  it('a client that advertised nothing gets no call: every path is NOT_IMPLEMENTED', async () => {
    const { server, url } = await startPeerServer()
    const raw = await rawHandlerPeer(url, 'raw', undefined)
    const { peer } = await connectionNamed(server, 'raw')
    expect((await rpcErrorOf(peer.ui.confirm.call({ text: '?' }))).code).toBe('NOT_IMPLEMENTED')
    await sleep(50)
    expect(raw.messages.filter((m) => m.type === 'call')).toEqual([])
  })

  it('with clientRouter, a path the router does not declare is NOT_IMPLEMENTED even if the client advertised it', async () => {
    const { server, url } = await startPeerServer()
    const raw = await rawHandlerPeer(url, 'raw', ['ui.confirm', 'admin.wipe'])
    const { peer } = await connectionNamed(server, 'raw')
    const untyped = peer as unknown as { admin: { wipe: { call(input?: unknown): Promise<unknown> } } }
    expect((await rpcErrorOf(untyped.admin.wipe.call())).code).toBe('NOT_IMPLEMENTED')
    await sleep(50)
    expect(raw.messages.filter((m) => m.type === 'call')).toEqual([])
  })

  it('reinit with handlers replaces the set; without handlers it leaves it as it was', async () => {
    const { server, url } = await startPeerServer()
    const raw = await rawHandlerPeer(url, 'raw', ['ui.confirm'])
    const { peer } = await connectionNamed(server, 'raw')
    expect((await rpcErrorOf(peer.math.double.call(1))).code).toBe('NOT_IMPLEMENTED')

    raw.send({ type: 'reinit', id: 1, params: { name: 'raw' }, handlers: ['math.double'] })
    await raw.next((m) => m.type === 'result' && m.id === 1)
    expect((await rpcErrorOf(peer.ui.confirm.call({ text: '?' }))).code).toBe('NOT_IMPLEMENTED')
    const doubled = peer.math.double.call(4)
    const call = await raw.next((m) => m.type === 'call' && m.path === 'math.double')
    raw.send({ type: 'result', id: call.id, data: 8 })
    await expect(doubled).resolves.toBe(8)

    raw.send({ type: 'reinit', id: 2, params: { name: 'raw' } })
    await raw.next((m) => m.type === 'result' && m.id === 2)
    const again = peer.math.double.call(5)
    const second = await raw.next((m) => m.type === 'call' && m.id !== call.id)
    raw.send({ type: 'result', id: second.id, data: 10 })
    await expect(again).resolves.toBe(10)
  })

  it('the official client advertises every path of its router in init', async () => {
    const { server, url } = await startPeerServer()
    peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    await expect(peer.chain.viaServer.call(1)).resolves.toBe(2)
    await expect(peer.hold.call({ ms: 1 })).resolves.toBe('held')
  })
})
