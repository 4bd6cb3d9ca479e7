import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { initRpc } from '@wirecall/core'
import { startFaultProxy } from '../../helpers/fault-proxy'
import { connectClient, gate, readyPeer, rpcErrorOf, sleep, startServer, waitUntil, within } from '../../helpers/harness'

/**
 * A mutation declared `.idempotent()` on the server: the server lists it in
 * `ack`, the official client sends each call to it with an idempotency key
 * without being asked, and re-sends it after a dropped connection, where the
 * server runs it once. `{ requireKey: true }` refuses a call without a key.
 */

function makeApp() {
  const seen: { path: string; key: string | undefined }[] = []
  let runs = 0
  const release = gate()
  const rpc = initRpc.create()
  const router = rpc.router({
    orders: {
      pay: rpc.procedure
        .input(z.object({ orderId: z.string() }))
        .idempotent({ requireKey: true })
        .mutation(async ({ input, idempotencyKey }) => {
          seen.push({ path: 'orders.pay', key: idempotencyKey })
          runs++
          await release.opened
          return { paid: input.orderId, run: runs }
        }),
      tag: rpc.procedure
        .input(z.string())
        .idempotent()
        .mutation(({ input, idempotencyKey }) => {
          seen.push({ path: 'orders.tag', key: idempotencyKey })
          return input
        }),
      note: rpc.procedure.input(z.string()).mutation(({ input, idempotencyKey }) => {
        seen.push({ path: 'orders.note', key: idempotencyKey })
        return input
      }),
    },
  })
  return { router, seen, release, runs: () => runs }
}

describe('server-declared idempotency', () => {
  it('ack lists the declared mutations', async () => {
    const app = makeApp()
    const { url } = await startServer({ router: app.router })
    const peer = await readyPeer(url)
    expect(peer.messages[0]).toMatchObject({ type: 'ack', idempotent: ['orders.pay', 'orders.tag'] })
  })

  it('the client sends a key to a declared mutation without being asked, and none to the others', async () => {
    const app = makeApp()
    app.release.open()
    const { url } = await startServer({ router: app.router })
    // Made before the connection's ack: the connection that writes it decides.
    const api = connectClient<typeof app.router>(url)
    const first = api.orders.tag.mutate('before-ack')
    await expect(first).resolves.toBe('before-ack')
    // Made after: the announced list decides at once.
    await api.orders.tag.mutate('after-ack')
    await api.orders.note.mutate('plain')
    await api.orders.pay.mutate({ orderId: 'o-1' })
    const keyed = Object.fromEntries(app.seen.map((s) => [s.path + ':' + String(s.key !== undefined), true]))
    expect(keyed).toEqual({ 'orders.tag:true': true, 'orders.note:false': true, 'orders.pay:true': true })
    expect(new Set(app.seen.filter((s) => s.key !== undefined).map((s) => s.key)).size).toBe(3)
  })

  it('a caller may still opt out of a declared key, and a mutation that requires one refuses the call with BAD_REQUEST', async () => {
    const app = makeApp()
    app.release.open()
    const { url } = await startServer({ router: app.router })
    const api = connectClient<typeof app.router>(url)
    await expect(api.orders.tag.mutate('x', { idempotent: false })).resolves.toBe('x')
    expect(app.seen.at(-1)).toEqual({ path: 'orders.tag', key: undefined })
    const refused = await rpcErrorOf(api.orders.pay.mutate({ orderId: 'o-2' }, { idempotent: false }))
    expect(refused.code).toBe('BAD_REQUEST')
    expect(refused.message).toContain('requires an idempotencyKey')
    expect(app.runs()).toBe(0)
  })

  it('refuses a raw call without a key to a mutation that requires one, and serves it with a key', async () => {
    const app = makeApp()
    app.release.open()
    const { url } = await startServer({ router: app.router })
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 1, method: 'mutation', path: 'orders.pay', input: { orderId: 'o' } })
    expect(await peer.next((m) => m.id === 1)).toMatchObject({ type: 'error', code: 'BAD_REQUEST' })
    peer.send({ type: 'call', id: 2, method: 'mutation', path: 'orders.pay', input: { orderId: 'o' }, idempotencyKey: 'k-1' })
    expect(await peer.next((m) => m.id === 2)).toMatchObject({ type: 'result', data: { paid: 'o', run: 1 } })
  })

  it('a declared mutation in flight when the connection drops is re-sent after the reconnect and runs once', async () => {
    const app = makeApp()
    const { port } = await startServer({ router: app.router })
    const proxy = await startFaultProxy(port)
    const api = connectClient<typeof app.router>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
    const payment = api.orders.pay.mutate({ orderId: 'o-3' })
    await waitUntil(() => app.runs() === 1, 'the payment to run')
    proxy.cut()
    await waitUntil(() => api.$connection.state === 'reconnecting' || api.$connection.state === 'open', 'the drop to be seen')
    await waitUntil(() => api.$connection.state === 'open', 'the reconnect', 3_000)
    // The re-sent call joins the run still going.
    await sleep(50)
    app.release.open()
    await expect(within(payment, 'the payment', 3_000)).resolves.toEqual({ paid: 'o-3', run: 1 })
    expect(app.runs()).toBe(1)
  })
})
