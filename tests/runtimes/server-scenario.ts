import { expect, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { createRpcClient, type RpcClient } from '@wirecall/client'
import { rpcErrorOf } from '../helpers/harness'
import { waitUntil, within } from '../helpers/async'
import { eventDate, type TestRouter } from '../browser/fixtures/router'
import { startChild, type Child } from './child'
import { requireBuild } from './runtimes'

/**
 * The test's side of fixtures/server.mjs: the server runs in another
 * runtime (Node 22+, Bun, Deno), and clients of this process (Node 20,
 * `ws`) call it. Shared by node.test.ts, bun.test.ts and deno.test.ts.
 */

/** `ws`, counting the ping frames the server sends. */
let pings = 0
class CountingWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args)
    this.on('ping', () => pings++)
  }
}

/**
 * A client of this process, with no reconnect (a close is final), no pings
 * of its own (only the server's keep-alive runs) and calls bounded to 5 s,
 * closed after the test.
 */
function connect(url: string) {
  const api: RpcClient<TestRouter> = createRpcClient<TestRouter>({
    url,
    WebSocket: CountingWebSocket,
    reconnect: false,
    keepAlive: false,
    timeoutMs: 5_000,
  })
  onTestFinished(() => api.$connection.close())
  const states: string[] = [api.$connection.state]
  const closes: { code: number; reason: string }[] = []
  api.$connection.on('state', (state) => states.push(state))
  api.$connection.on('close', ({ code, reason }) => closes.push({ code, reason }))
  const feed = { ns: [] as number[], ats: [] as Date[], ids: [] as string[], starts: 0, errors: [] as string[] }
  const sub = api.feed.subscribe(undefined, {
    onStarted: () => feed.starts++,
    onData: (event) => {
      feed.ns.push(event.n)
      feed.ats.push(event.at)
      feed.ids.push(sub.lastEventId ?? '')
    },
    onError: (error) => feed.errors.push(`${error.code}: ${error.message}`),
  })
  return { api, states, closes, feed, sub }
}

/** The server's connection count, asked over stdin. */
let seq = 0
async function connections(child: Child): Promise<number> {
  const n = ++seq
  child.send(`stats ${n}`)
  const reply = await child.next((m) => m.step === 'stats' && m.seq === n, 'the server to report its connections')
  return reply.connections as number
}

/**
 * Starts `command args` (a runtime and fixtures/server.mjs), then:
 * typed calls and a subscription from a Node 20 client, which stays
 * connected through 1.5 s of silence (the server's pings answered), then
 * closes cleanly; a frame over maxPayload, refused with 1009 (the server
 * then counts no connection); a second client that the server's `close()`
 * closes with 1001; the runtime then exits by itself with 0.
 */
export async function serverScenario(command: string, args: string[]): Promise<void> {
  requireBuild('server')
  const child = startChild(command, args)
  const listening = await child.next((m) => m.step === 'listening', 'the server to listen')
  const url = listening.url as string
  expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/rpc$/)
  expect(listening.resolved).toMatch(/\/packages\/server\/dist\/index\.js$/) // the built package, imported by name

  // Typed calls and a subscription.
  const first = connect(url)
  await waitUntil(() => first.feed.starts === 1, 'the subscription to start', 10_000)
  const out = await first.api.inspect.query({ at: new Date(Date.UTC(2024, 1, 28, 12)), counts: new Map([['small', 1n], ['huge', 2n ** 70n]]), big: 5n })
  expect(out.nextDay).toEqual(new Date('2024-02-29T12:00:00.000Z'))
  expect(out.doubled).toEqual(new Map([['small', 2n], ['huge', 2n ** 71n]]))
  expect(out.sum).toBe(1n + 2n ** 70n + 5n)
  expect(out.keys).toEqual(new Set(['small', 'huge']))
  expect(await first.api.add.mutate({ by: 40n })).toBe(40n)
  expect(await first.api.add.mutate({ by: 2n })).toBe(42n)
  const error = await rpcErrorOf(first.api.missing.query({ id: 'nope' }))
  expect({ code: error.code, message: error.message }).toEqual({ code: 'NOT_FOUND', message: 'no item nope' })
  const ids = [await first.api.publish.mutate({ n: 1 }), await first.api.publish.mutate({ n: 2 }), await first.api.publish.mutate({ n: 3 })]
  await waitUntil(() => first.feed.ns.length === 3, 'events 1-3', 10_000)
  expect(first.feed).toEqual({ ns: [1, 2, 3], ats: [1, 2, 3].map(eventDate), ids, starts: 1, errors: [] })
  expect(await connections(child)).toBe(1)

  // Quiet for 1.5 s: the server pings (every 100 ms of silence), ws answers, and the server keeps the connection (it drops one unanswered for 1 s).
  pings = 0
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  expect(pings).toBeGreaterThanOrEqual(2)
  expect(first.api.$connection.state).toBe('open')
  expect(await connections(child)).toBe(1)

  // A clean close from the client: the server lets go of the connection.
  first.sub.unsubscribe()
  await first.api.$connection.close()
  expect(first.states).toEqual(['connecting', 'open', 'closed'])

  // maxPayload (1 MiB by default) holds: a 2 MiB frame is refused with 1009.
  const raw = new WebSocket(url, 'wirecall.v1')
  onTestFinished(() => raw.terminate())
  const rawClosed = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)))
  await within(new Promise((resolve, reject) => raw.once('open', resolve).once('error', reject)), 'a raw socket to open', 5_000)
  raw.send('x'.repeat(2 * 1_048_576))
  expect(await within(rawClosed, 'the server to refuse a frame over maxPayload', 5_000)).toBe(1009)

  const deadline = Date.now() + 5_000
  while ((await connections(child)) !== 0) {
    if (Date.now() > deadline) throw new Error(`the server still counts a connection 5 s after the client closed\n${child.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }

  // A clean close from the server: close() says 1001 to a connected client, and the runtime exits by itself.
  const second = connect(url)
  await waitUntil(() => second.feed.starts === 1, 'the second subscription to start', 10_000)
  child.send('close')
  const closed = await child.next((m) => m.step === 'closed', "the server's close() to resolve")
  await waitUntil(() => second.states.at(-1) === 'closed', 'the second client to see the close', 5_000)
  expect(second.closes).toEqual([{ code: 1001, reason: 'server closed' }])
  expect(closed.connections).toBe(0)
  // Under closeTimeoutMs (1 000 ms): the closing handshake completed, the server did not have to cut the socket off.
  expect(closed.closeMs as number).toBeLessThan(1_000)
  expect(await child.exited(), child.output()).toEqual({ code: 0, signal: null })
}
