import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { createChannel, initRpc, isResync, tracked, type ResyncSignal } from '@wirecall/core'
import { connectClient, startServer } from '../helpers/harness'

const rpc = initRpc.create()
const channel = createChannel<{ text: string }>({ history: 10 })
let live = 0
const router = rpc.router({
  count: rpc.procedure.input(z.object({ to: z.number() })).subscription(async function* ({ input, lastEventId }) {
    live++
    try {
      for (let n = Number(lastEventId ?? 0) + 1; n <= input.to; n++) yield tracked(String(n), { n, at: new Date(n) })
    } finally {
      live--
    }
  }),
  feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
})

describe('subscriptions smoke', () => {
  it('streams, completes and unsubscribes', async () => {
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    const got: number[] = []
    for await (const ev of api.count.subscribe({ to: 5 })) {
      expectTypeOf(ev).toEqualTypeOf<{ n: number; at: Date }>()
      expect(ev.at).toBeInstanceOf(Date)
      got.push(ev.n)
    }
    expect(got).toEqual([1, 2, 3, 4, 5])
    const done = new Promise<number[]>((resolve) => {
      const seen: number[] = []
      api.count.subscribe({ to: 3 }, { onData: (e) => seen.push(e.n), onComplete: () => resolve(seen) })
    })
    expect(await done).toEqual([1, 2, 3])
    expect(live).toBe(0)
  })

  it('channel resume and resync', async () => {
    const { url } = await startServer({ router })
    const api = connectClient<typeof router>(url)
    const first = channel.publish({ text: 'a' })
    channel.publish({ text: 'b' })
    const events: unknown[] = []
    const it = api.feed.subscribe(undefined, { lastEventId: first })
    for await (const ev of it) {
      expectTypeOf(ev).toEqualTypeOf<{ text: string } | ResyncSignal>()
      events.push(isResync(ev) ? 'resync' : ev.text)
      if (events.length === 1) channel.publish({ text: 'c' })
      if (events.length === 2) break
    }
    expect(events).toEqual(['b', 'c'])
    const resyncs: string[] = []
    await new Promise<void>((resolve) => {
      const sub = api.feed.subscribe(undefined, { lastEventId: 'nope.1', onResync: () => { resyncs.push('r'); sub.unsubscribe(); resolve() } })
    })
    expect(resyncs).toEqual(['r'])
  })
})
