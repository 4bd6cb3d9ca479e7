import { describe, expect, it } from 'vitest'
import { initRpc, isResync, type ResyncSignal, type RpcError } from '@wirecall/core'
import { connectClient, readyPeer, sleep, startServer, waitUntil, within } from '../../helpers/harness'
import { startFaultProxy } from '../../helpers/fault-proxy'
import type { Channels, Msg } from './fixture'
import { startPump } from './pump'
import { publishRange, range } from './read'
import type { ConformanceChannel } from './types'

const rpc = initRpc.create()

function routerOf(channel: ConformanceChannel<Msg>) {
  return rpc.router({
    ping: rpc.procedure.query(() => 'pong'),
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
  })
}
type FeedRouter = ReturnType<typeof routerOf>

/** A server on 127.0.0.1 serving `channel`, closed after the test. */
const serve = (channel: ConformanceChannel<Msg>) => startServer({ router: routerOf(channel) })

/** Every callback of a subscription, in order: `started:<resumed>`, `resync:<reason>`, event numbers, `error:<code>`. */
function recorder() {
  const log: (string | number)[] = []
  const handlers = {
    onStarted: ({ resumed }: { resumed: boolean }) => void log.push(`started:${resumed}`),
    onData: (m: Msg) => void log.push(m.at instanceof Date && m.at.getTime() === Date.UTC(2024, 0, 1) + m.n * 1000 ? m.n : `bad data ${JSON.stringify(m)}`),
    onResync: (signal: ResyncSignal) => void log.push(`resync:${signal.reason ?? ''}`),
    onError: (error: RpcError) => void log.push(`error:${error.code}`),
    onComplete: () => void log.push('complete'),
  }
  const data = () => log.filter((entry): entry is number => typeof entry === 'number')
  const starts = () => log.filter((entry) => typeof entry === 'string' && entry.startsWith('started')).length
  return { log, handlers, data, starts }
}

/** Over a real server and client on 127.0.0.1: the reason on the wire and in `onResync`, `started`'s position, and resuming after a drop or on another node. */
export function describeEndToEnd(channels: Channels): void {
  describe('end to end, over a real server on 127.0.0.1', () => {
    it('the resync reason reaches the client: on the wire, in onResync, and in the iterator form', async () => {
      const channel = channels.make({ history: 10 })
      const ids = await publishRange(channel, 1, 300)
      const { url } = await serve(channel)

      const peer = await readyPeer(url)
      peer.send({ type: 'subscribe', id: 6, path: 'feed', lastEventId: ids[1]! })
      expect(await peer.next((m) => m.type === 'resync' && m.id === 6)).toEqual({ type: 'resync', id: 6, reason: 'trimmed' })

      const api = connectClient<FeedRouter>(url)
      const r = recorder()
      const sub = api.feed.subscribe(undefined, { ...r.handlers, lastEventId: ids[2]! })
      await waitUntil(() => r.log.length >= 2, 'the start and the resync')
      expect(r.log).toEqual(['started:false', 'resync:trimmed'])
      // The position after a resync is the newest event, so the next resume is not another resync.
      expect(sub.lastEventId).toBe(channel.lastEventId)

      const got: (string | number)[] = []
      await within(
        (async () => {
          for await (const event of api.feed.subscribe(undefined, { lastEventId: 'garbage' })) {
            if (isResync(event)) {
              got.push(`resync:${event.reason ?? ''}`)
              await channel.publish({ n: 301, at: new Date(Date.UTC(2024, 0, 1) + 301_000) })
              continue
            }
            got.push(event.n)
            break
          }
        })(),
        'the iterator form',
      )
      expect(got).toEqual(['resync:unknown-id', 301])
      await waitUntil(() => r.data().length === 1, 'the live event in the callback form')
      expect(r.log).toEqual(['started:false', 'resync:trimmed', 301])
      sub.unsubscribe()
    })

    it('started carries the stream position, and everything published after it arrives', async () => {
      const channel = channels.make({ history: 10 })
      const ids = await publishRange(channel, 1, 3)
      const { url } = await serve(channel)
      const peer = await readyPeer(url)
      peer.send({ type: 'subscribe', id: 1, path: 'feed' })
      expect(await peer.next((m) => m.type === 'started' && m.id === 1)).toEqual({ type: 'started', id: 1, eventId: ids[3] })

      const api = connectClient<FeedRouter>(url)
      const r = recorder()
      const sub = api.feed.subscribe(undefined, r.handlers)
      await waitUntil(() => r.starts() === 1, 'started')
      expect(sub.lastEventId).toBe(ids[3])
      // The snapshot pattern over the wire: once started arrived, nothing published is missed.
      await publishRange(channel, 4, 6)
      await waitUntil(() => r.data().length === 3, 'the events after started')
      expect(r.log).toEqual(['started:false', 4, 5, 6])
      sub.unsubscribe()
      // The raw peer's subscription stays.
      await waitUntil(() => channel.subscriberCount === 1, 'the server to drop the subscriber')
    })

    it('a client that subscribed before the first event resumes after a drop as documented', async () => {
      const channel = channels.make({ history: 10 })
      const { port } = await serve(channel)
      const proxy = await startFaultProxy(port)
      const api = connectClient<FeedRouter>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
      const r = recorder()
      const sub = api.feed.subscribe(undefined, r.handlers)
      await waitUntil(() => r.starts() === 1, 'the first start')
      proxy.refuse(true)
      proxy.cut()
      await waitUntil(() => channel.subscriberCount === 0, 'the server to see the drop')
      await publishRange(channel, 1, 1) // missed while away
      proxy.refuse(false)
      if (channels.behaviour.positionBeforeFirstEvent) {
        await waitUntil(() => r.data().length === 1, 'event 1, replayed', 5_000)
        expect(r.log).toEqual(['started:false', 'started:true', 1])
      } else {
        // No position to resume from: a fresh start, and event 1 is not replayed.
        expect(sub.lastEventId).toBeUndefined()
        await waitUntil(() => r.starts() === 2, 'the resubscription', 5_000)
        await publishRange(channel, 2, 2)
        await waitUntil(() => r.data().length === 1, 'event 2')
        expect(r.log).toEqual(['started:false', 'started:false', 2])
      }
      sub.unsubscribe()
    })

    it('a client whose socket is cut again and again while events are published resumes each time with no gap and no duplicate', async () => {
      const channel = channels.make({ history: 20_000 })
      const ids = await publishRange(channel, 1, 1)
      const { port } = await serve(channel)
      const proxy = await startFaultProxy(port)
      const api = connectClient<FeedRouter>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
      const r = recorder()
      const sub = api.feed.subscribe(undefined, { ...r.handlers, lastEventId: ids[1]! })
      await waitUntil(() => r.starts() === 1, 'the first start')
      // About 3 events a millisecond: each time away covers a few hundred events, far from maxReplay, and the pump outlasts the four drops.
      const pump = startPump(channel, 1, ids, { max: 20_000, pauseMs: 1 })
      for (let drop = 0; drop < 4; drop++) {
        const before = r.data().length
        await waitUntil(() => r.data().length > before + 20, `events before drop ${drop}`, 5_000)
        if (drop % 2 === 1) proxy.refuse(true) // away for a while: the events published meanwhile are replayed
        proxy.cut()
        if (drop % 2 === 1) {
          await sleep(30)
          proxy.refuse(false)
        }
        await waitUntil(() => r.starts() === drop + 2, `the resume after drop ${drop}`, 5_000)
      }
      const last = await pump.stop()
      await waitUntil(() => r.data().at(-1) === last, 'the last event', 10_000)
      expect(r.log.filter((entry) => typeof entry === 'string')).toEqual(range(0, 4).map(() => 'started:true'))
      expect(r.data()).toEqual(range(2, last))
      sub.unsubscribe()
    })

    it('a second node on the same stream serves the resume after the first node closes', async () => {
      const nodeA = channels.make({ name: 'nodes', history: 1_000 })
      const nodeB = channels.make({ name: 'nodes', history: 1_000 })
      const a = await serve(nodeA)
      const b = await serve(nodeB)
      const proxy = await startFaultProxy(a.port)
      const api = connectClient<FeedRouter>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
      const ids = await publishRange(nodeA, 1, 1)
      const r = recorder()
      const sub = api.feed.subscribe(undefined, { ...r.handlers, lastEventId: ids[1]! })
      await waitUntil(() => r.starts() === 1, 'the start on node A')
      await publishRange(nodeA, 2, 5)
      await waitUntil(() => r.data().length === 4, 'events on node A')
      // A deploy: new connections go to B, A closes (telling its clients to reconnect), events keep coming from both nodes.
      proxy.setTarget(b.port)
      const pump = startPump(nodeB, 5, ids, { max: 300 })
      await a.server.close()
      await waitUntil(() => r.starts() === 2, 'the resubscription on node B', 5_000)
      const last = await pump.stop()
      if (channels.behaviour.shared) {
        await publishRange(nodeA, last + 1, last + 5) // node A's channel still publishes to the stream
        await waitUntil(() => r.data().at(-1) === last + 5, 'the last event, on node B', 10_000)
        expect(r.log.filter((entry) => typeof entry === 'string')).toEqual(['started:true', 'started:true'])
        expect(r.data()).toEqual(range(2, last + 5))
      } else {
        // Each ring is its own stream: B does not know A's ids.
        await waitUntil(() => r.log.includes('resync:unknown-id'), 'the resync on node B', 5_000)
        const resyncAt = r.log.indexOf('resync:unknown-id')
        expect(r.log.slice(0, resyncAt)).toEqual(['started:true', 2, 3, 4, 5, 'started:false'])
        await publishRange(nodeB, last + 1, last + 1)
        await waitUntil(() => r.data().at(-1) === last + 1, 'a live event on node B')
      }
      expect(await api.ping.query()).toBe('pong')
      sub.unsubscribe()
    })
  })
}
