import { describe, expect, expectTypeOf, it } from 'vitest'
import WebSocket from 'ws'
import { createChannel, initRpc, isResync, resync, tracked, type Channel } from '@wirecall/core'
import { createRpcClient, type SubscriptionHandlers } from '@wirecall/client'
import { connectClient, sleep, startServer, waitUntil, within } from '../../helpers/harness'
import { startFaultProxy, type FaultProxy } from '../../helpers/fault-proxy'

/**
 * `onStarted({ resumed })` over real sockets: false on a first start, true
 * when a restarted subscription continued from its `lastEventId` with
 * nothing missed, false (then `onResync`, in that order) when the server
 * could not continue, and false when there was no position to continue
 * from. Connections are dropped through a fault proxy, as a network would,
 * or moved to another server (a restarted process, whose channel is new).
 */

const rpc = initRpc.create()

/** Ids the generators below give their events: `n`, counting from the `lastEventId` they are given. */
function makeRouter(channel: Channel<number>) {
  return rpc.router({
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
    /** Tracked events, no position: resumes from any number it is given, and yields a resync first for anything else. */
    counter: rpc.procedure.subscription(async function* ({ lastEventId, signal }) {
      let n = 0
      if (lastEventId !== undefined) {
        n = Number(lastEventId)
        if (!Number.isSafeInteger(n)) {
          n = 0
          yield resync()
        }
      }
      while (!signal.aborted) {
        await sleep(20, signal)
        yield tracked(String(++n), n)
      }
    }),
    /** No ids at all: a client has nothing to resume from. */
    plain: rpc.procedure.subscription(async function* ({ signal }) {
      for (let n = 1; !signal.aborted; n++) {
        await sleep(20, signal)
        yield n
      }
    }),
  })
}
type R = ReturnType<typeof makeRouter>

/** A server and a client that reaches it through a fault proxy, and a second server ("the restarted process") the proxy can be pointed at. */
async function setup(history = 100) {
  const first = createChannel<number>({ history })
  const a = await startServer({ router: makeRouter(first) })
  const proxy: FaultProxy = await startFaultProxy(a.port)
  const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
  /** Moves the client to a fresh server with a fresh channel: what a restarted process is. */
  const restart = async () => {
    const b = await startServer({ router: makeRouter(createChannel<number>({ history })) })
    proxy.setTarget(b.port)
    proxy.cut()
  }
  return { channel: first, api, proxy, restart }
}

/** Every callback of a subscription, in order: `started:true|false`, `resync`, data as numbers. */
function recorder() {
  const log: (string | number)[] = []
  const handlers = {
    onStarted: ({ resumed }: { resumed: boolean }) => void log.push(`started:${resumed}`),
    onData: (n: number) => void log.push(n),
    onResync: () => void log.push('resync'),
    onError: (error: { code: string }) => void log.push(`error:${error.code}`),
  }
  const starts = () => log.filter((entry) => typeof entry === 'string' && entry.startsWith('started')).length
  return { log, handlers, starts }
}

describe('onStarted({ resumed })', () => {
  it('channel: false on the first start, true after a drop it resumed from, with the missed events and no resync', async () => {
    const { channel, api, proxy } = await setup()
    const r = recorder()
    api.feed.subscribe(undefined, r.handlers)
    await waitUntil(() => r.starts() === 1, 'the first start')
    channel.publish(1)
    await waitUntil(() => r.log.includes(1), 'event 1')
    proxy.refuse(true) // out of reach until the test has published what it will miss
    proxy.cut()
    await waitUntil(() => channel.subscriberCount === 0, 'the server to see the drop')
    channel.publish(2) // missed while away
    proxy.refuse(false)
    await waitUntil(() => r.starts() === 2, 'the resubscription', 5_000)
    channel.publish(3)
    await waitUntil(() => r.log.includes(3), 'event 3')
    expect(r.log).toEqual(['started:false', 1, 'started:true', 2, 3])
  })

  it('channel: true after a drop before any event (it resumes from the position started gave)', async () => {
    const { channel, api, proxy } = await setup()
    const r = recorder()
    api.feed.subscribe(undefined, r.handlers)
    await waitUntil(() => r.starts() === 1, 'the first start')
    proxy.refuse(true) // out of reach until the test has published what it will miss
    proxy.cut()
    await waitUntil(() => channel.subscriberCount === 0, 'the server to see the drop')
    channel.publish(1)
    proxy.refuse(false)
    await waitUntil(() => r.log.includes(1), 'event 1, replayed', 5_000)
    expect(r.log).toEqual(['started:false', 'started:true', 1])
  })

  it('channel: false, then onResync, after a restart whose new channel does not know the id', async () => {
    const { channel, api, restart } = await setup()
    const r = recorder()
    api.feed.subscribe(undefined, r.handlers)
    await waitUntil(() => r.starts() === 1, 'the first start')
    channel.publish(1)
    await waitUntil(() => r.log.includes(1), 'event 1')
    await restart()
    await waitUntil(() => r.log.includes('resync'), 'the resync', 5_000)
    await sleep(20)
    expect(r.log).toEqual(['started:false', 1, 'started:false', 'resync'])
  })

  it('channel: a lastEventId given by the app that the channel still holds is a resumed first start', async () => {
    const { channel, api } = await setup()
    const id = channel.publish(1)
    channel.publish(2)
    const r = recorder()
    api.feed.subscribe(undefined, { ...r.handlers, lastEventId: id })
    await waitUntil(() => r.log.includes(2), 'event 2, replayed')
    expect(r.log).toEqual(['started:true', 2])
  })

  it('a stream without a position: true when it carries on from the id, false and then onResync when its first message is a resync', async () => {
    const { api, proxy } = await setup()
    const r = recorder()
    api.counter.subscribe(undefined, r.handlers)
    await waitUntil(() => r.log.includes(2), 'two events')
    proxy.cut()
    await waitUntil(() => r.starts() === 2, 'the resubscription', 5_000)
    await waitUntil(() => r.log.filter((e) => typeof e === 'number').length >= 4, 'more events')
    expect(r.log.filter((e) => typeof e === 'string')).toEqual(['started:false', 'started:true'])
    // It carried on from the id: no gap, no repeat.
    const numbers = r.log.filter((e) => typeof e === 'number')
    expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => i + 1))

    const other = recorder()
    api.counter.subscribe(undefined, { ...other.handlers, lastEventId: 'not-a-number' })
    await waitUntil(() => other.log.length >= 3, 'the start, the resync and an event')
    expect(other.log.slice(0, 3)).toEqual(['started:false', 'resync', 1])
  })

  it('a stream without ids: false after a drop too, with no resync (nothing to resume from)', async () => {
    const { api, proxy } = await setup()
    const r = recorder()
    api.plain.subscribe(undefined, r.handlers)
    await waitUntil(() => r.log.includes(1), 'event 1')
    proxy.cut()
    await waitUntil(() => r.starts() === 2, 'the resubscription', 5_000)
    expect(r.log.filter((e) => typeof e === 'string')).toEqual(['started:false', 'started:false'])
  })

  it('a zero-argument onStarted still type-checks and runs', async () => {
    expectTypeOf<() => void>().toExtend<NonNullable<SubscriptionHandlers<number>['onStarted']>>()
    expectTypeOf<Parameters<NonNullable<SubscriptionHandlers<number>['onStarted']>>[0]>().toEqualTypeOf<{ resumed: boolean }>()
    const { api } = await setup()
    let started = 0
    api.feed.subscribe(undefined, { onStarted: () => started++ })
    await waitUntil(() => started === 1, 'onStarted')
  })

  it('the iterator form has no started signal: a resumed loop just goes on, one that could not resume gets a resync', async () => {
    const { channel, restart, proxy } = await setup()
    // A client of its own, so the loop's subscription is its only one.
    const api = createRpcClient<R>({ url: proxy.url('/rpc'), WebSocket, reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
    const seen: unknown[] = []
    const loop = (async () => {
      for await (const event of api.feed.subscribe()) {
        seen.push(event)
        if (seen.length === 3) break
      }
    })()
    await waitUntil(() => channel.subscriberCount === 1, 'the loop to subscribe')
    channel.publish(1)
    await waitUntil(() => seen.length === 1, 'event 1')
    proxy.refuse(true) // out of reach until the test has published what it will miss
    proxy.cut()
    await waitUntil(() => channel.subscriberCount === 0, 'the drop')
    channel.publish(2)
    proxy.refuse(false)
    await waitUntil(() => seen.length === 2, 'event 2, resumed', 5_000)
    await restart()
    await within(loop, 'the loop to end on the resync', 5_000)
    expect(seen.slice(0, 2)).toEqual([1, 2])
    expect(isResync(seen[2])).toBe(true)
    await api.$connection.close()
  })
})
