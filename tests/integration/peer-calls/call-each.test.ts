import { describe, expect, it } from 'vitest'
import { RpcError } from '@wirecall/core'
import { implementClient } from '@wirecall/client'
import { callEach, type CallEachOutcome } from '@wirecall/server'
import { connectClient, waitUntil, within } from '../../helpers/harness'
import { clientRouter, connectionNamed, peerClient, rooms, startPeerServer, type AppRouter } from './fixtures'

/**
 * `callEach`: a typed `emitWithAck` on a room. Every target is called at
 * once, each outcome arrives as it settles, failures are outcomes, and
 * leaving the loop aborts what is still running.
 */

const refuse = () => {
  throw new RpcError('FORBIDDEN', 'not today')
}

/** A client whose every handler refuses with FORBIDDEN. */
function refusingClient(url: string, name: string) {
  const handlers = implementClient(clientRouter, {
    ui: { confirm: refuse },
    math: { double: refuse },
    hold: refuse,
    fail: refuse,
    chain: { viaServer: refuse, roundTrip: refuse },
  })
  return connectClient<AppRouter>(url, { connectionParams: { name }, handlers })
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

describe('callEach', () => {
  it('over server.connections() with mixed outcomes yields one outcome per connection', async () => {
    const { server, url } = await startPeerServer()
    peerClient(url, 'yes')
    refusingClient(url, 'thrower')
    // A client with no handlers advertises nothing.
    connectClient<AppRouter>(url, { connectionParams: { name: 'bare' } })
    await waitUntil(() => server.connections().length === 3, 'three connections')

    const outcomes = await within(all(callEach(server.connections(), ({ peer }) => peer.ui.confirm.call({ text: 'Restart?' }))), 'every outcome')
    const byName = Object.fromEntries(outcomes.map((o) => [o.target.ctx.name, o.ok ? { value: o.value } : { code: o.error.code }]))
    expect(byName).toEqual({ yes: { value: true }, thrower: { code: 'FORBIDDEN' }, bare: { code: 'NOT_IMPLEMENTED' } })
    // NOT_IMPLEMENTED needs no round trip: it settles first.
    expect(outcomes[0]!.target.ctx.name).toBe('bare')
  })

  it("over a channel topic's members: everyone in the room, and nobody once they left", async () => {
    const { url } = await startPeerServer()
    const ada = peerClient(url, 'ada')
    const bob = peerClient(url, 'bob')
    const cyd = peerClient(url, 'cyd')
    const adaIn = ada.api.join.subscribe('kitchen', { onData: () => {} })
    bob.api.join.subscribe('kitchen', { onData: () => {} })
    cyd.api.join.subscribe('hall', { onData: () => {} })
    const kitchen = rooms.topic('kitchen')
    await waitUntil(() => kitchen.members().length === 2 && rooms.topic('hall').members().length === 1, 'three members in two rooms')

    const outcomes = await within(all(callEach(kitchen.members(), ({ peer }) => peer.ui.confirm.call({ text: 'Lunch?' }))), 'the kitchen')
    expect(outcomes.map((o) => [o.target.ctx.name, o.ok && o.value]).sort()).toEqual([
      ['ada', true],
      ['bob', true],
    ])
    expect(cyd.log.calls).toEqual([])

    adaIn.unsubscribe()
    await waitUntil(() => kitchen.members().length === 1, 'ada to leave the room')
    const after = await within(all(callEach(kitchen.members(), ({ peer }) => peer.ui.confirm.call({ text: 'Coffee?' }))), 'the kitchen again')
    expect(after.map((o) => o.target.ctx.name)).toEqual(['bob'])
    expect(ada.log.calls).toEqual(['ui.confirm'])
  })

  it('yields in the order calls settle, not the order of the targets', async () => {
    const { server, url } = await startPeerServer()
    peerClient(url, 'slow')
    peerClient(url, 'fast')
    await waitUntil(() => server.connections().length === 2, 'two connections')
    const order = ['slow', 'fast'].map((name) => server.connections().find((c) => c.ctx.name === name)!)
    const outcomes = await all(callEach(order, ({ ctx, peer }) => peer.hold.call({ ms: ctx.name === 'slow' ? 200 : 1 })))
    expect(outcomes.map((o) => o.target.ctx.name)).toEqual(['fast', 'slow'])
  })

  it('break stops waiting: the calls still running are cancelled on their clients', async () => {
    const { server, url } = await startPeerServer()
    peerClient(url, 'fast')
    const slow = peerClient(url, 'slow')
    await waitUntil(() => server.connections().length === 2, 'two connections')
    const seen: string[] = []
    for await (const outcome of callEach(server.connections(), ({ ctx, peer }, signal) => peer.hold.call({ ms: ctx.name === 'slow' ? 60_000 : 1 }, { signal }))) {
      seen.push(outcome.target.ctx.name)
      break
    }
    expect(seen).toEqual(['fast'])
    await waitUntil(() => slow.log.aborted.includes('hold'), 'the slow handler to be aborted')
    await waitUntil(() => server.stats().peerCalls === 0, 'the table to be empty')
  })

  it('aborting its signal cancels every call; the outcomes still arrive', async () => {
    const { server, url } = await startPeerServer()
    const a = peerClient(url, 'a')
    peerClient(url, 'b')
    await waitUntil(() => server.connections().length === 2, 'two connections')
    const controller = new AbortController()
    const iterable = callEach(server.connections(), ({ peer }, signal) => peer.hold.call({ ms: 60_000 }, { signal }), { signal: controller.signal })
    await waitUntil(() => a.log.calls.length === 1, 'the handlers to start')
    controller.abort()
    const outcomes = await within(all(iterable), 'the cancelled outcomes')
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['CANCELLED', 'CANCELLED'])
  })

  it('takes any iterable (a room the app keeps), and turns anything thrown into an RpcError outcome', async () => {
    const { server, url } = await startPeerServer()
    peerClient(url, 'ada')
    const { peer } = await connectionNamed(server, 'ada')
    const room = new Set([1, 2, 3])
    const outcomes: CallEachOutcome<number, number>[] = await all(
      callEach(room, (n) => {
        if (n === 2) throw new Error('sync failure')
        if (n === 3) return Promise.reject(new Error('async failure'))
        return peer.math.double.call(n)
      }),
    )
    const summary = outcomes.map((o) => [o.target, o.ok ? o.value : o.error.code]).sort()
    expect(summary).toEqual([
      [1, 2],
      [2, 'INTERNAL'],
      [3, 'INTERNAL'],
    ])
    expect(await all(callEach([], () => 1))).toEqual([])
  })
})
