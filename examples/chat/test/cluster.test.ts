import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient, type RpcError } from '@wirecall/client'
import { freePort, killHard, startChildServer } from '../../../tests/helpers/child-server'
import { sleep, waitUntil, within } from '../../../tests/helpers/harness'
import { startRedis } from '../../../tests/helpers/redis-server'
import type { ChatMessage, RoomName } from '../src/rooms'
import { startRoundRobinProxy } from '../src/round-robin-proxy'
import type { AppRouter } from '../src/router'
import { startChat } from '../src/server'
import { message, session, typing } from './chat-helpers'

/**
 * The chat on two processes sharing one real redis-server, behind the
 * example's round-robin proxy, as `pnpm start:cluster` runs it: messages,
 * presence and typing cross processes; a page whose process is killed
 * with SIGKILL reconnects through the proxy to the other and its feed has
 * every message exactly once; that process's users drop out of presence
 * within the presence TTL.
 */

const exampleDir = fileURLToPath(new URL('..', import.meta.url))
const host = '127.0.0.1'
/** Short, so that a dead process's users go within the test; each process refreshes its own every third of it. */
const PRESENCE_TTL_MS = 1_500

/** One chat process (`src/main.ts`, as `start:cluster` runs it) on `port`, sharing `redisUrl`. */
function startNode(port: number, redisUrl: string): Promise<ChildProcess> {
  return startChildServer({
    args: ['--import', 'tsx', 'src/main.ts'],
    cwd: exampleDir,
    env: { PORT: String(port), HOST: host, REDIS_URL: redisUrl, PRESENCE_TTL_MS: String(PRESENCE_TTL_MS) },
    readyText: 'chat: open',
    name: `chat on ${port}`,
    timeoutMs: 30_000,
  })
}

function client(url: string, name: string) {
  const api = createRpcClient<AppRouter>({ url, WebSocket, connectionParams: { name }, reconnect: { minDelayMs: 20, maxDelayMs: 200 } })
  onTestFinished(() => api.$connection.close())
  return api
}
type Api = ReturnType<typeof client>

/** Follows a room as the page does: the history, then the feed from its `lastId`; records what arrives. */
async function follow(api: Api, room: RoomName) {
  const history = await api.messages.history.query({ room })
  const log = { messages: [...history.messages] as ChatMessage[], starts: 0, resyncs: 0, errors: [] as RpcError[] }
  const sub = api.messages.feed.subscribe(
    { room },
    {
      lastEventId: String(history.lastId),
      onStarted: () => log.starts++,
      onData: (message) => log.messages.push(message),
      onResync: () => log.resyncs++,
      onError: (error) => log.errors.push(error),
    },
  )
  onTestFinished(() => sub.unsubscribe())
  return { log, ids: () => log.messages.map((message) => message.id), texts: () => log.messages.map((message) => message.text) }
}

/** Follows a snapshot feed (presence or typing) and keeps the latest list. */
function latestUsers(subscribe: (handlers: { onData: (value: { users: string[] }) => void }) => { unsubscribe(): void }) {
  const state = { users: '' }
  const sub = subscribe({ onData: ({ users }) => (state.users = users.join()) })
  onTestFinished(() => sub.unsubscribe())
  return state
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

describe('examples/chat on two processes and one Redis', () => {
  it('crosses processes, and survives kill -9 of one: the page moves to the other and misses nothing', async () => {
    const redis = await startRedis()
    const ports = [await freePort(), await freePort()]
    const nodes = await Promise.all(ports.map((port) => startNode(port, redis.url)))
    const proxy = await startRoundRobinProxy({ upstreams: ports, port: 0, host })
    onTestFinished(() => proxy.close())
    const viaProxy = `ws://${host}:${proxy.port}/rpc`

    // Round robin: ada lands on A, bob on B. Carol talks to B directly, so when B dies she has nowhere to go.
    const ada = client(viaProxy, 'ada')
    expect(await ada.me.query()).toBe('ada')
    const bob = client(viaProxy, 'bob')
    expect(await bob.me.query()).toBe('bob')
    expect(proxy.open()).toEqual([1, 1])
    const carol = client(`ws://${host}:${ports[1]}/rpc`, 'carol')

    const adaFeed = await follow(ada, 'general')
    const bobFeed = await follow(bob, 'general')
    const adaSees = latestUsers((handlers) => ada.presence.feed.subscribe({ room: 'general' }, handlers))
    latestUsers((handlers) => bob.presence.feed.subscribe({ room: 'general' }, handlers))
    latestUsers((handlers) => carol.presence.feed.subscribe({ room: 'general' }, handlers))
    const adaSeesTyping = latestUsers((handlers) => ada.typing.feed.subscribe({ room: 'general' }, handlers))
    await waitUntil(() => adaFeed.log.starts === 1 && bobFeed.log.starts === 1, 'the feeds to start', 5_000)
    await waitUntil(() => adaSees.users === 'ada,bob,carol', 'presence to list the users of both processes', 5_000)

    // Sends from both processes at once: one order, the same on both, numbered 1, 2, 3, 4.
    const sent = await Promise.all([
      ada.messages.send.mutate({ room: 'general', text: 'a1' }, { idempotent: true }),
      bob.messages.send.mutate({ room: 'general', text: 'b1' }, { idempotent: true }),
      ada.messages.send.mutate({ room: 'general', text: 'a2' }, { idempotent: true }),
      bob.messages.send.mutate({ room: 'general', text: 'b2' }, { idempotent: true }),
    ])
    expect(sent.map((message) => message.id).sort()).toEqual([1, 2, 3, 4])
    await waitUntil(() => adaFeed.log.messages.length === 4 && bobFeed.log.messages.length === 4, 'both to receive 4 messages', 5_000)
    expect(adaFeed.ids()).toEqual([1, 2, 3, 4])
    expect(bobFeed.log.messages).toEqual(adaFeed.log.messages)

    // The same idempotency key on the other process: the first send's message, not a second one.
    const once = await ada.messages.send.mutate({ room: 'general', text: 'once' }, { idempotencyKey: 'form-1' })
    expect(await bob.messages.send.mutate({ room: 'general', text: 'once' }, { idempotencyKey: 'form-1' })).toEqual(once)
    expect(once.id).toBe(5)

    // Typing on B shows on A.
    await bob.typing.set.mutate({ room: 'general', typing: true })
    await waitUntil(() => adaSeesTyping.users === 'bob', 'bob typing, seen from the other process', 5_000)
    await bob.typing.set.mutate({ room: 'general', typing: false })
    await waitUntil(() => adaSeesTyping.users === '', 'the indicator to go', 5_000)

    // B dies without a word. Ada goes on writing while bob finds his way to A through the proxy.
    await waitUntil(() => bobFeed.log.messages.length === 5, 'bob to have 5 messages', 5_000)
    const killedAt = Date.now()
    await killHard(nodes[1]!)
    const after = ['after 1', 'after 2', 'after 3', 'after 4', 'after 5']
    for (const text of after) await ada.messages.send.mutate({ room: 'general', text }, { idempotent: true })
    await waitUntil(() => bobFeed.log.messages.length >= 10 && bob.$connection.state === 'open', 'bob to catch up on A', 10_000)
    await bob.messages.send.mutate({ room: 'general', text: 'back, on A' }, { idempotent: true })
    await waitUntil(() => adaFeed.log.messages.length === 11 && bobFeed.log.messages.length >= 11, 'both to see bob back', 5_000)
    expect(proxy.open()).toEqual([2, 0])

    const expected = ['a1', 'b1', 'a2', 'b2', 'once', ...after, 'back, on A']
    for (const feed of [adaFeed, bobFeed]) {
      expect(feed.ids()).toEqual(range(1, 11)) // every message once, in order: no gap, no duplicate
      expect(feed.texts().slice(4)).toEqual(expected.slice(4))
      expect(feed.log.resyncs).toBe(0)
      expect(feed.log.errors).toEqual([])
    }
    expect(bobFeed.texts()).toEqual(adaFeed.texts())
    expect(bobFeed.log.starts).toBe(2) // resubscribed once, on A, from the last event it had
    expect(await bob.rooms.list.query()).toContainEqual({ name: 'general', title: 'Anything goes', lastId: 11 })
    expect((await bob.messages.history.query({ room: 'general', limit: 3 })).messages.map((message) => message.text)).toEqual(expected.slice(-3))

    // Carol was only on B: she drops out of the list within the presence TTL and one sweep; bob is listed again from A.
    await waitUntil(() => adaSees.users === 'ada,bob', "carol to drop out with B's presence", PRESENCE_TTL_MS * 3)
    expect(Date.now() - killedAt).toBeLessThan(PRESENCE_TTL_MS + PRESENCE_TTL_MS / 3 + 1_000)
  }, 60_000)
})

/** A Redis, two chats in this process sharing it (closed after the test), and a client on each: ada on the first, bob on the second. */
async function twoChatsInProcess() {
  const redis = await startRedis()
  const [one, two] = await Promise.all([0, 1].map(() => startChat({ port: 0, host, redisUrl: redis.url })))
  onTestFinished(async () => {
    await Promise.all([one!.close(), two!.close()])
  })
  return { redis, ada: client(one!.rpcUrl, 'ada'), bob: client(two!.rpcUrl, 'bob'), rpcUrls: [one!.rpcUrl, two!.rpcUrl] as const }
}

describe('examples/chat on Redis: the room session', () => {
  it('carries typing and messages across processes in order, posts a key once on either process, and resumes on the other process', async () => {
    const { ada, bob, rpcUrls } = await twoChatsInProcess()
    const adaOnOne = session(ada, 'general')
    const bobOnTwo = session(bob, 'general')
    await waitUntil(() => adaOnOne.log.starts === 1 && bobOnTwo.log.starts === 1, 'both sessions to start', 5_000)
    for (const chunk of [typing('key-2001'), message('a1', 'key-2001'), typing('key-2002'), message('a2', 'key-2002')]) adaOnOne.outbox.push(chunk)
    await waitUntil(() => bobOnTwo.messages().length === 2, 'bob to get both messages on the other process', 5_000)
    expect(bobOnTwo.trace()).toEqual(['t:ada:true', 'm1', 't:ada:true', 'm2'])

    // Ada on the other process too (a reconnect that landed there): a key already posted posts nothing, and its typing chunk is stale.
    const adaOnTwo = session(client(rpcUrls[1], 'ada'), 'general')
    adaOnTwo.outbox.push(typing('key-2001'))
    adaOnTwo.outbox.push(message('a1', 'key-2001'))
    adaOnTwo.outbox.push(message('a3', 'key-2003'))
    adaOnTwo.outbox.push(message('not a1', 'key-2001'))
    await waitUntil(() => bobOnTwo.messages().length === 3 && adaOnTwo.log.events.some((event) => event.kind === 'failed'), 'a3, and the refusal', 5_000)
    expect(bobOnTwo.messages().map((posted) => posted.text)).toEqual(['a1', 'a2', 'a3'])
    expect(bobOnTwo.trace()).toEqual(['t:ada:true', 'm1', 't:ada:true', 'm2', 'm3'])
    expect(adaOnTwo.trace().at(-1)).toBe('failed:key-2001:CONFLICT')

    // Bob's session, resumed on the first process from the last event it got on the second.
    const resumeAt = bobOnTwo.sub.lastEventId!
    expect(resumeAt).toMatch(/^general:\w+\.\d+-\d+$/) // the room, and the stream's event id
    bobOnTwo.sub.unsubscribe()
    for (const text of ['a4', 'a5']) adaOnOne.outbox.push(message(text, `key-${text}-0`))
    await waitUntil(() => adaOnOne.messages().length === 5, 'ada to see a4 and a5', 5_000)
    const resumed = session(client(rpcUrls[0], 'bob'), 'general', resumeAt)
    await waitUntil(() => resumed.messages().length === 2, 'the resume on the other process', 5_000)
    await sleep(100) // room for a duplicate to show up, if there were one
    expect(resumed.messages().map((posted) => `${posted.id} ${posted.text}`)).toEqual(['4 a4', '5 a5'])
    expect(resumed.log.resyncs).toBe(0)
    for (const { log } of [adaOnOne, adaOnTwo, resumed]) expect(log.errors).toEqual([])
  }, 30_000)
})

describe('examples/chat on Redis: where a feed resumes', () => {
  it('replays from a message id or an event id on either process; resyncs an id it cannot resume, then goes on live', async () => {
    const { redis, ada, bob } = await twoChatsInProcess()
    for (const text of ['a', 'b', 'c', 'd', 'e']) await ada.messages.send.mutate({ room: 'random', text })

    // Event ids as the feed sent them, from a follower on the other process.
    const all = await follow(bob, 'random')
    expect(all.ids()).toEqual([1, 2, 3, 4, 5]) // from the history
    const feeds = {
      fromNumber: followFrom(bob, '2'), // 3, 4, 5 from the list, then live
      fromZero: followFrom(ada, '0'),
      tooNew: followFrom(ada, '99'), // a room that no longer exists
      memoryId: followFrom(ada, 'k3x9q2ab.41'), // not an id of this store: a resync, not an error
      garbage: followFrom(bob, 'abcdefgh.1-0'), // the shape of an event id, from another epoch
      fresh: followFrom(ada, undefined),
    }
    await waitUntil(() => Object.values(feeds).every((feed) => feed.log.starts === 1), 'the feeds to start', 5_000)
    await bob.messages.send.mutate({ room: 'random', text: 'f' })
    await waitUntil(() => Object.values(feeds).every((feed) => feed.texts().at(-1) === 'f'), 'the live message everywhere', 5_000)
    expect(feeds.fromNumber.texts()).toEqual(['c', 'd', 'e', 'f'])
    expect(feeds.fromZero.texts()).toEqual(['a', 'b', 'c', 'd', 'e', 'f'])
    for (const feed of [feeds.fromNumber, feeds.fromZero, feeds.fresh]) expect(feed.log.resyncs).toBe(0)
    for (const feed of [feeds.tooNew, feeds.memoryId, feeds.garbage]) {
      expect(feed.log.resyncs).toBe(1)
      expect(feed.texts()).toEqual(['f'])
      expect(feed.log.errors).toEqual([])
    }
    expect(feeds.fresh.texts()).toEqual(['f'])

    // An event id from one process resumes on the other: what came after it, once.
    const resumeAt = feeds.fromZero.sub.lastEventId! // the event id of 'f'
    for (const text of ['g', 'h']) await ada.messages.send.mutate({ room: 'random', text })
    const resumed = followFrom(bob, resumeAt)
    await waitUntil(() => resumed.texts().join() === 'g,h', 'the resume on the other process', 5_000)
    expect(resumed.log.resyncs).toBe(0)

    // Redis restarted with nothing: a resume is a resync (stream-reset), and the room numbers from 1 again.
    const lastEvent = resumed.sub.lastEventId!
    await redis.restart()
    await waitUntil(() => ada.$connection.state === 'open', 'ada', 5_000)
    const afterLoss = followFrom(ada, lastEvent)
    await waitUntil(() => afterLoss.log.resyncs === 1, 'a resync after the loss', 10_000)
    const first = await within(bob.messages.send.mutate({ room: 'random', text: 'again' }), 'a send on the new Redis', 10_000)
    expect(first.id).toBe(1)
    expect((await ada.messages.history.query({ room: 'random' })).messages.map((message) => message.text)).toEqual(['again'])
  }, 60_000)
})

describe('examples/chat on Redis: opening an empty room', () => {
  it('a page that opens an empty room on one process while another writes gets the first message', async () => {
    const { redis, ada, bob } = await twoChatsInProcess()
    await Promise.all([ada.me.query(), bob.me.query()])
    // The send goes out the moment bob's feed says it started: his process may not follow the room's stream yet
    // (its reader starts it asynchronously), so a feed that went live "from now" would miss the message.
    for (let round = 0; round < 20; round++) {
      await redis.command('FLUSHALL')
      const history = await bob.messages.history.query({ room: 'help' })
      expect(history.lastId).toBe(0)
      const got: string[] = []
      let started = false
      const sub = bob.messages.feed.subscribe(
        { room: 'help' },
        { lastEventId: String(history.lastId), onStarted: () => (started = true), onData: (message) => got.push(message.text) },
      )
      await waitUntil(() => started, 'the feed to start', 5_000)
      await ada.messages.send.mutate({ room: 'help', text: `first of round ${round}` })
      await waitUntil(() => got.length === 1, `bob to get the first message of round ${round}`, 5_000)
      expect(got).toEqual([`first of round ${round}`])
      sub.unsubscribe()
    }
  }, 60_000)
})

/** Follows a room's feed from `lastEventId` as given (no history first). */
function followFrom(api: Api, lastEventId: string | undefined) {
  const log = { messages: [] as ChatMessage[], starts: 0, resyncs: 0, errors: [] as RpcError[] }
  const sub = api.messages.feed.subscribe(
    { room: 'random' },
    {
      lastEventId,
      onStarted: () => log.starts++,
      onData: (message) => log.messages.push(message),
      onResync: () => log.resyncs++,
      onError: (error) => log.errors.push(error),
    },
  )
  onTestFinished(() => sub.unsubscribe())
  return { sub, log, texts: () => log.messages.map((message) => message.text) }
}

/** Whether a process with this pid runs: it exists and is not a zombie (exited, waiting for a parent to reap it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** Whether `port` on 127.0.0.1 can be bound now. */
function bindable(port: number): Promise<boolean> {
  const probe = createServer()
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false))
    probe.listen(port, host, () => probe.close(() => resolve(true)))
  })
}

/** Three consecutive free ports (the proxy and the two chat processes of `start:cluster`). */
async function freeTriple(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freePort()
    if (port < 65_000 && (await bindable(port + 1)) && (await bindable(port + 2))) return port
  }
  throw new Error('no three consecutive free ports')
}

describe('start:cluster (src/cluster.ts)', () => {
  it('starts Redis, two chat processes and the proxy; the chat works through it; SIGINT stops every process', async () => {
    const port = await freeTriple()
    let output = ''
    const cluster = await startChildServer({
      args: ['--import', 'tsx', 'src/cluster.ts'],
      cwd: exampleDir,
      env: { PORT: String(port), REDIS_URL: '' }, // no REDIS_URL: it starts its own redis-server
      readyText: 'cluster: stop everything',
      name: 'cluster',
      timeoutMs: 40_000,
    })
    cluster.stdout!.on('data', (chunk: Buffer) => (output += String(chunk)))
    // The chunk with the ready text was read before this listener: ask the pids from the processes' list instead.
    const pids = descendants(cluster.pid!)
    onTestFinished(() => {
      for (const pid of pids) if (running(pid)) process.kill(pid, 'SIGKILL') // startChildServer kills the cluster process only
    })
    expect(pids.length).toBeGreaterThanOrEqual(3) // redis-server and two chat processes (and their helpers)

    const viaProxy = `ws://${host}:${port}/rpc`
    const ada = client(viaProxy, 'ada')
    const bob = client(viaProxy, 'bob')
    const bobFeed = await follow(bob, 'help')
    await waitUntil(() => bobFeed.log.starts === 1, 'the feed to start', 5_000)
    await ada.messages.send.mutate({ room: 'help', text: 'through the proxy' })
    await waitUntil(() => bobFeed.texts().join() === 'through the proxy', 'bob to get it', 5_000)
    expect((await fetch(`http://${host}:${port}/`)).status).toBe(200)

    await ada.$connection.close()
    await bob.$connection.close()
    const exited = new Promise((resolve) => cluster.once('exit', resolve))
    cluster.kill('SIGINT')
    await exited
    for (let waited = 0; pids.some(running) && waited < 5_000; waited += 50) await sleep(50)
    expect(pids.filter(running)).toEqual([])
    expect(output).toContain('cluster: stopping')
  }, 60_000)
})

/** Every descendant of `pid` now, from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // Field 4 of /proc/<pid>/stat is the parent; the name before it is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = []
  const walk = (parent: number) => {
    for (const [child, of] of parents) {
      if (of !== parent) continue
      found.push(child)
      walk(child)
    }
  }
  walk(pid)
  return found
}
