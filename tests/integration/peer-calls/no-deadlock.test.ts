import { describe, expect, it } from 'vitest'
import { within } from '../../helpers/harness'
import { connectionNamed, peerClient, startPeerServer } from './fixtures'

/**
 * Calls nest both ways on one connection without waiting on each other:
 * nothing is serialised per connection, so a server resolver awaiting its
 * client while that client's handler awaits the server (and the reverse)
 * completes, many at once.
 */

describe('nested calls in both directions', () => {
  it('client → server → client → server: a resolver awaits a client handler that awaits another call to the server', async () => {
    const { server, url } = await startPeerServer()
    const { api, log } = peerClient(url, 'ada')
    // viaClient(n) → peer.chain.viaServer(n) → api.plusOne(n) → n + 1
    await expect(within(api.viaClient.mutate(41), 'the chain')).resolves.toBe(42)
    // 30 at once: within the 32 calls a server may have in flight to one client.
    const many = await within(Promise.all(Array.from({ length: 30 }, (_, n) => api.viaClient.mutate(n))), '30 chains at once')
    expect(many).toEqual(Array.from({ length: 30 }, (_, n) => n + 1))
    expect(log.calls.filter((p) => p === 'chain.viaServer')).toHaveLength(31)
    expect(server.stats().peerCalls).toBe(0)
  })

  it('server → client → server → client: a client handler awaits a resolver that awaits the same client', async () => {
    const { server, url } = await startPeerServer()
    const { log } = peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    // peer.chain.roundTrip(n) → api.doubleViaClient(n) → peer.math.double(n) → 2n
    await expect(within(peer.chain.roundTrip.call(21), 'the chain')).resolves.toBe(42)
    // 15 at once: each chain holds two of the 32 calls a server may have in flight to one client.
    const many = await within(Promise.all(Array.from({ length: 15 }, (_, n) => peer.chain.roundTrip.call(n))), '15 chains at once')
    expect(many).toEqual(Array.from({ length: 15 }, (_, n) => 2 * n))
    expect(log.calls.filter((p) => p === 'math.double')).toHaveLength(16)
    expect(server.stats()).toMatchObject({ peerCalls: 0, inFlightCalls: 0 })
  })
})
