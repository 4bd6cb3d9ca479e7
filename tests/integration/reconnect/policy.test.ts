import { describe, expect, it, onTestFinished, vi } from 'vitest'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { WebSocketServer } from 'ws'
import { z } from 'zod'
import { initRpc, RpcError } from '@wirecall/core'
import type { ConnectionState, RpcClient } from '@wirecall/client'
import { connectClient, rpcErrorOf, sleep, startServer, untilAborted, waitUntil, within } from '../../helpers/harness'
import { startFaultProxy } from '../../helpers/fault-proxy'
import { trackTimers } from '../../helpers/timer-tracker'

/**
 * The client's reconnect *policy* on real sockets: when it retries, how long
 * it waits, when it gives up, and what makes it dial (or not dial) early.
 * What happens to each kind of operation across a drop is the reconnect
 * matrix's business (reconnect-matrix.test.ts).
 */

interface Ctx {
  n?: unknown
}
const rpc = initRpc.context<Ctx>().create()

const router = rpc.router({
  ping: rpc.procedure.query(() => 'pong'),
  /** What the connection's context was built from: shows which connectionParams the server saw. */
  whoami: rpc.procedure.query(({ ctx }) => ctx.n),
  echo: rpc.procedure.input(z.string()).query(({ input }) => input.length),
  hang: rpc.procedure.query(({ signal }) => untilAborted(signal).then(() => 'aborted')),
  /** One event, then quiet until unsubscribed: a subscription that holds a connection open. */
  feed: rpc.procedure.subscription(async function* ({ signal }) {
    yield 1
    await untilAborted(signal)
  }),
})
type R = typeof router

/** A server whose `createContext` calls are recorded (with the params each saw); `refuse` makes it throw. */
async function countingServer(refuse?: () => unknown) {
  const contexts: unknown[] = []
  const started = await startServer({
    router,
    createContext: ({ connectionParams }) => {
      contexts.push(connectionParams)
      if (refuse !== undefined) throw refuse()
      return { n: (connectionParams as { n?: unknown } | undefined)?.n }
    },
  })
  return { ...started, contexts }
}

/**
 * A "server" that is down: it accepts TCP and resets at once, so every dial
 * fails the way an unreachable host does (1006), but can be counted.
 */
async function deadServer() {
  let dials = 0
  const server = createNetServer((socket) => {
    dials++
    socket.on('error', () => {})
    socket.resetAndDestroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
      }),
  )
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`,
    get dials() {
      return dials
    },
  }
}

/** Records the client's 'reconnect' events and states, from now on. */
function record(api: RpcClient<R>) {
  const reconnects: { attempt: number; delayMs: number; at: number }[] = []
  const states: ConnectionState[] = []
  const closes: number[] = []
  api.$connection.on('reconnect', ({ attempt, delayMs }) => reconnects.push({ attempt, delayMs, at: Date.now() }))
  api.$connection.on('state', (s) => states.push(s))
  api.$connection.on('close', ({ code }) => closes.push(code))
  return { reconnects, states, closes }
}

/** Settled-or-not of a promise, without awaiting it. */
function watch<T>(promise: Promise<T>) {
  const state = { settled: false, promise }
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  )
  return state
}

describe('backoff', () => {
  it('waits a jittered, growing, capped delay before each attempt against an unreachable server', async () => {
    const { port } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    proxy.refuse(true)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 80, factor: 2 } })
    const { reconnects } = record(api)
    await waitUntil(() => reconnects.length >= 12, '12 reconnect attempts', 5_000)

    const first = reconnects.slice(0, 12)
    expect(first.map((r) => r.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    // Full jitter: each delay is somewhere under its attempt's ceiling, min(80, 10 * 2 ** (attempt - 1)).
    for (const { attempt, delayMs } of first) {
      expect(delayMs).toBeGreaterThanOrEqual(0)
      expect(delayMs, `attempt ${attempt}`).toBeLessThan(Math.min(80, 10 * 2 ** (attempt - 1)))
    }
    expect(new Set(first.map((r) => r.delayMs)).size).toBeGreaterThan(1)
    // The ceiling grew past the first attempt's 10 ms: nine draws under 80 ms all landing below 10 would be a 1-in-10^8 fluke.
    expect(Math.max(...first.slice(3).map((r) => r.delayMs))).toBeGreaterThanOrEqual(10)
    expect(api.$connection.state).toBe('reconnecting')
  })
})

describe('giving up', () => {
  it('with reconnect: false, one drop ends the client with CONNECTION_LOST and no second attempt', async () => {
    const { port, contexts } = await countingServer()
    const proxy = await startFaultProxy(port)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: false })
    expect(await api.ping.query()).toBe('pong')
    const { reconnects } = record(api)
    const pending = api.hang.query()

    await waitUntil(() => proxy.connections === 1, 'the link to be up')
    proxy.cut()
    expect((await within(rpcErrorOf(pending), 'the pending query to reject')).code).toBe('CONNECTION_LOST')
    expect(api.$connection.state).toBe('closed')
    expect(api.$connection.error?.code).toBe('CONNECTION_LOST')
    expect((await rpcErrorOf(api.ping.query())).code).toBe('CONNECTION_LOST')

    await sleep(300)
    expect(contexts).toHaveLength(1)
    expect(proxy.connections).toBe(0)
    expect(reconnects).toEqual([])
  })

  it('with maxRetries: 3, gives up after the third failed retry: 3 reconnect events, then closed', async () => {
    const dead = await deadServer()
    const api = connectClient<R>(dead.url, { reconnect: { minDelayMs: 10, maxDelayMs: 40, maxRetries: 3 } })
    const { reconnects, states } = record(api)
    const queued = api.ping.query()

    expect((await within(rpcErrorOf(queued), 'the queued call to reject')).code).toBe('CONNECTION_LOST')
    expect(api.$connection.state).toBe('closed')
    expect(api.$connection.error?.code).toBe('CONNECTION_LOST')
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2, 3])
    // The first dial plus one per scheduled retry.
    expect(dead.dials).toBe(4)
    expect(states.at(-1)).toBe('closed')
    expect((await rpcErrorOf(api.ping.query())).code).toBe('CONNECTION_LOST')

    await sleep(200)
    expect(dead.dials).toBe(4)
    expect(reconnects).toHaveLength(3)
  })
})

describe('terminal close codes', () => {
  it('createContext throwing FORBIDDEN (4403) ends the client at once, without a reconnect', async () => {
    const { url, contexts } = await countingServer(() => new RpcError('FORBIDDEN', 'banned'))
    const api = connectClient<R>(url, { reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
    const { reconnects, closes } = record(api)
    const queued = api.ping.query()

    expect((await within(rpcErrorOf(queued), 'the queued call to reject')).code).toBe('FORBIDDEN')
    expect(api.$connection.state).toBe('closed')
    expect(api.$connection.error?.code).toBe('FORBIDDEN')
    expect(closes).toEqual([4403])
    await sleep(200)
    expect(reconnects).toEqual([])
    expect(contexts).toHaveLength(1)
  })

  it('a server closing an open connection with 4400 ends the client at once, without a reconnect', async () => {
    // A raw server: acks, then answers the first call with a protocol-error close.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'wirecall.v1' })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          for (const client of wss.clients) client.terminate()
          wss.close(() => resolve())
        }),
    )
    let connections = 0
    wss.on('connection', (ws) => {
      connections++
      ws.on('message', (data) => {
        const message = JSON.parse(String(data)) as { type: string }
        if (message.type === 'init') ws.send('{"type":"ack"}')
        else if (message.type === 'call') ws.close(4400, 'go away')
      })
    })
    const api = connectClient<R>(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/rpc`, {
      reconnect: { minDelayMs: 10, maxDelayMs: 20 },
    })
    const { reconnects } = record(api)

    const error = await within(rpcErrorOf(api.ping.query()), 'the call to reject')
    expect(error.code).toBe('BAD_REQUEST')
    expect(api.$connection.state).toBe('closed')
    expect(api.$connection.error?.code).toBe('BAD_REQUEST')
    await sleep(200)
    expect(reconnects).toEqual([])
    expect(connections).toBe(1)
  })
})

describe('createContext refusing', () => {
  it('a plain Error (4401) gives UNAUTHORIZED and no retry storm: createContext runs once', async () => {
    const { url, contexts } = await countingServer(() => new Error('bad token'))
    const api = connectClient<R>(url, { reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
    const { reconnects } = record(api)
    const queued = api.ping.query()

    expect((await within(rpcErrorOf(queued), 'the queued call to reject')).code).toBe('UNAUTHORIZED')
    expect(api.$connection.state).toBe('closed')
    expect(api.$connection.error?.code).toBe('UNAUTHORIZED')
    expect((await rpcErrorOf(api.ping.query())).code).toBe('UNAUTHORIZED')
    await sleep(300)
    expect(contexts).toHaveLength(1)
    expect(reconnects).toEqual([])
  })

  it('OVERLOADED (1013) is retried with backoff: one createContext per scheduled attempt', async () => {
    const { url, contexts } = await countingServer(() => new RpcError('OVERLOADED', 'busy'))
    const api = connectClient<R>(url, { reconnect: { minDelayMs: 10, maxDelayMs: 40 } })
    const { reconnects, closes } = record(api)

    await waitUntil(() => reconnects.length >= 4, 'four reconnect attempts')
    expect(closes.slice(0, 4)).toEqual([1013, 1013, 1013, 1013])
    // A refused handshake is a failure: the counter keeps growing instead of starting over.
    expect(reconnects.slice(0, 4).map((r) => r.attempt)).toEqual([1, 2, 3, 4])
    for (const { delayMs } of reconnects) expect(delayMs).toBeLessThan(40)
    // No dial that was not scheduled: the first, then one per reconnect event (the latest may be under way).
    const seen = reconnects.length
    expect(contexts.length).toBeGreaterThanOrEqual(seen)
    expect(contexts.length).toBeLessThanOrEqual(seen + 1)
    expect(api.$connection.state).toBe('reconnecting')
    expect(api.$connection.error).toBeUndefined()
  })
})

describe('connectionParams function', () => {
  it('is evaluated again on every reconnect, and the server builds the context from the new value', async () => {
    const { port, contexts } = await countingServer()
    const proxy = await startFaultProxy(port)
    let evaluations = 0
    const api = connectClient<R>(proxy.url('/rpc'), {
      reconnect: { minDelayMs: 10, maxDelayMs: 20 },
      connectionParams: () => ({ n: ++evaluations }),
    })
    expect(await api.whoami.query()).toBe(1)

    for (const expected of [2, 3]) {
      await waitUntil(() => proxy.connections === 1, 'the link to be up')
      proxy.cut()
      // Counted rather than polled for 'reconnecting': with 10 ms delays the client can be open again between two polls.
      await waitUntil(() => contexts.length === expected && api.$connection.state === 'open', `reconnect ${expected - 1}`)
      expect(await api.whoami.query()).toBe(expected)
    }
    expect(evaluations).toBe(3)
    expect(contexts).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }])
  })

  it('throwing a plain Error counts as a failed attempt and is retried', async () => {
    const { url, contexts } = await countingServer()
    let evaluations = 0
    const api = connectClient<R>(url, {
      reconnect: { minDelayMs: 10, maxDelayMs: 20 },
      connectionParams: () => {
        if (++evaluations <= 2) throw new Error('token endpoint down')
        return { n: evaluations }
      },
    })
    const { reconnects } = record(api)

    expect(await within(api.whoami.query(), 'the call to go through once params resolve')).toBe(3)
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2])
    expect(api.$connection.state).toBe('open')
    expect(contexts).toEqual([{ n: 3 }])
  })

  it('throwing RpcError UNAUTHORIZED ends the client without dialling', async () => {
    const { url, contexts } = await countingServer()
    let evaluations = 0
    const api = connectClient<R>(url, {
      reconnect: { minDelayMs: 10, maxDelayMs: 20 },
      connectionParams: () => {
        evaluations++
        throw new RpcError('UNAUTHORIZED', 'logged out')
      },
    })
    const { reconnects } = record(api)

    expect((await within(rpcErrorOf(api.ping.query()), 'the call to reject')).code).toBe('UNAUTHORIZED')
    expect(api.$connection.state).toBe('closed')
    expect(api.$connection.error?.code).toBe('UNAUTHORIZED')
    await sleep(200)
    expect(evaluations).toBe(1)
    expect(reconnects).toEqual([])
    expect(contexts).toEqual([])
  })
})

describe('stable connection', () => {
  it('continues the attempt count after a connection that dropped early, and restarts it after one that lasted stableAfterMs', async () => {
    const { port } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 20, stableAfterMs: 1_000 } })
    const { reconnects } = record(api)
    const dropWhenOpen = async (count: number) => {
      await waitUntil(() => api.$connection.state === 'open' && proxy.connections === 1, 'the connection to be open')
      proxy.cut()
      await waitUntil(() => reconnects.length === count, `reconnect event ${count}`)
    }

    // Dropped well within stableAfterMs, twice: the second drop is a consecutive failure.
    await dropWhenOpen(1)
    await dropWhenOpen(2)
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2])

    await waitUntil(() => api.$connection.state === 'open', 'the reconnect')
    await sleep(1_300)
    await dropWhenOpen(3)
    expect(reconnects.map((r) => r.attempt)).toEqual([1, 2, 1])
  })
})

/** An EventTarget-like with countable listeners, standing in for `window` and `document`. */
class FakeTarget {
  private readonly listeners = new Map<string, Set<(event: Event) => void>>()
  addEventListener = (type: string, listener: (event: Event) => void) => {
    let set = this.listeners.get(type)
    if (set === undefined) this.listeners.set(type, (set = new Set()))
    set.add(listener)
  }
  removeEventListener = (type: string, listener: (event: Event) => void) => {
    this.listeners.get(type)?.delete(listener)
  }
  dispatchEvent = (event: Event) => {
    for (const listener of [...(this.listeners.get(event.type) ?? [])]) listener(event)
    return true
  }
  count(type: string): number {
    return this.listeners.get(type)?.size ?? 0
  }
}

/**
 * Makes this Node process look like a browser page to the client: global
 * online/offline events, `document` with `visibilityState`, and
 * `navigator.onLine`. Everything is put back after the test (registered
 * before any client, so it is restored after the clients are closed).
 */
function fakeBrowser() {
  const scope = globalThis as Record<string, unknown>
  const window = new FakeTarget()
  const document = Object.assign(new FakeTarget(), { visibilityState: 'visible' as 'visible' | 'hidden' })
  let onLine = true
  const saved = ['addEventListener', 'removeEventListener', 'dispatchEvent', 'document', 'navigator'].map(
    (key) => [key, Object.getOwnPropertyDescriptor(scope, key)] as const,
  )
  const define = (key: string, descriptor: PropertyDescriptor) => Object.defineProperty(scope, key, { configurable: true, ...descriptor })
  define('addEventListener', { value: window.addEventListener, writable: true })
  define('removeEventListener', { value: window.removeEventListener, writable: true })
  define('dispatchEvent', { value: window.dispatchEvent, writable: true })
  define('document', { value: document, writable: true })
  define('navigator', {
    value: {
      get onLine() {
        return onLine
      },
    },
    writable: true,
  })
  onTestFinished(() => {
    for (const [key, descriptor] of saved) {
      if (descriptor === undefined) delete scope[key]
      else Object.defineProperty(scope, key, descriptor)
    }
  })
  return {
    window,
    document,
    setOnline(value: boolean) {
      onLine = value
      window.dispatchEvent(new Event(value ? 'online' : 'offline'))
    },
    /** Changes `navigator.onLine` without an event, as when the browser has not noticed yet. */
    setOnLineQuietly(value: boolean) {
      onLine = value
    },
    setVisibility(state: 'visible' | 'hidden') {
      document.visibilityState = state
      document.dispatchEvent(new Event('visibilitychange'))
    },
  }
}

/**
 * A client in a fake browser whose link was just cut, waiting out its first
 * retry. A fixed draw makes that delay half the 60 s ceiling, so only an
 * event can explain a quick reconnect.
 */
async function waitingOutALongRetry() {
  const browser = fakeBrowser()
  const random = vi.spyOn(Math, 'random').mockReturnValue(0.5)
  onTestFinished(() => random.mockRestore())
  const { port } = await startServer({ router })
  const proxy = await startFaultProxy(port)
  const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 60_000, maxDelayMs: 120_000 } })
  expect(await api.ping.query()).toBe('pong')
  const { reconnects } = record(api)

  proxy.cut()
  await waitUntil(() => reconnects.length === 1, 'the retry to be scheduled')
  expect(reconnects[0]!.delayMs).toBe(30_000)
  return { browser, api }
}

describe('browser hooks (fake browser environment)', () => {
  it('does not dial a due retry while navigator.onLine is false; the online event dials it', async () => {
    const browser = fakeBrowser()
    const { port, contexts } = await countingServer()
    const proxy = await startFaultProxy(port)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 20, maxDelayMs: 20 } })
    expect(await api.ping.query()).toBe('pong')
    const { reconnects } = record(api)

    browser.setOnLineQuietly(false)
    proxy.cut()
    await waitUntil(() => reconnects.length === 1, 'the retry to be scheduled')
    // Many times the 20 ms delay: the retry was due long ago.
    await sleep(300)
    expect(contexts).toHaveLength(1)
    expect(proxy.connections).toBe(0)
    expect(api.$connection.state).toBe('reconnecting')

    browser.setOnline(true)
    await waitUntil(() => api.$connection.state === 'open', 'the reconnect after the online event', 2_000)
    expect(contexts).toHaveLength(2)
    expect(reconnects).toHaveLength(1)
  })

  it("'online' dials at once instead of waiting out the backoff delay", async () => {
    const { browser, api } = await waitingOutALongRetry()
    const before = Date.now()
    browser.setOnline(true)
    await waitUntil(() => api.$connection.state === 'open', 'the reconnect after the online event', 3_000)
    expect(Date.now() - before).toBeLessThan(3_000)
    expect(await api.ping.query()).toBe('pong')
  })

  it("'visibilitychange' to visible while reconnecting dials at once", async () => {
    const { browser, api } = await waitingOutALongRetry()
    // Hidden is not a reason to dial.
    browser.setVisibility('hidden')
    await sleep(100)
    expect(api.$connection.state).toBe('reconnecting')
    browser.setVisibility('visible')
    await waitUntil(() => api.$connection.state === 'open', 'the reconnect after the page became visible', 3_000)
  })

  it("'visibilitychange' to visible while open checks the connection with a ping", async () => {
    const browser = fakeBrowser()
    const { url } = await startServer({ router })
    const api = connectClient<R>(url)
    expect(await api.ping.query()).toBe('pong')
    const pongs: number[] = []
    api.$connection.on('pong', ({ rttMs }) => pongs.push(rttMs))
    expect(api.$connection.rttMs).toBeUndefined()

    browser.setVisibility('visible')
    await waitUntil(() => pongs.length === 1, 'a pong')
    expect(pongs[0]).toBeGreaterThanOrEqual(0)
    expect(pongs[0]).toBeLessThan(2_000)
    expect(api.$connection.rttMs).toBe(pongs[0])
    expect(api.$connection.state).toBe('open')
  })

  it("'offline' while open checks the connection with a ping", async () => {
    const browser = fakeBrowser()
    const { url } = await startServer({ router })
    const api = connectClient<R>(url)
    expect(await api.ping.query()).toBe('pong')
    const pongs: number[] = []
    api.$connection.on('pong', ({ rttMs }) => pongs.push(rttMs))

    browser.setOnline(false)
    await waitUntil(() => pongs.length === 1, 'a pong')
    expect(api.$connection.rttMs).toBe(pongs[0])
  })

  it('removes its listeners on close()', async () => {
    const browser = fakeBrowser()
    const { url } = await startServer({ router })
    const api = connectClient<R>(url)
    expect(await api.ping.query()).toBe('pong')
    expect(browser.window.count('online')).toBe(1)
    expect(browser.window.count('offline')).toBe(1)
    expect(browser.document.count('visibilitychange')).toBe(1)

    await api.$connection.close()
    expect(browser.window.count('online')).toBe(0)
    expect(browser.window.count('offline')).toBe(0)
    expect(browser.document.count('visibilitychange')).toBe(0)
    // And the events do nothing to a closed client.
    browser.setOnline(true)
    browser.setVisibility('visible')
    expect(api.$connection.state).toBe('closed')
  })
})

describe('lazy', () => {
  it('does not connect until the first call', async () => {
    const { url, server, contexts } = await countingServer()
    const api = connectClient<R>(url, { lazy: { idleTimeoutMs: 100 } })
    await sleep(150)
    expect(api.$connection.state).toBe('idle')
    expect(server.connectionCount).toBe(0)
    expect(contexts).toHaveLength(0)

    expect(await api.ping.query()).toBe('pong')
    expect(contexts).toHaveLength(1)
  })

  it('goes back to idle after idleTimeoutMs without use, and the server sees the connection closed', async () => {
    const { url, server } = await countingServer()
    const api = connectClient<R>(url, { lazy: { idleTimeoutMs: 100 } })
    const { reconnects } = record(api)
    expect(await api.ping.query()).toBe('pong')
    const answeredAt = Date.now()
    expect(api.$connection.state).toBe('open')

    await waitUntil(() => api.$connection.state === 'idle', 'the idle close', 2_000)
    // Not before the idle time (with slack for timer granularity).
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(80)
    await waitUntil(() => server.connectionCount === 0, 'the server to see the connection closed')
    expect(reconnects).toEqual([])
  })

  it('keeps the connection open past the idle time while a subscription is live', async () => {
    const { url, server } = await countingServer()
    const api = connectClient<R>(url, { lazy: { idleTimeoutMs: 100 } })
    let events = 0
    const sub = api.feed.subscribe(undefined, { onData: () => events++, onError: () => {} })
    await waitUntil(() => events === 1, 'the first event')

    await sleep(400)
    expect(api.$connection.state).toBe('open')
    expect(server.connectionCount).toBe(1)

    sub.unsubscribe()
    await waitUntil(() => api.$connection.state === 'idle', 'the idle close after unsubscribing', 2_000)
    await waitUntil(() => server.connectionCount === 0, 'the server to see the connection closed')
  })

  it('connects again for the next call after going idle', async () => {
    const { url, contexts } = await countingServer()
    const api = connectClient<R>(url, { lazy: { idleTimeoutMs: 100 } })
    expect(await api.ping.query()).toBe('pong')
    await waitUntil(() => api.$connection.state === 'idle', 'the idle close', 2_000)

    expect(await within(api.ping.query(), 'the call after idle')).toBe('pong')
    expect(contexts).toHaveLength(2)
    expect(api.$connection.state).toBe('open')
  })
})

describe('offline queue', () => {
  it('rejects a call past maxCalls with OVERLOADED at once; the queued ones go out once the server is reachable', async () => {
    const { port } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    proxy.refuse(true)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 30 }, offlineQueue: { maxCalls: 3 } })

    const queued = [api.ping.query(), api.echo.query('ab'), api.whoami.query()].map(watch)
    const overflow = watch(api.ping.query())
    // Settled before any timer could run: the rejection is immediate, not a timeout.
    await sleep(0)
    expect(overflow.settled).toBe(true)
    const error = await rpcErrorOf(overflow.promise)
    expect(error.code).toBe('OVERLOADED')

    await waitUntil(() => api.$connection.state === 'reconnecting', 'the first attempt to fail')
    await sleep(150)
    expect(queued.map((q) => q.settled)).toEqual([false, false, false])

    proxy.restore()
    expect(await within(Promise.all(queued.map((q) => q.promise)), 'the queued calls to resolve')).toEqual(['pong', 2, undefined])
  })

  it('rejects a call that would take the queue past maxBytes with OVERLOADED; smaller ones still fit', async () => {
    const { port } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    proxy.refuse(true)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 30 }, offlineQueue: { maxBytes: 1_000 } })

    const big = watch(api.echo.query('x'.repeat(600)))
    const tooMuch = watch(api.echo.query('y'.repeat(600)))
    await sleep(0)
    expect(tooMuch.settled).toBe(true)
    expect((await rpcErrorOf(tooMuch.promise)).code).toBe('OVERLOADED')
    const small = watch(api.ping.query())
    await sleep(100)
    expect(big.settled).toBe(false)
    expect(small.settled).toBe(false)

    proxy.restore()
    expect(await within(Promise.all([big.promise, small.promise]), 'the queued calls to resolve')).toEqual([600, 'pong'])
  })

  it('times a queued call out with TIMEOUT at its own timeoutMs', async () => {
    const { port } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    proxy.refuse(true)
    const api = connectClient<R>(proxy.url('/rpc'), { reconnect: { minDelayMs: 10, maxDelayMs: 30 } })

    const started = Date.now()
    const error = await within(rpcErrorOf(api.ping.query(undefined, { timeoutMs: 150 })), 'the queued call to time out')
    expect(error.code).toBe('TIMEOUT')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    // The client is still trying: a timed-out call is not a reason to give up.
    expect(api.$connection.state).not.toBe('closed')
    expect(api.$connection.error).toBeUndefined()
  })
})

describe('connectTimeoutMs', () => {
  it('abandons a handshake that never completes and retries', async () => {
    const { port } = await startServer({ router })
    const proxy = await startFaultProxy(port)
    // TCP is accepted, but not one byte of the HTTP upgrade gets through.
    proxy.stall({ stallNew: true })
    const started = Date.now()
    const api = connectClient<R>(proxy.url('/rpc'), { connectTimeoutMs: 200, reconnect: { minDelayMs: 10, maxDelayMs: 20 } })
    const { reconnects, closes } = record(api)

    await waitUntil(() => reconnects.length === 1, 'the abandoned attempt to be retried')
    expect(reconnects[0]!.at - started).toBeGreaterThanOrEqual(190)
    expect(closes[0]).toBe(1006)
    expect(api.$connection.state).toBe('reconnecting')

    proxy.restore()
    expect(await within(api.ping.query(), 'a call once the link flows again')).toBe('pong')
  })
})

describe('timers', () => {
  it('leaves no timer behind after calls, a subscription, a drop, a reconnect and close()', async () => {
    const { port, server } = await countingServer()
    const proxy = await startFaultProxy(port)
    const timers = trackTimers()
    const api = connectClient<R>(proxy.url('/rpc'), {
      reconnect: { minDelayMs: 10, maxDelayMs: 20 },
      keepAlive: { intervalMs: 50, timeoutMs: 1_000 },
    })
    const resubscribed: string[] = []
    api.$connection.on('resubscribe', ({ path }) => resubscribed.push(path))

    expect(await api.ping.query()).toBe('pong')
    let events = 0
    api.feed.subscribe(undefined, { onData: () => events++, onError: () => {} })
    await waitUntil(() => events === 1, 'the first event')
    await sleep(120) // a keep-alive ping or two
    proxy.cut()
    await waitUntil(() => resubscribed.length === 1, 'the resubscribe after the reconnect')
    expect(await api.echo.query('abc')).toBe(3)
    await api.$connection.close()
    await waitUntil(() => server.connectionCount === 0, 'the server to release the connection')

    expect(timers.live(), timers.liveStacks().join('\n\n')).toBe(0)
  })
})
