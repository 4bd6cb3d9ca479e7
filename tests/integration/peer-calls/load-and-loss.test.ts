import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { rpcErrorOf, waitUntil, within } from '../../helpers/harness'
import { watchChild } from '../../helpers/watched-child'
import { connectionNamed, holdSeen, peerClient, RecordedWebSocket, startPeerServer } from './fixtures'

/**
 * Many clients called at once, and clients that vanish: every call settles
 * with its own client's answer, and the calls to a client whose socket is
 * cut reject with `CONNECTION_LOST` as soon as the server sees the close
 * (well within their timeout), leaving nothing behind.
 */

describe('load', () => {
  it('100 clients × 10 concurrent calls each all settle with the right values', async () => {
    const { server, url } = await startPeerServer()
    const clients = Array.from({ length: 100 }, (_, i) => peerClient(url, `c${i}`))
    await waitUntil(() => server.connections().length === 100, '100 connections to be set up', 10_000)
    const calls = server.connections().flatMap(({ ctx, peer }) => {
      const n = Number(ctx.name.slice(1))
      return Array.from({ length: 10 }, (_, k) => peer.math.double.call(n * 100 + k).then((value) => ({ expected: 2 * (n * 100 + k), value })))
    })
    expect(server.stats().peerCalls).toBeGreaterThan(0)
    const results = await within(Promise.all(calls), '1,000 calls', 15_000)
    expect(results).toHaveLength(1_000)
    for (const { expected, value } of results) expect(value).toBe(expected)
    expect(server.stats().peerCalls).toBe(0)
    for (const { log } of clients) expect(log.calls).toHaveLength(10)
  })
})

describe('a client that is killed', () => {
  it('its calls reject with CONNECTION_LOST within timeoutMs + 100 ms, and the table is empty within 1 s of the close', async () => {
    const { server, url } = await startPeerServer()
    RecordedWebSocket.opened.length = 0
    const { log } = peerClient(url, 'doomed', { WebSocket: RecordedWebSocket, reconnect: false })
    const bystander = peerClient(url, 'bystander')
    const { peer } = await connectionNamed(server, 'doomed')
    await connectionNamed(server, 'bystander')
    const timeoutMs = 2_000
    const started = performance.now()
    const calls = Array.from({ length: 10 }, () => peer.hold.call({ ms: 60_000 }, { timeoutMs }).catch((error: unknown) => ({ error, at: performance.now() })))
    await waitUntil(() => log.calls.length === 10, 'the 10 handlers to run')
    expect(server.stats().peerCalls).toBe(10)

    // Abrupt: no close frame, the TCP connection goes at once.
    const socket = RecordedWebSocket.opened[0]!
    socket.terminate()
    const closedAt = performance.now()
    const outcomes = (await within(Promise.all(calls), 'the calls to settle', timeoutMs + 1_000)) as { error: unknown; at: number }[]
    for (const { error, at } of outcomes) {
      expect((error as { code?: unknown }).code).toBe('CONNECTION_LOST')
      expect(at - started).toBeLessThan(timeoutMs + 100)
    }
    await waitUntil(() => server.stats().peerCalls === 0, 'the table to be empty', 1_000)
    expect(performance.now() - closedAt).toBeLessThan(1_000)

    // Never retried on another connection, and nobody else was disturbed.
    expect((await rpcErrorOf(peer.math.double.call(1))).code).toBe('CONNECTION_LOST')
    const other = await connectionNamed(server, 'bystander')
    await expect(other.peer.math.double.call(3)).resolves.toBe(6)
    expect(bystander.log.calls).toEqual(['math.double'])
  })

  it("a resolver that passed its own signal to the call sees CONNECTION_LOST too, not the CANCELLED its aborted signal would give", async () => {
    const { server, url } = await startPeerServer()
    RecordedWebSocket.opened.length = 0
    const { api, log } = peerClient(url, 'doomed', { WebSocket: RecordedWebSocket, reconnect: false })
    await connectionNamed(server, 'doomed')
    holdSeen.length = 0
    void api.holdSeen.mutate().catch(() => {})
    await waitUntil(() => log.calls.includes('hold'), 'the handler to run')
    RecordedWebSocket.opened[0]!.terminate()
    await waitUntil(() => holdSeen.length === 1, 'the resolver to catch')
    expect(holdSeen).toEqual(['CONNECTION_LOST'])
  })

  it('a client process killed with SIGKILL: its calls reject with CONNECTION_LOST within timeoutMs + 100 ms', async () => {
    const { server, url } = await startPeerServer()
    // The built client in its own process (packages/client/dist: `pnpm test` builds first).
    const holder = fileURLToPath(new URL('./peers/holder.mjs', import.meta.url))
    const child = watchChild(process.execPath, [holder, url, 'child'], { cwd: fileURLToPath(new URL('.', import.meta.url)) })
    await child.waitFor(() => (child.stdout().includes('ready') ? true : undefined), 'the child client to connect', 10_000)
    const { peer } = await connectionNamed(server, 'child')
    const timeoutMs = 3_000
    const started = performance.now()
    const untyped = peer as unknown as { hold: { call(input: unknown, options: { timeoutMs: number }): Promise<unknown> } }
    const calls = Array.from({ length: 5 }, () => untyped.hold.call({ ms: 60_000 }, { timeoutMs }).catch((error: { code?: string }) => ({ code: error.code, at: performance.now() })))
    await child.waitFor(() => (child.stdout().includes('held 5') ? true : undefined), 'the 5 calls to reach the child', 5_000)
    child.process.kill('SIGKILL')
    const outcomes = (await within(Promise.all(calls), 'the calls to settle', timeoutMs + 1_000)) as { code: string; at: number }[]
    for (const { code, at } of outcomes) {
      expect(code).toBe('CONNECTION_LOST')
      expect(at - started).toBeLessThan(timeoutMs + 100)
    }
    await waitUntil(() => server.stats().peerCalls === 0, 'the table to be empty', 1_000)
  })

  it('a call to a client that reconnects is not sent again on the new connection (at most once)', async () => {
    const { server, url } = await startPeerServer()
    RecordedWebSocket.opened.length = 0
    const { log } = peerClient(url, 'flaky', { WebSocket: RecordedWebSocket, reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
    const first = await connectionNamed(server, 'flaky')
    const call = first.peer.hold.call({ ms: 60_000 })
    await waitUntil(() => log.calls.length === 1, 'the handler to run')
    RecordedWebSocket.opened[0]!.terminate()
    expect((await rpcErrorOf(call)).code).toBe('CONNECTION_LOST')
    // The handler of the dropped connection was aborted with it.
    await waitUntil(() => log.aborted.includes('hold'), 'the old handler to be aborted')
    await waitUntil(() => RecordedWebSocket.opened.length === 2 && server.connections().length === 1, 'the client to reconnect')
    const second = await connectionNamed(server, 'flaky')
    await expect(second.peer.math.double.call(2)).resolves.toBe(4)
    expect(log.calls).toEqual(['hold', 'math.double'])
  })
})
