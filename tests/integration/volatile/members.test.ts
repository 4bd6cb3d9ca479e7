import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createChannel, initRpc } from '@wirecall/core'
import { createChannel as createBackedChannel, memoryChannelBackend } from '@wirecall/server'
import { connectClient, startServer, waitUntil } from '../../helpers/harness'

/**
 * Channel members over real sockets: a subscription records a member (here
 * the connection's user name) for as long as it lives, and
 * `channel.members()` / `topic.members()` list them, each once, in the
 * order they subscribed; they go when the subscription ends, whether the
 * client unsubscribed, its connection closed or the channel closed. A
 * channel with a backend lists this node's subscribers only.
 */

const rpc = initRpc.context<{ name: string }>().create()

type Member = { name: string }

describe('channel members', () => {
  it('are listed while subscribed, once each, and gone after unsubscribe and after the connection closes; topics keep their own', async () => {
    const channel = createChannel<number, Member>()
    /** One member object per connection name, so that dedupe is by identity as the app would pass `peer`. */
    const members = new Map<string, Member>()
    const memberOf = (name: string) => members.get(name) ?? members.set(name, { name }).get(name)!
    const router = rpc.router({
      feed: rpc.procedure.subscription(({ ctx, signal }) => channel.subscribe({ signal, member: memberOf(ctx.name) })),
      room: rpc.procedure.input(z.object({ room: z.string() })).subscription(({ ctx, input, signal }) => channel.topic(input.room).subscribe({ signal, member: memberOf(ctx.name) })),
    })
    const { url, server } = await startServer({ router, createContext: ({ connectionParams }) => ({ name: String((connectionParams as { name: string }).name) }) })
    const ada = connectClient<typeof router>(url, { connectionParams: { name: 'ada' } })
    const bob = connectClient<typeof router>(url, { connectionParams: { name: 'bob' } })
    const names = (list: Member[]) => list.map((member) => member.name)

    expect(channel.members()).toEqual([])
    ada.feed.subscribe(undefined, {})
    await waitUntil(() => channel.subscriberCount === 1, "ada's subscription")
    const bobFirst = bob.feed.subscribe(undefined, {})
    const bobSecond = bob.feed.subscribe(undefined, {})
    bob.room.subscribe({ room: 'kitchen' }, {})
    await waitUntil(() => channel.subscriberCount === 3 && channel.topic('kitchen').subscriberCount === 1, "bob's subscriptions")
    // Bob subscribes twice: listed once.
    expect(names(channel.members())).toEqual(['ada', 'bob'])
    expect(names(channel.topic('kitchen').members())).toEqual(['bob'])
    expect(channel.topic('hall').members()).toEqual([])

    bobFirst.unsubscribe()
    await waitUntil(() => channel.subscriberCount === 2, 'the unsubscribe')
    expect(names(channel.members())).toEqual(['ada', 'bob'])
    bobSecond.unsubscribe()
    await waitUntil(() => channel.subscriberCount === 1, 'the second unsubscribe')
    expect(names(channel.members())).toEqual(['ada'])
    expect(names(channel.topic('kitchen').members())).toEqual(['bob'])

    await bob.$connection.close()
    await waitUntil(() => channel.topic('kitchen').subscriberCount === 0, "bob's connection to close")
    expect(channel.topic('kitchen').members()).toEqual([])
    expect(names(channel.members())).toEqual(['ada'])

    channel.close()
    expect(channel.members()).toEqual([])
    await waitUntil(() => server.connectionCount === 1, 'ada to stay connected')
  })

  it('a channel with a backend lists the members of this node only', async () => {
    const backend = memoryChannelBackend()
    // Two channels of one name on one backend: two nodes.
    const nodeA = createBackedChannel<number, string>({ backend, name: 'room' })
    const nodeB = createBackedChannel<number, string>({ backend, name: 'room' })
    const routerOf = (channel: typeof nodeA) =>
      rpc.router({ feed: rpc.procedure.subscription(({ ctx, signal }) => channel.subscribe({ signal, member: ctx.name })) })
    const serverA = await startServer({ router: routerOf(nodeA), createContext: ({ connectionParams }) => ({ name: String((connectionParams as { name: string }).name) }) })
    const serverB = await startServer({ router: routerOf(nodeB), createContext: ({ connectionParams }) => ({ name: String((connectionParams as { name: string }).name) }) })
    const ada = connectClient<ReturnType<typeof routerOf>>(serverA.url, { connectionParams: { name: 'ada' } })
    const bob = connectClient<ReturnType<typeof routerOf>>(serverB.url, { connectionParams: { name: 'bob' } })
    const got: number[] = []
    let started = 0
    ada.feed.subscribe(undefined, { onStarted: () => started++, onData: (n) => void got.push(n) })
    const bobSub = bob.feed.subscribe(undefined, { onStarted: () => started++ })
    await waitUntil(() => started === 2, 'both subscriptions to start')
    expect(nodeA.members()).toEqual(['ada'])
    expect(nodeB.members()).toEqual(['bob'])
    // Events still cross the nodes: the list is local, the stream is not.
    await nodeB.publish(1)
    await waitUntil(() => got.length === 1, 'the event published on the other node')

    bobSub.unsubscribe()
    await waitUntil(() => nodeB.subscriberCount === 0, "bob's unsubscribe")
    expect(nodeB.members()).toEqual([])
    expect(nodeA.members()).toEqual(['ada'])
  })
})
