import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { RpcError } from '@wirecall/client'
import { startFaultProxy } from '../../../tests/helpers/fault-proxy'
import { rpcErrorOf, sleep, waitUntil, within } from '../../../tests/helpers/harness'
import { MessageLog } from '../src/message-log'
import type { ChatMessage, RoomName } from '../src/rooms'
import { chat, client, dataDir, portOf, TYPING_TTL_MS, type Api } from './chat-helpers'

/** Follows a room's feed (handler form) and records what it reports. */
function follow(api: Api, room: RoomName, lastEventId?: string) {
  const log = { messages: [] as ChatMessage[], starts: 0, resyncs: 0, errors: [] as RpcError[] }
  const sub = api.messages.feed.subscribe(
    { room },
    {
      lastEventId,
      onStarted: () => log.starts++,
      onData: (message) => log.messages.push(message),
      onResync: () => log.resyncs++,
      onError: (error) => log.errors.push(error),
    },
  )
  onTestFinished(() => sub.unsubscribe())
  return { sub, log, ids: () => log.messages.map((message) => message.id), texts: () => log.messages.map((message) => message.text) }
}

/** Follows a snapshot feed (presence or typing) and keeps the latest list. */
function latestUsers(subscribe: (handlers: { onData: (value: { users: string[] }) => void }) => { unsubscribe(): void }) {
  const state = { users: undefined as string[] | undefined }
  const sub = subscribe({ onData: ({ users }) => (state.users = users) })
  onTestFinished(() => sub.unsubscribe())
  return { state, sub }
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('examples/chat', () => {
  it('serves the page and its bundled script on the RPC port', async () => {
    const app = await chat()
    const html = await (await fetch(app.url)).text()
    expect(html).toContain('<script type="module" src="/app.js">')
    expect(html).toContain('id="state"')
    expect((await fetch(new URL('/?name=ada', app.url))).status).toBe(200)
    const script = await fetch(new URL('/app.js', app.url))
    expect(script.headers.get('content-type')).toMatch(/javascript/)
    const code = await script.text()
    expect(code.length).toBeGreaterThan(1_000)
    expect(code).not.toMatch(/from\s*["']node:/) // bundled for the browser
    expect((await fetch(new URL('/nope', app.url))).status).toBe(404)
  })

  it('refuses a connection without a valid name with UNAUTHORIZED', async () => {
    const app = await chat()
    for (const name of [undefined, '', '   ', 'x'.repeat(25), '<script>']) {
      const error = await rpcErrorOf(client(app.rpcUrl, name).rooms.list.query())
      expect(error.code).toBe('UNAUTHORIZED')
    }
    expect(await client(app.rpcUrl, '  Ada Lovelace ').me.query()).toBe('Ada Lovelace')
  })

  it('lets two clients talk in a room, in order, with history, presence and typing', async () => {
    const app = await chat()
    const ada = client(app.rpcUrl, 'ada')
    const bob = client(app.rpcUrl, 'bob')
    expect((await ada.rooms.list.query()).map((room) => room.name)).toEqual(['general', 'random', 'help'])

    const adaFeed = follow(ada, 'general')
    const bobFeed = follow(bob, 'general')
    const otherRoom = follow(bob, 'random')
    const adaSees = latestUsers((handlers) => ada.presence.feed.subscribe({ room: 'general' }, handlers))
    const adaSeesTyping = latestUsers((handlers) => ada.typing.feed.subscribe({ room: 'general' }, handlers))
    const bobHere = latestUsers((handlers) => bob.presence.feed.subscribe({ room: 'general' }, handlers))
    await waitUntil(() => adaFeed.log.starts === 1 && bobFeed.log.starts === 1 && otherRoom.log.starts === 1, 'the feeds to start')
    await waitUntil(() => adaSees.state.users?.join() === 'ada,bob', 'presence to show both')

    // Interleaved sends from both sides: both see one order, the server's.
    const sent = await Promise.all([
      ada.messages.send.mutate({ room: 'general', text: 'hi bob' }, { idempotent: true }),
      bob.messages.send.mutate({ room: 'general', text: 'hi ada' }, { idempotent: true }),
      ada.messages.send.mutate({ room: 'general', text: '  how are you?  ' }, { idempotent: true }),
    ])
    expect(sent.map((message) => message.id).sort()).toEqual([1, 2, 3])
    expect(sent[2]).toMatchObject({ room: 'general', from: 'ada', text: 'how are you?' })
    expect(sent[2]!.at).toBeInstanceOf(Date)
    await waitUntil(() => adaFeed.log.messages.length === 3 && bobFeed.log.messages.length === 3, 'both to receive 3 messages')
    expect(adaFeed.ids()).toEqual([1, 2, 3])
    expect(bobFeed.log.messages).toEqual(adaFeed.log.messages)
    expect(otherRoom.log.messages).toEqual([]) // rooms are separate

    const history = await bob.messages.history.query({ room: 'general', limit: 2 })
    expect(history.lastId).toBe(3)
    expect(history.messages).toEqual(adaFeed.log.messages.slice(1))
    expect((await bob.messages.history.query({ room: 'help' })).lastId).toBe(0)

    // Typing: shows, then goes away by itself; sending a message clears it at once.
    await bob.typing.set.mutate({ room: 'general', typing: true })
    await waitUntil(() => adaSeesTyping.state.users?.join() === 'bob', 'bob typing')
    await waitUntil(() => adaSeesTyping.state.users?.length === 0, 'the indicator to expire', TYPING_TTL_MS * 10)
    await bob.typing.set.mutate({ room: 'general', typing: true })
    await waitUntil(() => adaSeesTyping.state.users?.join() === 'bob', 'bob typing again')
    await bob.messages.send.mutate({ room: 'general', text: 'fine' })
    await waitUntil(() => adaSeesTyping.state.users?.length === 0, 'the indicator to go with the message', TYPING_TTL_MS / 2)

    // Bad input never reaches the log.
    for (const text of ['x'.repeat(501), '', '   ']) {
      expect((await rpcErrorOf(ada.messages.send.mutate({ room: 'general', text }))).code).toBe('BAD_REQUEST')
    }
    expect((await rpcErrorOf(ada.messages.send.mutate({ room: 'lobby' as RoomName, text: 'hi' }))).code).toBe('BAD_REQUEST')
    expect((await ada.messages.send.mutate({ room: 'general', text: 'y'.repeat(500) })).id).toBe(5)

    // Presence: bob leaves the room (his presence subscription ends), then comes back and closes his client.
    bobHere.sub.unsubscribe()
    await waitUntil(() => adaSees.state.users?.join() === 'ada', 'presence to show ada alone')
    latestUsers((handlers) => bob.presence.feed.subscribe({ room: 'general' }, handlers))
    await waitUntil(() => adaSees.state.users?.join() === 'ada,bob', 'bob back')
    await bob.$connection.close()
    await waitUntil(() => adaSees.state.users?.join() === 'ada', 'presence to drop bob after he disconnects')
  })

  it('survives a restart: both clients resume, and what one missed arrives once, in order; the log is on disk', async () => {
    const dir = dataDir()
    let app = await chat({ dataDir: dir })
    const port = portOf(app)
    // Bob goes through a TCP proxy, so the test can also take him off the network on his own.
    const proxy = await startFaultProxy(port)
    const ada = client(app.rpcUrl, 'ada')
    const bob = client(proxy.url('/rpc'), 'bob')
    const adaFeed = follow(ada, 'general')
    const bobFeed = follow(bob, 'general')
    const states = { ada: [] as string[], bob: [] as string[] }
    ada.$connection.on('state', (state) => states.ada.push(state))
    bob.$connection.on('state', (state) => states.bob.push(state))
    await waitUntil(() => adaFeed.log.starts === 1 && bobFeed.log.starts === 1, 'the feeds to start')

    await ada.messages.send.mutate({ room: 'general', text: 'one' }, { idempotent: true })
    await bob.messages.send.mutate({ room: 'general', text: 'two' }, { idempotent: true })
    await waitUntil(() => bobFeed.log.messages.length === 2, 'bob to receive 2 messages')

    // 1. A graceful restart. Ada writes while no server is up: her sends wait in her client's queue.
    await within(app.close({ graceMs: 500, reconnectWindowMs: 200 }), 'the graceful close', 5_000)
    await waitUntil(() => ada.$connection.state === 'reconnecting' && bob.$connection.state === 'reconnecting', 'both to reconnect')
    const whileDown = ['three', 'four'].map((text) => ada.messages.send.mutate({ room: 'general', text }, { idempotent: true }))
    await sleep(100)
    app = await chat({ dataDir: dir, port })
    expect((await within(Promise.all(whileDown), 'the queued sends', 5_000)).map((message) => message.id)).toEqual([3, 4])
    await waitUntil(() => bobFeed.log.messages.length >= 4 && adaFeed.log.messages.length >= 4, 'both to catch up', 5_000)

    // 2. Bob alone drops off the network; ada goes on talking on the same server.
    proxy.refuse(true)
    proxy.cut()
    await waitUntil(() => bob.$connection.state === 'reconnecting', 'bob to notice the drop')
    for (const text of ['five', 'six', 'seven']) await ada.messages.send.mutate({ room: 'general', text }, { idempotent: true })
    await waitUntil(() => adaFeed.log.messages.length === 7, 'ada to see her messages')
    expect(bobFeed.log.messages.length).toBe(4)
    proxy.refuse(false)
    await waitUntil(() => bobFeed.log.messages.length >= 7 && bob.$connection.state === 'open', 'bob to catch up', 5_000)
    await sleep(100) // room for a duplicate to show up, if there were one

    const expected = ['one', 'two', 'three', 'four', 'five', 'six', 'seven']
    for (const feed of [adaFeed, bobFeed]) {
      expect(feed.ids()).toEqual(range(1, 7)) // each once, in order
      expect(feed.texts()).toEqual(expected)
      expect(feed.log.resyncs).toBe(0)
      expect(feed.log.errors).toEqual([])
      expect(feed.log.starts).toBeGreaterThanOrEqual(2) // resubscribed after each drop
    }
    expect(states.ada).toContain('reconnecting')
    expect(states.bob.filter((state) => state === 'reconnecting').length).toBeGreaterThanOrEqual(2)

    // The log: one line per message, in order, read back by a server that starts from scratch.
    const lines = readFileSync(join(dir, 'general.jsonl'), 'utf8').trimEnd().split('\n')
    expect(lines.map((line) => (JSON.parse(line) as { text: string }).text)).toEqual(expected)
    await app.close()
    const reader = client((await chat({ dataDir: dir })).rpcUrl, 'carol')
    const history = await reader.messages.history.query({ room: 'general' })
    expect(history.lastId).toBe(7)
    expect(history.messages.map((message) => message.text)).toEqual(expected)
    expect(history.messages.map((message) => message.at.getTime())).toEqual(adaFeed.log.messages.map((message) => message.at.getTime()))
  })

  it('posts a retried send once, even across a restart (the idempotency key is in the log)', async () => {
    const dir = dataDir()
    const first = await chat({ dataDir: dir })
    const port = portOf(first)
    const original = await client(first.rpcUrl, 'ada').messages.send.mutate({ room: 'help', text: 'once' }, { idempotencyKey: 'form-1' })
    await first.close()
    // A new process: its idempotency cache is empty, the log remembers the key.
    const second = await chat({ dataDir: dir, port })
    const api = client(second.rpcUrl, 'ada')
    expect(await api.messages.send.mutate({ room: 'help', text: 'once' }, { idempotencyKey: 'form-1' })).toEqual(original)
    expect((await api.messages.send.mutate({ room: 'help', text: 'twice' }, { idempotencyKey: 'form-2' })).id).toBe(2)
    expect((await api.messages.history.query({ room: 'help' })).messages.map((message) => message.text)).toEqual(['once', 'twice'])
    await second.close()
    // The same key for another message is a mistake, and the log says so too.
    const third = await chat({ dataDir: dir, port })
    const reused = client(third.rpcUrl, 'ada').messages.send.mutate({ room: 'help', text: 'something else' }, { idempotencyKey: 'form-1' })
    expect((await rpcErrorOf(reused)).code).toBe('CONFLICT')
  })

  it('sends a resync for an id it cannot replay, then goes on live', async () => {
    const app = await chat({ keepMessages: 3 })
    const ada = client(app.rpcUrl, 'ada')
    for (const text of ['a', 'b', 'c', 'd', 'e']) await ada.messages.send.mutate({ room: 'random', text })
    const feeds = {
      replayable: follow(ada, 'random', '2'), // 3, 4, 5 are still in memory
      tooOld: follow(ada, 'random', '1'), // 2 is gone
      ahead: follow(ada, 'random', '99'), // from a log that no longer exists
      garbage: follow(ada, 'random', 'k3x9q2ab.41'),
      fresh: follow(ada, 'random'),
    }
    await waitUntil(() => Object.values(feeds).every((feed) => feed.log.starts === 1), 'the feeds to start')
    await ada.messages.send.mutate({ room: 'random', text: 'f' })
    await waitUntil(() => Object.values(feeds).every((feed) => feed.log.messages.at(-1)?.text === 'f'), 'the live message')
    expect(feeds.replayable.texts()).toEqual(['c', 'd', 'e', 'f'])
    expect(feeds.replayable.log.resyncs).toBe(0)
    for (const feed of [feeds.tooOld, feeds.ahead, feeds.garbage]) {
      expect(feed.log.resyncs).toBe(1)
      expect(feed.texts()).toEqual(['f'])
    }
    expect(feeds.fresh.texts()).toEqual(['f'])
    expect(feeds.fresh.sub.lastEventId).toBe('6')
  })

  it('cuts a torn last line off the log and skips lines that do not parse', () => {
    const dir = dataDir()
    const file = join(dir, 'general.jsonl')
    const line = (id: number, text: string) => `${JSON.stringify({ id, from: 'ada', text, at: new Date(0).toISOString() })}\n`
    writeFileSync(file, `${line(1, 'a')}not json\n${line(2, 'b')}{"id":3,"from":"ada","te`)
    const log = MessageLog.open('general', file, 10)
    expect(log.lastId).toBe(2)
    expect(log.append('bob', 'c').id).toBe(3)
    log.close()
    const reopened = MessageLog.open('general', file, 2)
    expect(reopened.latest(10).map((message) => message.text)).toEqual(['b', 'c']) // only the newest 2 in memory
    expect(reopened.get(1)).toBeUndefined()
    expect(reopened.get(3)?.from).toBe('bob')
    reopened.close()
    const lines = readFileSync(file, 'utf8').split('\n')
    expect(lines.at(-1)).toBe('') // whole lines only
    expect(JSON.parse(lines.at(-2)!)).toMatchObject({ id: 3, from: 'bob', text: 'c' })
  })
})
