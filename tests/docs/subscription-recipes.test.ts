import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, expectTypeOf, it, onTestFinished } from 'vitest'
import WebSocket from 'ws'
import { z } from 'zod'
import {
  createChannel,
  fromCallback,
  fromEmitter,
  fromEventTarget,
  initRpc,
  isResync,
  isVolatile,
  RpcError,
  tracked,
  type ResyncSignal,
} from '@wirecall/server'
import type { RpcError as ClientRpcError, RpcClient, RpcClientOptions, SubscriptionState } from '@wirecall/client'
import { startFaultProxy } from '../helpers/fault-proxy'
import { connectClient, readyPeer, startServer, waitUntil, within } from '../helpers/harness'
import { snippetLinesNotRun } from './snippet-lines'

/**
 * Runs the code of docs/subscriptions.md for real, on sockets over
 * 127.0.0.1, and checks that it does what the guide says. The guide's
 * snippets are copied here line for line (imports, `createRpcClient` and
 * `listen` aside, which the harness replaces); the last describe fails when
 * a line of the guide is no longer in this file, so the two cannot drift.
 *
 * The guide's placeholders (`show`, `render`, `reloadMessages`...) are
 * defined in each test as recorders. Each test builds its own router, so
 * channels and maps never leak from one test to the next.
 */

/** A `ws` WebSocket class whose instances the test can reach: to drop a connection, or to read what the client sent. */
function trackedSockets() {
  const sockets: WebSocket[] = []
  const sent: string[] = []
  class TrackedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols)
      sockets.push(this)
      const send = this.send.bind(this)
      this.send = ((data: string) => {
        sent.push(data)
        send(data)
      }) as typeof this.send
    }
  }
  /** Cuts the newest socket without a closing handshake, as a network drop would (the client sees 1006). */
  const drop = () => sockets.at(-1)!.terminate()
  return { WebSocket: TrackedWebSocket, sockets, sent, drop }
}

// ---------------------------------------------------------------------------
// 1. A live feed in ten lines

function liveFeedServer() {
  const rpc = initRpc.create()
  const messages = createChannel<{ text: string; at: Date }>({ history: 100 })

  const appRouter = rpc.router({
    send: rpc.procedure
      .input(z.object({ text: z.string().min(1) }))
      .mutation(({ input }) => messages.publish({ text: input.text, at: new Date() })),
    messages: rpc.procedure.subscription(({ lastEventId, signal }) => messages.subscribe({ lastEventId, signal })),
  })
  return { appRouter, messages }
}

describe('guide: a live feed in ten lines', () => {
  it('handler form: onStarted sends, onData receives a typed event', async () => {
    const { appRouter } = liveFeedServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const logged: unknown[][] = []
    const console = { log: (...args: unknown[]) => logged.push(args) }

    api.messages.subscribe(undefined, {
      onStarted: () => void api.send.mutate({ text: 'hello' }),
      onData: (message) => console.log(message.at.toLocaleTimeString(), message.text),
    })

    await waitUntil(() => logged.length === 1, 'the hello message')
    expect(logged[0]![1]).toBe('hello')
    expect(typeof logged[0]![0]).toBe('string') // `at` arrived as a Date
  })

  it('iterator form: for await, isResync, break', async () => {
    const { appRouter, messages } = liveFeedServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const logged: unknown[] = []
    const console = { log: (text: string) => logged.push(text) }

    const loop = (async () => {
      for await (const message of api.messages.subscribe()) {
        expectTypeOf(message).toEqualTypeOf<{ text: string; at: Date } | ResyncSignal>()
        if (isResync(message)) continue // missed events: see "Channels"
        console.log(message.text)
        if (logged.length === 2) break
      }
    })()
    await waitUntil(() => messages.subscriberCount === 1, 'the loop to subscribe')
    await api.send.mutate({ text: 'one' })
    await api.send.mutate({ text: 'two' })
    await within(loop, 'the loop to end')
    expect(logged).toEqual(['one', 'two'])
    await waitUntil(() => messages.subscriberCount === 0, 'break to unsubscribe on the server')
  })

  it('what is published after started always arrives; a call batched right behind subscribe is a race (why the guide uses onStarted)', async () => {
    const { appRouter, messages } = liveFeedServer()
    const { url } = await startServer({ router: appRouter })
    const peer = await readyPeer(url)
    // Subscribe and send in one frame: handled in order, but each runs its own middleware and validation asynchronously.
    peer.send([
      { type: 'subscribe', id: 1, path: 'messages' },
      { type: 'call', id: 2, method: 'mutation', path: 'send', input: { text: 'racing' } },
    ])
    await peer.next((m) => m.type === 'result' && m.id === 2)
    await peer.next((m) => m.type === 'started')
    messages.publish({ text: 'in time', at: new Date() })
    await peer.next((m) => m.type === 'data' && (m.data as { text: string }).text === 'in time')
    await sleep(20)
    const texts = peer.messages.filter((m) => m.type === 'data').map((m) => (m.data as { text: string }).text)
    expect([['in time'], ['racing', 'in time']]).toContainEqual(texts)
  })

})

// ---------------------------------------------------------------------------
// 2. Writing a subscription

function tickerServer() {
  const rpc = initRpc.create()
  const Tick = z.object({ n: z.number().int(), at: z.date() })
  let runningTickers = 0

  const appRouter = rpc.router({
    ticks: rpc.procedure
      .input(z.object({ everyMs: z.number().int().min(10) }))
      .output(Tick)
      .subscription(async function* ({ input, signal, lastEventId }) {
        const resumeAt = Number(lastEventId) // NaN when absent or not a number
        let n = Number.isSafeInteger(resumeAt) && resumeAt > 0 ? resumeAt : 0
        runningTickers++
        try {
          while (true) {
            await sleep(input.everyMs, undefined, { signal }) // rejects when the subscription ends
            n++
            yield tracked(String(n), { n, at: new Date() })
          }
        } finally {
          runningTickers-- // runs however the subscription ends
        }
      }),
  })
  return { appRouter, running: () => runningTickers }
}

describe('guide: writing a subscription', () => {
  it('yields tracked events: the client gets the data, typed, and remembers the id', async () => {
    const { appRouter, running } = tickerServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)

    const ticks = api.ticks.subscribe({ everyMs: 10 })
    const seen: number[] = []
    for await (const tick of ticks) {
      expectTypeOf(tick).toEqualTypeOf<{ n: number; at: Date }>() // no ResyncSignal: this generator never sends one
      expect(tick.at).toBeInstanceOf(Date)
      seen.push(tick.n)
      if (seen.length === 3) break
    }
    expect(seen).toEqual([1, 2, 3])
    expect(ticks.lastEventId).toBe('3')
    await waitUntil(() => running() === 0, 'the generator to end after break')

    // Resuming: the generator starts after the id the client sends.
    const resumed = api.ticks.subscribe({ everyMs: 10 }, { lastEventId: ticks.lastEventId })
    for await (const tick of resumed) {
      expect(tick.n).toBe(4)
      break
    }
    await waitUntil(() => running() === 0, 'the resumed generator to end')
  })

  it('an id longer than 1,024 characters ends that subscription with INTERNAL; the connection carries on', async () => {
    const rpc = initRpc.create()
    const appRouter = rpc.router({
      long: rpc.procedure.subscription(async function* () {
        yield tracked('x'.repeat(1_024), 1)
        yield tracked('x'.repeat(1_025), 2)
      }),
      ping: rpc.procedure.query(() => 'pong'),
    })
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const got: number[] = []
    const error = await within(
      new Promise<ClientRpcError>((resolve) => api.long.subscribe(undefined, { onData: (n) => got.push(n), onError: resolve })),
      'the error',
    )
    expect(got).toEqual([1])
    expect(error.code).toBe('INTERNAL')
    expect(await api.ping.query()).toBe('pong')
    expect(api.$connection.state).toBe('open')
  })

  it('an input that fails the schema is an error before any started', async () => {
    const { appRouter, running } = tickerServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const outcome = await within(
      new Promise<{ started: boolean; error: ClientRpcError }>((resolve) => {
        let started = false
        api.ticks.subscribe({ everyMs: 1 }, { onStarted: () => (started = true), onError: (error) => resolve({ started, error }) })
      }),
      'the BAD_REQUEST',
    )
    expect(outcome.started).toBe(false)
    expect(outcome.error.code).toBe('BAD_REQUEST')
    expect(running()).toBe(0)
  })
})

/**
 * "What ends a subscription": every ending aborts the signal and runs the
 * generator's `finally`. Not guide code, but the guide's claims.
 */
describe('guide: what ends a subscription', () => {
  function probeServer() {
    const rpc = initRpc.create()
    const runs: { aborted: boolean | undefined; finished: boolean; signal: AbortSignal | undefined }[] = []
    const feed = createChannel<number>()
    const track = (signal?: AbortSignal) => {
      const run = { aborted: undefined as boolean | undefined, finished: false, signal }
      runs.push(run)
      return run
    }
    const appRouter = rpc.router({
      /** Waits on the signal between events, as the guide advises. */
      live: rpc.procedure.subscription(async function* ({ signal }) {
        const run = track()
        try {
          for await (const event of feed.subscribe({ signal })) if (!isResync(event)) yield event.data
        } finally {
          run.aborted = signal.aborted
          run.finished = true
        }
      }),
      /** Ignores its signal: stops at its next yield. */
      deaf: rpc.procedure.input(z.object({ everyMs: z.number() })).subscription(async function* ({ input, signal }) {
        const run = track()
        try {
          for (let n = 0; ; n++) {
            await sleep(input.everyMs)
            yield n
          }
        } finally {
          run.aborted = signal.aborted
          run.finished = true
        }
      }),
      throws: rpc.procedure.input(z.object({ code: z.enum(['CONFLICT', 'plain']) })).subscription(async function* ({ input, signal }) {
        const run = track(signal)
        try {
          yield 1
          if (input.code === 'CONFLICT') throw new RpcError('CONFLICT', 'someone else got there first')
          throw new Error('secret details')
        } finally {
          run.aborted = signal.aborted
          run.finished = true
        }
      }),
      badOutput: rpc.procedure.output(z.object({ n: z.number() })).subscription(async function* ({ signal }) {
        const run = track()
        try {
          yield { n: 1 }
          yield { n: 'two' } as unknown as { n: number }
          await sleep(10_000, undefined, { signal })
        } finally {
          run.aborted = signal.aborted
          run.finished = true
        }
      }),
    })
    return { appRouter, runs, feed }
  }

  const errorOf = (subscribe: (onError: (e: ClientRpcError) => void) => void) =>
    within(new Promise<ClientRpcError>((resolve) => subscribe(resolve)), 'the subscription error')

  it('unsubscribe', async () => {
    const { appRouter, runs } = probeServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const sub = api.live.subscribe(undefined, { onData: () => {} })
    await waitUntil(() => runs.length === 1, 'the generator to start')
    sub.unsubscribe()
    await waitUntil(() => runs[0]!.finished, 'finally to run')
    expect(runs[0]!.aborted).toBe(true)
  })

  it('the client disconnects', async () => {
    const { appRouter, runs } = probeServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    api.live.subscribe(undefined, { onData: () => {} })
    await waitUntil(() => runs.length === 1, 'the generator to start')
    await api.$connection.close()
    await waitUntil(() => runs[0]!.finished, 'finally to run')
    expect(runs[0]!.aborted).toBe(true)
  })

  it('the connection drops: the generator ends, and the client resubscribes by itself (onStarted runs again)', async () => {
    const { appRouter, runs, feed } = probeServer()
    const { url } = await startServer({ router: appRouter })
    const net = trackedSockets()
    const api = connectClient<typeof appRouter>(url, { WebSocket: net.WebSocket })
    onTestFinished(() => api.$connection.close()) // before the server closes: no reconnect after the test
    let started = 0
    const got: number[] = []
    const errors: unknown[] = []
    api.live.subscribe(undefined, { onStarted: () => started++, onData: (n) => got.push(n), onError: (e) => errors.push(e) })
    await waitUntil(() => started === 1, 'the first start')
    net.drop()
    await waitUntil(() => runs[0]?.finished === true, 'the first generator to end')
    expect(runs[0]!.aborted).toBe(true)
    await waitUntil(() => started === 2 && feed.subscriberCount === 1, 'the resubscription', 5_000)
    expect(runs).toHaveLength(2)
    feed.publish(7)
    await waitUntil(() => got.length === 1, 'an event on the new connection')
    expect(got).toEqual([7])
    expect(errors).toEqual([])
  })

  it('the server closes: a client that does not reconnect gets CONNECTION_LOST', async () => {
    const { appRouter, runs } = probeServer()
    const { url, server } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url, { reconnect: false })
    const error = errorOf((onError) => api.live.subscribe(undefined, { onError }))
    await waitUntil(() => runs.length === 1, 'the generator to start')
    await server.close()
    expect((await error).code).toBe('CONNECTION_LOST')
    expect(runs[0]).toEqual({ aborted: true, finished: true })
  })

  it('the generator throws: an RpcError keeps its code, anything else is INTERNAL', async () => {
    const { appRouter, runs } = probeServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const conflict = await errorOf((onError) => api.throws.subscribe({ code: 'CONFLICT' }, { onError }))
    const plain = await errorOf((onError) => api.throws.subscribe({ code: 'plain' }, { onError }))
    expect(conflict.code).toBe('CONFLICT')
    expect(plain.code).toBe('INTERNAL')
    expect(plain.message).not.toContain('secret')
    // A generator that throws has run its own finally on the way out; the signal is aborted next.
    expect(runs.map((r) => [r.finished, r.aborted, r.signal?.aborted])).toEqual([
      [true, false, true],
      [true, false, true],
    ])
  })

  it('an event fails the output schema: INTERNAL, and the generator is stopped', async () => {
    const { appRouter, runs } = probeServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const got: number[] = []
    const error = await errorOf((onError) => api.badOutput.subscribe(undefined, { onData: (e) => got.push(e.n), onError }))
    expect(got).toEqual([1])
    expect(error.code).toBe('INTERNAL')
    await waitUntil(() => runs[0]?.finished === true, 'finally to run')
    expect(runs[0]!.aborted).toBe(true)
  })

  it('a generator that ignores its signal stops at its next yield', async () => {
    const { appRouter, runs } = probeServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const got: number[] = []
    const sub = api.deaf.subscribe({ everyMs: 100 }, { onData: (n) => got.push(n) })
    await waitUntil(() => got.length === 1, 'a first event')
    sub.unsubscribe()
    expect(runs[0]!.finished).toBe(false) // still in its sleep
    await waitUntil(() => runs[0]!.finished, 'finally to run at the next yield', 1_000)
    expect(got).toEqual([0]) // the event it yielded on the way out was not sent
  })

  it('(the guide\'s generator that cannot be stopped compiles, and is never run)', () => {
    const _cannotBeStopped = async (queue: { take(): Promise<unknown> }) => {
      const job = await queue.take()
      return job
    }
    expect(_cannotBeStopped).toBeTypeOf('function')
  })
})

// ---------------------------------------------------------------------------
// 3. The client

describe('guide: the client', () => {
  /** The two procedures the guide's client section uses: `messages` (a channel) and `ticks` (a generator). */
  function bothServer() {
    const feed = liveFeedServer()
    const ticker = tickerServer()
    const rpc = initRpc.create()
    const appRouter = rpc.router({ ...feed.appRouter._def.record, ...ticker.appRouter._def.record })
    return { appRouter, messages: feed.messages, runningTickers: ticker.running }
  }

  it('handler form: callbacks, state, lastEventId, signal', async () => {
    const { appRouter, messages } = bothServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const events: string[] = []
    const setStatus = (status: string) => events.push(status)
    const addMessage = (message: { text: string; at: Date }) => events.push(message.text)
    const reloadMessages = () => events.push('reload')
    const savedId: string | undefined = undefined

    const controller = new AbortController()

    const sub = api.messages.subscribe(undefined, {
      onStarted: () => setStatus('live'),
      onData: (message) => addMessage(message),
      onResync: () => reloadMessages(),
      onError: (error) => setStatus(`stopped: ${error.code}`),
      onComplete: () => setStatus('ended by the server'),
      signal: controller.signal, // aborting it unsubscribes, like sub.unsubscribe()
      lastEventId: savedId, // resume after this id; undefined starts from now
    })

    const states: SubscriptionState[] = [sub.state]
    await waitUntil(() => events.includes('live'), 'onStarted')
    states.push(sub.state)
    const startedAt = sub.lastEventId
    expect(startedAt).toBeDefined() // a channel tells its position in `started`
    const id = messages.publish({ text: 'hi', at: new Date() })
    await waitUntil(() => events.includes('hi'), 'onData')
    expect(sub.lastEventId).toBe(id)
    controller.abort()
    states.push(sub.state)
    sub.unsubscribe()
    expect(states).toEqual(['pending', 'started', 'ended'])
    await waitUntil(() => messages.subscriberCount === 0, 'the server to stop the stream')
    messages.publish({ text: 'after', at: new Date() })
    await sleep(50)
    expect(events).toEqual(['live', 'hi']) // no callback after unsubscribing

    // A stale id: onResync, then live events.
    const again = api.messages.subscribe(undefined, { lastEventId: 'from-another-process.7', onResync: () => reloadMessages(), onData: (m) => addMessage(m) })
    await waitUntil(() => events.includes('reload'), 'onResync')
    messages.publish({ text: 'fresh', at: new Date() })
    await waitUntil(() => events.includes('fresh'), 'an event after the resync')
    again.unsubscribe()

    // The server ends the stream: onComplete.
    api.messages.subscribe(undefined, { onComplete: () => setStatus('ended by the server'), onStarted: () => messages.close() })
    await waitUntil(() => events.includes('ended by the server'), 'onComplete')
  })

  it('iterator form: isResync, break unsubscribes, and the types follow the router', async () => {
    const { appRouter, messages } = bothServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const events: string[] = []
    const addMessage = (message: { text: string; at: Date }) => events.push(message.text)
    const reloadMessages = async () => {
      events.push('reload')
    }

    const run = (async () => {
      const feed = api.messages.subscribe()
      for await (const event of feed) {
        if (isResync(event)) {
          await reloadMessages()
          continue
        }
        addMessage(event)
        if (event.text === '/quit') break // leaves the loop and unsubscribes
      }
    })()
    await waitUntil(() => messages.subscriberCount === 1, 'the loop to subscribe')
    for (let n = 0; n <= 1_000; n++) messages.publish({ text: `burst ${n}`, at: new Date() }) // more than maxLag at once
    await waitUntil(() => events.includes('reload'), 'the resync')
    messages.publish({ text: 'hello', at: new Date() })
    messages.publish({ text: '/quit', at: new Date() })
    messages.publish({ text: 'never seen', at: new Date() })
    await within(run, 'the loop to end')
    expect(events).toEqual(['reload', 'hello', '/quit'])
    await waitUntil(() => messages.subscriberCount === 0, 'break to unsubscribe')

    const ticks = api.ticks.subscribe({ everyMs: 1_000 })
    expectTypeOf<typeof ticks extends AsyncIterable<infer E> ? E : never>().toEqualTypeOf<{ n: number; at: Date }>()
    ticks.unsubscribe()
  })

  it('iterator form: unsubscribe() and an aborted signal end a waiting loop', async () => {
    const { appRouter, messages } = bothServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const drain = async (feed: AsyncIterable<unknown>) => {
      for await (const _ of feed);
      return 'ended'
    }

    const controller = new AbortController()
    const viaSignal = drain(api.messages.subscribe(undefined, { signal: controller.signal }))
    const feed = api.messages.subscribe()
    const viaUnsubscribe = drain(feed)
    await waitUntil(() => messages.subscriberCount === 2, 'both loops to subscribe')
    controller.abort()
    feed.unsubscribe()
    expect(await within(Promise.all([viaSignal, viaUnsubscribe]), 'both loops to end')).toEqual(['ended', 'ended'])
    await waitUntil(() => messages.subscriberCount === 0, 'the server to stop both streams')
  })

  it('iterator form: a loop more than 1,000 events behind ends with OVERLOADED', async () => {
    const rpc = initRpc.create()
    let finished = false
    const appRouter = rpc.router({
      flood: rpc.procedure.subscription(async function* () {
        try {
          for (let n = 0; n < 5_000; n++) yield n
        } finally {
          finished = true
        }
      }),
    })
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    let received = 0
    const outcome = (async () => {
      try {
        const flood = api.flood.subscribe()
        for await (const _ of flood) {
          // A slow loop body: busy with the first event until the buffer has overflowed.
          if (received++ === 0) await waitUntil(() => flood.state === 'ended', 'the buffer to overflow')
        }
        return 'completed'
      } catch (error) {
        return (error as ClientRpcError).code
      }
    })()
    expect(await within(outcome, 'the loop to end')).toBe('OVERLOADED')
    expect(received).toBe(1_001) // the one it was busy with, then the 1,000 buffered
    await waitUntil(() => finished, 'the server to stop the generator')
  })

  it('compile errors for the wrong method or the wrong types', () => {
    const { appRouter } = bothServer()
    type Api = ReturnType<typeof connectClient<typeof appRouter>>
    // Never called: the checks are the compiler's (`pnpm typecheck`).
    const _check = (api: Api) => {
      // @ts-expect-error send is a mutation: it has mutate(), not subscribe()
      api.send.subscribe({ text: 'hi' }) // error: send is a mutation
      // @ts-expect-error a subscription has subscribe() only
      api.messages.query() // error: messages is a subscription
      // @ts-expect-error everyMs is a number
      api.ticks.subscribe({ everyMs: '1s' }) // error: everyMs is a number
      // @ts-expect-error the events are { text: string; at: Date }
      api.messages.subscribe(undefined, { onData: (message: string) => message }) // error: events are { text: string; at: Date }
    }
    expect(_check).toBeTypeOf('function')
  })
})

// ---------------------------------------------------------------------------
// 4. Channels

describe('guide: channels', () => {
  it('publish returns the id; replay, then live, with no gap and no duplicate', async () => {
    const prices = createChannel<{ symbol: string; price: number }>({
      history: 500, // a resuming client can replay up to 500 missed events
      maxLag: 2_000, // a live subscriber further behind than this gets a resync
    })

    const id = prices.publish({ symbol: 'ACME', price: 12.5 }) // the new event's id
    expect(prices.lastEventId).toBe(id)
    prices.publish({ symbol: 'ACME', price: 12.75 })
    prices.publish({ symbol: 'ACME', price: 13 })

    const logged: unknown[][] = []
    const console = { log: (...args: unknown[]) => logged.push(args) }
    const reloadPrices = () => logged.push(['reload'])
    const controller = new AbortController()
    const signal = controller.signal
    const loop = (async () => {
      for await (const event of prices.subscribe({ lastEventId: id, signal })) {
        if (isResync(event)) reloadPrices()
        else console.log(event.id, event.data.price)
        // Publishing while the replay is under way: it follows the replay, once.
        if (logged.length === 1) prices.publish({ symbol: 'ACME', price: 14 })
      }
    })()
    await waitUntil(() => logged.length === 3, 'the replay and the live event')
    expect(prices.subscriberCount).toBe(1)
    controller.abort()
    await within(loop, 'the loop to end on abort')
    expect(prices.subscriberCount).toBe(0)
    expect(logged.map((l) => l[1])).toEqual([12.75, 13, 14])
  })

  it('resync when the history does not reach back, or for a subscriber too far behind', async () => {
    const channel = createChannel<number>({ history: 2, maxLag: 5 })
    const first = channel.publish(1)
    for (let n = 2; n <= 4; n++) channel.publish(n)
    const seen: unknown[] = []
    const controller = new AbortController()
    const iterator = channel.subscribe({ lastEventId: first, signal: controller.signal })[Symbol.asyncIterator]()
    const take = async () => {
      const next = await iterator.next()
      seen.push(next.done === true ? 'done' : isResync(next.value) ? 'resync' : next.value.data)
    }
    await take() // 2 and 3 fell out of a history of 2
    channel.publish(5)
    await take()
    for (let n = 6; n <= 20; n++) channel.publish(n) // 15 events behind, maxLag is 5
    await take()
    channel.publish(21)
    await take()
    controller.abort()
    await take()
    expect(seen).toEqual(['resync', 5, 'resync', 21, 'done'])
  })

  it('epoch: ids of another channel or process resync; a constant epoch reuses ids after a restart', async () => {
    const before = createChannel<string>({ history: 100 })
    const oldId = before.publish('a')
    const after = createChannel<string>({ history: 100 })
    after.publish('b')
    const first = async (iterable: AsyncIterable<unknown>) => {
      for await (const event of iterable) return event
      return undefined
    }
    expect(isResync(await first(after.subscribe({ lastEventId: oldId })))).toBe(true)

    // The hazard the guide warns about: same epoch, new process, counting from 1 again.
    const lastRun = createChannel<string>({ history: 100, epoch: 'orders' })
    for (const text of ['old 1', 'old 2', 'old 3']) lastRun.publish(text)
    const thisRun = createChannel<string>({ history: 100, epoch: 'orders' })
    for (const text of ['new 1', 'new 2', 'new 3']) thisRun.publish(text)
    const event = await first(thisRun.subscribe({ lastEventId: 'orders.2' }))
    expect(event).toMatchObject({ id: 'orders.3', data: 'new 3' }) // not a resync
  })

  it('close() ends every subscriber: clients get onComplete', async () => {
    const { appRouter, messages } = liveFeedServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const completed = new Promise<void>((resolve) => api.messages.subscribe(undefined, { onComplete: resolve }))
    await waitUntil(() => messages.subscriberCount === 1, 'the subscription')
    messages.close()
    await within(completed, 'onComplete')
  })
})

// ---------------------------------------------------------------------------
// 5a. Recipe: resume a feed after a page reload

function newsServer() {
  const rpc = initRpc.create()
  const news = createChannel<{ title: string }>({ history: 1_000 })

  const publishHeadline = (title: string) => news.publish({ title })

  const appRouter = rpc.router({
    news: rpc.procedure.subscription(({ lastEventId, signal }) => news.subscribe({ lastEventId, signal })),
  })
  return { appRouter, news, publishHeadline }
}

type NewsRouter = ReturnType<typeof newsServer>['appRouter']

/** What outlives a reload in a browser tab: its `sessionStorage`. */
function browserTab() {
  const stored = new Map<string, string>()
  const sessionStorage = {
    getItem: (key: string): string | null => stored.get(key) ?? null,
    setItem: (key: string, value: string): void => void stored.set(key, value),
  }
  return { stored, sessionStorage }
}

/**
 * One page of the tab: a client running the recipe's code, with the page's
 * own `addEventListener` (the recipe only uses 'pagehide'). `leave()` is what
 * a reload does: pagehide, then the page and its socket are gone.
 */
function openPage(url: string, sessionStorage: ReturnType<typeof browserTab>['sessionStorage'], options: Partial<RpcClientOptions> = {}) {
  const api = connectClient<NewsRouter>(url, options)
  const shown: string[] = []
  const showHeadline = (title: string) => shown.push(title)
  const reloadHeadlines = () => shown.push('reload')
  const onPageHide: (() => void)[] = []
  const addEventListener = (_type: 'pagehide', listener: () => void) => void onPageHide.push(listener)

  const sub = api.news.subscribe(undefined, {
    lastEventId: sessionStorage.getItem('news.lastEventId') ?? undefined, // where the previous page stopped
    onData: (item) => showHeadline(item.title),
    onResync: () => reloadHeadlines(), // the history does not reach back that far
  })

  addEventListener('pagehide', () => {
    if (sub.lastEventId !== undefined) sessionStorage.setItem('news.lastEventId', sub.lastEventId)
  })

  const leave = async () => {
    for (const listener of onPageHide) listener()
    await api.$connection.close()
  }
  return { api, sub, shown, leave }
}

describe('recipe: resume a feed after a page reload', () => {
  it('the next page receives exactly the headlines published in between, then live ones', async () => {
    const { appRouter, news, publishHeadline } = newsServer()
    const { url } = await startServer({ router: appRouter })
    const { stored, sessionStorage } = browserTab()

    const first = openPage(url, sessionStorage)
    await waitUntil(() => news.subscriberCount === 1, 'the first page to subscribe')
    const [h1] = ['h1'].map(publishHeadline)
    await waitUntil(() => first.shown.length === 1, 'the first headline')
    await first.leave()
    expect(stored.get('news.lastEventId')).toBe(h1)
    await waitUntil(() => news.subscriberCount === 0, 'the server to see the page go')
    publishHeadline('h2') // published while no page is open
    publishHeadline('h3')

    const second = openPage(url, sessionStorage)
    await waitUntil(() => second.shown.length === 2, 'the missed headlines')
    publishHeadline('h4')
    await waitUntil(() => second.shown.length === 3, 'a live headline')
    expect(first.shown).toEqual(['h1'])
    expect(second.shown).toEqual(['h2', 'h3', 'h4'])
  })

  it('resumes without a gap even when the previous page never received a headline', async () => {
    const { appRouter, news, publishHeadline } = newsServer()
    const { url } = await startServer({ router: appRouter })
    const { stored, sessionStorage } = browserTab()

    const first = openPage(url, sessionStorage)
    await waitUntil(() => first.sub.state === 'started', 'the first page to start')
    await first.leave()
    expect(stored.get('news.lastEventId')).toBeDefined() // the stream's starting position
    await waitUntil(() => news.subscriberCount === 0, 'the server to see the page go')
    publishHeadline('while away')

    const second = openPage(url, sessionStorage)
    await waitUntil(() => second.shown.length === 1, 'the headline published in between')
    expect(second.shown).toEqual(['while away'])
  })

  it('resyncs when the history no longer reaches back', async () => {
    const { appRouter, news, publishHeadline } = newsServer()
    const { url } = await startServer({ router: appRouter })
    const { sessionStorage } = browserTab()

    const first = openPage(url, sessionStorage)
    await waitUntil(() => news.subscriberCount === 1, 'the first page to subscribe')
    publishHeadline('h1')
    await waitUntil(() => first.shown.length === 1, 'the first headline')
    await first.leave()
    await waitUntil(() => news.subscriberCount === 0, 'the server to see the page go')
    for (let n = 0; n < 1_001; n++) publishHeadline(`missed ${n}`)

    const second = openPage(url, sessionStorage)
    await waitUntil(() => news.subscriberCount === 1, 'the second page to subscribe')
    publishHeadline('h2')
    await waitUntil(() => second.shown.includes('h2'), 'a live headline after the resync')
    expect(second.shown).toEqual(['reload', 'h2'])
  })

  it('a dropped connection needs none of this: the client resumes from sub.lastEventId by itself', async () => {
    const { appRouter, news, publishHeadline } = newsServer()
    const { url } = await startServer({ router: appRouter })
    const net = trackedSockets()
    const { stored, sessionStorage } = browserTab()
    const page = openPage(url, sessionStorage, { WebSocket: net.WebSocket })
    onTestFinished(() => page.api.$connection.close()) // before the server closes: no reconnect after the test
    await waitUntil(() => news.subscriberCount === 1, 'the feed to start')
    const ids = ['h1', 'h2', 'h3'].map(publishHeadline)
    await waitUntil(() => page.shown.length === 3, 'the first headlines')

    net.drop()
    await waitUntil(() => news.subscriberCount === 0, 'the server to see the drop')
    publishHeadline('h4') // published while the client is away
    publishHeadline('h5')
    await waitUntil(() => page.shown.length === 5, 'the missed headlines', 5_000)
    expect(net.sockets).toHaveLength(2)
    expect(net.sent.filter((frame) => frame.includes('"subscribe"')).at(-1)).toContain(`"lastEventId":"${ids[2]}"`)
    publishHeadline('h6')
    await waitUntil(() => page.shown.length === 6, 'a live headline after the resume')
    expect(page.shown).toEqual(['h1', 'h2', 'h3', 'h4', 'h5', 'h6'])
    expect(stored.size).toBe(0) // nothing was saved: the page was never left
  })

  it('resumes by itself without a gap even when the drop came before the first headline', async () => {
    const { appRouter, publishHeadline } = newsServer()
    const { url } = await startServer({ router: appRouter })
    const net = trackedSockets()
    const page = openPage(url, browserTab().sessionStorage, { WebSocket: net.WebSocket })
    onTestFinished(() => page.api.$connection.close())
    await waitUntil(() => page.sub.state === 'started', 'the feed to start')
    // Published the moment the client knows its socket is gone, before it can reconnect: full jitter may
    // reconnect within a millisecond, so waiting to see the server's count at 0 raced with the resume.
    const stop = page.api.$connection.on('state', (state) => {
      if (state !== 'reconnecting') return
      stop()
      publishHeadline('while away')
    })
    net.drop()
    await waitUntil(() => page.shown.length === 1, 'the headline published during the drop', 5_000)
    expect(page.shown).toEqual(['while away'])
  })

  it('resyncs by itself after a drop when the history no longer reaches back', async () => {
    const { appRouter, news, publishHeadline } = newsServer()
    const { url } = await startServer({ router: appRouter })
    const net = trackedSockets()
    const page = openPage(url, browserTab().sessionStorage, { WebSocket: net.WebSocket })
    onTestFinished(() => page.api.$connection.close())
    await waitUntil(() => news.subscriberCount === 1, 'the feed to start')
    publishHeadline('h1')
    await waitUntil(() => page.shown.length === 1, 'the first headline')
    // Published the moment the client knows its socket is gone, before it can reconnect (see above).
    const stop = page.api.$connection.on('state', (state) => {
      if (state !== 'reconnecting') return
      stop()
      for (let n = 0; n < 1_001; n++) publishHeadline(`missed ${n}`)
    })
    net.drop()
    await waitUntil(() => page.shown.includes('reload'), 'the resume', 5_000)
    publishHeadline('h2')
    await waitUntil(() => page.shown.includes('h2'), 'a live headline after the resync')
    expect(page.shown).toEqual(['h1', 'reload', 'h2'])
  })
})

// ---------------------------------------------------------------------------
// 5b. Recipe: rooms

function roomsServer() {
  const rpc = initRpc.create()
  const chat = createChannel<{ text: string; at: Date }>({ history: 50 })
  const openRooms = new Set(['general'])

  function room(name: string) {
    if (!openRooms.has(name)) throw new RpcError('NOT_FOUND', `no room "${name}"`)
    return chat.topic(name)
  }

  const RoomInput = z.object({ room: z.string().min(1).max(64) })

  const appRouter = rpc.router({
    room: {
      open: rpc.procedure.input(RoomInput).mutation(({ input }) => {
        openRooms.add(input.room)
      }),
      send: rpc.procedure
        .input(RoomInput.extend({ text: z.string().min(1).max(500) }))
        .mutation(({ input }) => room(input.room).publish({ text: input.text, at: new Date() })),
      messages: rpc.procedure
        .input(RoomInput)
        .subscription(({ input, lastEventId, signal }) => room(input.room).subscribe({ lastEventId, signal })),
      close: rpc.procedure.input(RoomInput).mutation(({ input }) => {
        openRooms.delete(input.room)
        chat.deleteTopic(input.room) // its subscribers complete, its history is gone
      }),
    },
  })
  return { appRouter, chat }
}

describe('recipe: rooms', () => {
  it('keeps rooms apart, refuses unknown rooms, and ends subscribers when a room closes', async () => {
    const { appRouter, chat } = roomsServer()
    const { url } = await startServer({ router: appRouter })
    const ada = connectClient<typeof appRouter>(url)
    const bob = connectClient<typeof appRouter>(url)
    const shown: string[] = []
    const started = (n: number) => waitUntil(() => chat.topic('general').subscriberCount + chat.topic('random').subscriberCount === n, `${n} subscribers`)

    await bob.room.open.mutate({ room: 'random' })
    {
      const api = ada
      const show = (text: string) => shown.push(`ada: ${text}`)
      api.room.messages.subscribe({ room: 'general' }, {
        onData: (message) => show(message.text),
        onComplete: () => show('(the room was closed)'),
        onError: (error) => show(`(cannot join: ${error.code})`),
      })
    }
    bob.room.messages.subscribe({ room: 'random' }, { onData: (m) => shown.push(`bob: ${m.text}`), onComplete: () => shown.push('bob: (the room was closed)') })
    await started(2)

    await ada.room.send.mutate({ room: 'general', text: 'hi all' })
    await bob.room.send.mutate({ room: 'random', text: 'anyone?' })
    await waitUntil(() => shown.length === 2, 'one message in each room')
    expect(shown.sort()).toEqual(['ada: hi all', 'bob: anyone?'])

    const refused = await within(
      new Promise<ClientRpcError>((resolve) => ada.room.messages.subscribe({ room: 'nope' }, { onError: resolve })),
      'NOT_FOUND',
    )
    expect(refused.code).toBe('NOT_FOUND')

    await ada.room.close.mutate({ room: 'random' })
    await waitUntil(() => shown.includes('bob: (the room was closed)'), "bob's onComplete")
    expect(shown.filter((line) => line.startsWith('ada: ('))).toEqual([])
    const sendToClosed = ada.room.send.mutate({ room: 'random', text: 'hello?' })
    await expect(sendToClosed).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })
})

// ---------------------------------------------------------------------------
// 5c. Recipe: a presence list

type PresenceEvent =
  | { type: 'snapshot'; users: string[] }
  | { type: 'join'; user: string }
  | { type: 'leave'; user: string }

function presenceServer() {
  const rpc = initRpc.context<{ user: string }>().create()
  const online = new Map<string, number>() // user -> open presence subscriptions (one per tab)
  const presenceChanges = createChannel<PresenceEvent>()

  function enter(user: string): void {
    const tabs = online.get(user) ?? 0
    online.set(user, tabs + 1)
    if (tabs === 0) presenceChanges.publish({ type: 'join', user })
  }

  function leave(user: string): void {
    const tabs = (online.get(user) ?? 1) - 1
    if (tabs > 0) return void online.set(user, tabs)
    online.delete(user)
    presenceChanges.publish({ type: 'leave', user })
  }

  const snapshot = (): PresenceEvent => ({ type: 'snapshot', users: [...online.keys()] })

  const appRouter = rpc.router({
    presence: rpc.procedure.subscription(async function* ({ ctx, signal }) {
      enter(ctx.user)
      // Take a place in the stream before sending the list, so that no change falls in between.
      const changes = presenceChanges.subscribe({ signal })
      try {
        yield snapshot()
        for await (const change of changes) yield isResync(change) ? snapshot() : change.data
      } finally {
        leave(ctx.user) // unsubscribe, disconnect, server close: all count as leaving
      }
    }),
  })

  return { appRouter, online, presenceChanges }
}

describe('recipe: a presence list', () => {
  const serve = (appRouter: ReturnType<typeof presenceServer>['appRouter']) =>
    startServer({
      router: appRouter,
      createContext: ({ connectionParams }) => {
        const name = (connectionParams as { name?: unknown } | undefined)?.name
        if (typeof name !== 'string' || name === '') throw new RpcError('UNAUTHORIZED', 'say who you are')
        return { user: name }
      },
    })

  it('shows a snapshot, then joins and leaves; a disconnect counts as leaving', async () => {
    const { appRouter, online, presenceChanges } = presenceServer()
    const { url } = await serve(appRouter)
    const views = new Map<string, string[][]>()

    function watch(name: string) {
      const api = connectClient<typeof appRouter>(url, { connectionParams: { name } })
      const rendered: string[][] = []
      views.set(name, rendered)
      const renderPresence = (users: string[]) => rendered.push([...users].sort())
      const whoIsOnline = new Set<string>()

      const sub = api.presence.subscribe(undefined, {
        onData: (event) => {
          if (event.type === 'snapshot') {
            whoIsOnline.clear()
            for (const user of event.users) whoIsOnline.add(user)
          } else if (event.type === 'join') whoIsOnline.add(event.user)
          else whoIsOnline.delete(event.user)
          renderPresence([...whoIsOnline])
        },
      })
      return { api, sub, now: () => rendered.at(-1) }
    }

    const ada = watch('ada')
    await waitUntil(() => ada.now()?.join() === 'ada', 'ada to see herself')
    const bob = watch('bob')
    await waitUntil(() => bob.now()?.join() === 'ada,bob', "bob's snapshot")
    await waitUntil(() => ada.now()?.join() === 'ada,bob', 'ada to see bob join')

    // A second tab of bob's, then closing it: bob stays online.
    const bobTab = watch('bob')
    await waitUntil(() => bobTab.now()?.join() === 'ada,bob', "the tab's snapshot")
    bobTab.sub.unsubscribe()
    await waitUntil(() => online.get('bob') === 1, 'the tab to leave')
    expect(ada.now()).toEqual(['ada', 'bob'])

    // bob's connection goes away: his finally runs, ada sees him leave.
    await bob.api.$connection.close()
    await waitUntil(() => ada.now()?.join() === 'ada', 'ada to see bob leave')
    expect(views.get('ada')).toEqual([['ada'], ['ada', 'bob'], ['ada']])

    ada.sub.unsubscribe()
    await waitUntil(() => online.size === 0 && presenceChanges.subscriberCount === 0, 'everyone to leave')
  })

  it('refuses a connection without a name', async () => {
    const { appRouter } = presenceServer()
    const { url } = await serve(appRouter)
    const api = connectClient<typeof appRouter>(url)
    const error = await within(new Promise<ClientRpcError>((resolve) => api.presence.subscribe(undefined, { onError: resolve })), 'UNAUTHORIZED')
    expect(error.code).toBe('UNAUTHORIZED')
  })
})

// ---------------------------------------------------------------------------
// 5d. Recipe: events from an EventEmitter, an EventTarget, a callback

type Order = { id: string; total: number }
type JobUpdate = { jobId: string; state: 'queued' | 'running' | 'done' }
type Quote = { symbol: string; price: number }

/** A stand-in for a quote feed with a callback API: `watch` returns the function that stops watching. */
function fakeQuoteFeed() {
  const watchers = new Set<(quote: Quote) => void>()
  return {
    watchers,
    watch(symbol: string, onQuote: (quote: Quote) => void): () => void {
      const watcher = (quote: Quote) => {
        if (quote.symbol === symbol) onQuote(quote)
      }
      watchers.add(watcher)
      return () => watchers.delete(watcher)
    },
    emit(quote: Quote) {
      for (const watcher of watchers) watcher(quote)
    },
  }
}

function adaptersServer() {
  const quotes = fakeQuoteFeed()
  const rpc = initRpc.create()
  const orders = new EventEmitter() // elsewhere in the app: orders.emit('created', order)
  const jobs = new BroadcastChannel('jobs') // worker threads post JobUpdates here
  onTestFinished(() => jobs.close())

  const appRouter = rpc.router({
    orderCreated: rpc.procedure.subscription(({ signal }) => fromEmitter<Order>(orders, 'created', { signal, maxBuffer: 100 })),

    orderAudit: rpc.procedure.subscription(({ signal }) =>
      fromEmitter<Order>(orders, 'created', { signal, maxBuffer: 100, overflow: 'error' }),
    ),

    jobUpdates: rpc.procedure.subscription(async function* ({ signal }) {
      for await (const event of fromEventTarget<MessageEvent<JobUpdate>>(jobs, 'message', { signal })) {
        yield isResync(event) ? event : event.data
      }
    }),

    quotes: rpc.procedure
      .input(z.object({ symbol: z.string() }))
      .subscription(({ input, signal }) => fromCallback<Quote>((sink) => quotes.watch(input.symbol, sink.push), { signal })),
  })
  return { appRouter, orders, quotes }
}

describe('recipe: events from an EventEmitter, an EventTarget or a callback', () => {
  it('fromEmitter: events arrive, and the listener is removed afterwards', async () => {
    const { appRouter, orders } = adaptersServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const got: Order[] = []
    const sub = api.orderCreated.subscribe(undefined, { onData: (order) => got.push(order) })
    await waitUntil(() => orders.listenerCount('created') === 1, 'the listener')
    orders.emit('created', { id: 'o1', total: 10 })
    orders.emit('created', { id: 'o2', total: 25 })
    await waitUntil(() => got.length === 2, 'two orders')
    expect(got).toEqual([
      { id: 'o1', total: 10 },
      { id: 'o2', total: 25 },
    ])
    sub.unsubscribe()
    await waitUntil(() => orders.listenerCount('created') === 0, 'the listener to be removed')
  })

  it("'drop-oldest' keeps the newest maxBuffer events and sends a resync; 'error' ends with OVERLOADED", async () => {
    const { appRouter, orders } = adaptersServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const dropped: (string | number)[] = []
    api.orderCreated.subscribe(undefined, { onData: (o) => dropped.push(o.total), onResync: () => dropped.push('resync') })
    const audited: number[] = []
    const auditError = new Promise<ClientRpcError>((resolve) =>
      api.orderAudit.subscribe(undefined, { onData: (o) => audited.push(o.total), onError: resolve }),
    )
    await waitUntil(() => orders.listenerCount('created') === 2, 'both listeners')
    // A burst: 250 orders in one tick, faster than the server can send them.
    for (let n = 1; n <= 250; n++) orders.emit('created', { id: `o${n}`, total: n })

    await waitUntil(() => dropped.at(-1) === 250, 'the newest orders')
    const newest = Array.from({ length: 100 }, (_, i) => 151 + i)
    expect(dropped).toEqual([1, 'resync', ...newest]) // the first went out at once; 2..150 were dropped
    expect((await within(auditError, 'OVERLOADED')).code).toBe('OVERLOADED')
    expect(audited).toEqual(Array.from({ length: 101 }, (_, i) => 1 + i)) // what was buffered, then the error
    await waitUntil(() => orders.listenerCount('created') === 1, "the audit's listener to be removed")
  })

  it('fromEventTarget: a BroadcastChannel, mapped in a generator', async () => {
    const { appRouter } = adaptersServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const worker = new BroadcastChannel('jobs')
    onTestFinished(() => worker.close())
    const got: (JobUpdate | 'resync')[] = []
    const sub = api.jobUpdates.subscribe(undefined, { onData: (update) => got.push(update) })
    await waitUntil(() => sub.state === 'started', 'the subscription to start')
    await sleep(20) // the generator adds its listener right after `started`
    worker.postMessage({ jobId: 'j1', state: 'running' })
    await waitUntil(() => got.length === 1, 'a job update')
    expect(got).toEqual([{ jobId: 'j1', state: 'running' }])
    sub.unsubscribe()
  })

  it('fromCallback: the stop function runs when the subscription ends', async () => {
    const { appRouter, quotes } = adaptersServer()
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const got: number[] = []
    const sub = api.quotes.subscribe({ symbol: 'ACME' }, { onData: (quote) => got.push(quote.price) })
    await waitUntil(() => quotes.watchers.size === 1, 'the watcher')
    quotes.emit({ symbol: 'OTHER', price: 1 })
    quotes.emit({ symbol: 'ACME', price: 12.5 })
    await waitUntil(() => got.length === 1, 'a quote')
    expect(got).toEqual([12.5])
    sub.unsubscribe()
    await waitUntil(() => quotes.watchers.size === 0, 'the watcher to stop')
  })
})

// ---------------------------------------------------------------------------
// 5e. Recipe: reload state on resync

type ScoreChange = { version: number; team: string; score: number }

function boardServer() {
  const rpc = initRpc.create()
  const board = { version: 0, scores: {} as Record<string, number> }
  const boardChanges = createChannel<ScoreChange>({ history: 100, maxLag: 100 })

  function setScore(team: string, score: number): void {
    board.version++
    board.scores[team] = score
    boardChanges.publish({ version: board.version, team, score })
  }

  const appRouter = rpc.router({
    board: {
      get: rpc.procedure.query(() => ({ version: board.version, scores: { ...board.scores } })),
      set: rpc.procedure
        .input(z.object({ team: z.string(), score: z.number().int() }))
        .mutation(({ input }) => setScore(input.team, input.score)),
      changes: rpc.procedure.subscription(({ lastEventId, signal }) => boardChanges.subscribe({ lastEventId, signal })),
    },
  })
  return { appRouter, board, setScore }
}

type BoardRouter = ReturnType<typeof boardServer>['appRouter']

/**
 * The recipe's client code, line for line, on `api`: what it renders, how
 * many snapshots it asked for (each `board.get` sent), and the errors it
 * showed.
 */
function boardPage(api: RpcClient<BoardRouter>, net: ReturnType<typeof trackedSockets>) {
  const snapshots = () => net.sent.filter((frame) => frame.includes('"path":"board.get"')).length
  const rendered: { version: number; scores: Record<string, number> }[] = []
  const render = (view: { version: number; scores: Record<string, number> }) => rendered.push(view)
  const errors: unknown[] = []
  const showError = (error: unknown) => errors.push(error)

  let view: { version: number; scores: Record<string, number> } | undefined // undefined while loading
  const early: ScoreChange[] = [] // changes that arrive while a snapshot loads

  function apply(change: ScoreChange): void {
    if (view === undefined) return void early.push(change)
    if (change.version <= view.version) return // the snapshot has it already
    view = { version: change.version, scores: { ...view.scores, [change.team]: change.score } }
    render(view)
  }

  async function reload(): Promise<void> {
    view = undefined
    const snapshot = await api.board.get.query()
    view = snapshot
    render(view)
    for (const change of early.splice(0)) apply(change)
  }

  let reloadQueued = false

  function reloadSoon(): void {
    if (reloadQueued) return // a start that could not resume comes with its resync: one reload for both
    reloadQueued = true
    queueMicrotask(() => {
      reloadQueued = false
      reload().catch(showError)
    })
  }

  api.board.changes.subscribe(undefined, {
    onStarted: ({ resumed }) => {
      if (!resumed) reloadSoon() // the first start, or a restart that lost the thread
    },
    onData: (change) => apply(change),
    onResync: () => reloadSoon(), // changes were missed: start again from a snapshot
  })

  return { snapshots, rendered, errors, view: () => view }
}

describe('recipe: reload state on resync', () => {
  it('loads once on start, reloads once on a resync, and keeps applying changes', async () => {
    const { appRouter, board, setScore } = boardServer()
    const { url } = await startServer({ router: appRouter })
    const net = trackedSockets()
    const api = connectClient<typeof appRouter>(url, { WebSocket: net.WebSocket })
    await api.board.set.mutate({ team: 'red', score: 1 })
    const page = boardPage(api, net)
    const { snapshots, rendered, errors } = page
    const view = () => page.view()

    await waitUntil(() => view()?.scores.red === 1, 'the first snapshot')
    await api.board.set.mutate({ team: 'blue', score: 2 })
    await waitUntil(() => view()?.scores.blue === 2, 'a change applied')
    expect(snapshots()).toBe(1)

    // 150 changes in one burst: more than maxLag, so the subscriber is told to resync.
    for (let n = 1; n <= 150; n++) setScore('red', n)
    await waitUntil(() => view()?.version === board.version, 'the reloaded snapshot')
    expect(snapshots()).toBe(2)
    expect(view()).toEqual({ version: board.version, scores: { red: 150, blue: 2 } })

    await api.board.set.mutate({ team: 'green', score: 3 })
    await waitUntil(() => view()?.scores.green === 3, 'changes applied after the reload')
    expect(snapshots()).toBe(2)
    expect(errors).toEqual([])
    expect(rendered.at(-1)).toEqual(board)
  })

  it('does not reload after a reconnect that resumed, and reloads once after a restart whose channel lost the history', async () => {
    const first = boardServer()
    const a = await startServer({ router: first.appRouter })
    const proxy = await startFaultProxy(a.port)
    const net = trackedSockets()
    const api = connectClient<BoardRouter>(proxy.url('/rpc'), { WebSocket: net.WebSocket, reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
    first.setScore('red', 1)
    const page = boardPage(api, net)
    await waitUntil(() => page.view()?.scores.red === 1, 'the first snapshot')
    expect(page.snapshots()).toBe(1)

    // The network drops; a change is published while the client is away; it comes back and resumes.
    const resubscribed = new Promise((resolve) => api.$connection.on('resubscribe', resolve))
    proxy.refuse(true) // the server stays out of reach until the change below is published
    proxy.cut()
    await waitUntil(() => api.$connection.state !== 'open', 'the drop to be seen')
    first.setScore('blue', 2)
    proxy.refuse(false)
    await within(resubscribed, 'the resubscription', 5_000)
    await waitUntil(() => page.view()?.scores.blue === 2, 'the missed change, replayed')
    await sleep(50)
    expect(page.snapshots()).toBe(1)
    expect(page.view()).toEqual(first.board)

    // A restart: a new process, whose channel has none of the old ids.
    const second = boardServer()
    second.setScore('green', 7)
    const b = await startServer({ router: second.appRouter })
    proxy.setTarget(b.port)
    proxy.cut()
    await waitUntil(() => page.view()?.scores.green === 7, 'the new process\'s snapshot', 5_000)
    await sleep(50)
    expect(page.snapshots()).toBe(2)
    expect(page.view()).toEqual(second.board)
    second.setScore('green', 8)
    await waitUntil(() => page.view()?.scores.green === 8, 'changes applied after the reload')
    expect(page.snapshots()).toBe(2)
    expect(page.errors).toEqual([])
  })
})

// ---------------------------------------------------------------------------
// 6. The protocol transcript

describe('guide: the protocol transcript', () => {
  it('matches what the server sends', async () => {
    const { appRouter, messages } = liveFeedServer()
    const { url } = await startServer({ router: appRouter })
    for (let n = 1; n <= 41; n++) messages.publish({ text: `msg ${n}`, at: new Date() })
    const epoch = messages.lastEventId!.slice(0, -'.41'.length)
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path: 'messages', lastEventId: 'p7d2m0zq.12' }) // an id from before a restart
    await peer.next((m) => m.type === 'resync')
    messages.publish({ text: 'hi', at: new Date(Date.UTC(2025, 0, 1, 9, 30)) })
    await peer.next((m) => m.type === 'data')
    peer.send({ type: 'unsubscribe', id: 1 })
    await waitUntil(() => messages.subscriberCount === 0, 'the unsubscribe')
    messages.publish({ text: 'not sent', at: new Date() })
    await sleep(50)
    expect(peer.messages.slice(1)).toEqual([
      { type: 'started', id: 1, eventId: `${epoch}.41` },
      { type: 'resync', id: 1, reason: 'unknown-id' },
      {
        type: 'data',
        id: 1,
        eventId: `${epoch}.42`,
        data: { text: 'hi', at: '2025-01-01T09:30:00.000Z' },
        meta: { values: { at: ['Date'] }, v: 1 },
      },
    ])
  })
})

// ---------------------------------------------------------------------------
// The guide and this file stay in step

describe('docs/subscriptions.md', () => {
  /** Lines of the guide that stand for the harness here, or only say what a value is. */
  const notRunHere = [
    /\bcreateRpcClient</, // connectClient(url) in the tests
    /\bcreateRpcServer\(/, // startServer(options)
    /\.listen\(/,
    /^type AppRouter = typeof appRouter$/,
  ]

  it('every line of every TypeScript snippet runs in this file', () => {
    const { snippets, missing } = snippetLinesNotRun('docs/subscriptions.md', ['subscription-recipes.test.ts'], notRunHere)
    expect(snippets).toBeGreaterThan(10)
    expect(missing).toEqual([])
  })
})

describe('recipe: an observable through fromCallback', () => {
  /** The smallest observable: what RxJS and friends look like from outside. */
  function interval(count: number) {
    return {
      subscribe(observer: { next: (n: number) => void; error: (e: unknown) => void; complete: () => void }) {
        let n = 0
        const timer = setInterval(() => {
          observer.next(++n)
          if (n === count) {
            clearInterval(timer)
            observer.complete()
          }
        }, 2)
        return { unsubscribe: () => clearInterval(timer) }
      },
    }
  }

  it('streams the observable, completes with it, and unsubscribes from it when the client leaves', async () => {
    let unsubscribed = 0
    const rpc = initRpc.create()
    const appRouter = rpc.router({
      numbers: rpc.procedure.input(z.object({ count: z.number() })).subscription(({ input, signal }) => {
        const source$ = interval(input.count)
        return fromCallback<number>((sink) => {
          const s = source$.subscribe({ next: sink.push, error: sink.fail, complete: sink.end })
          return () => (s.unsubscribe(), unsubscribed++)
        }, { signal })
      }),
    })
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const got: number[] = []
    for await (const n of api.numbers.subscribe({ count: 5 })) if (!isResync(n)) got.push(n)
    expect(got).toEqual([1, 2, 3, 4, 5])
    await waitUntil(() => unsubscribed === 1, 'the stop function after completion')
    for await (const n of api.numbers.subscribe({ count: 1_000 })) if (!isResync(n) && n === 3) break
    await waitUntil(() => unsubscribed === 2, 'the stop function after break')
  })
})

// ---------------------------------------------------------------------------
// Channels: volatile events and members

describe('guide: volatile events and members', () => {
  it('a volatile publish returns undefined, reaches a reading client without an id, and leaves lastEventId on the message', async () => {
    type RoomEvent = { kind: 'typing'; user: string } | { kind: 'message'; user: string; text: string }

    const rpc = initRpc.create()
    const room = createChannel<RoomEvent>({ history: 100 })

    const appRouter = rpc.router({
      typing: rpc.procedure.input(z.object({ user: z.string() })).mutation(({ input }) => {
        room.publish({ kind: 'typing', user: input.user }, { volatile: true }) // undefined: no id
      }),
      say: rpc.procedure.input(z.object({ user: z.string(), text: z.string() })).mutation(({ input }) => {
        return room.publish({ kind: 'message', ...input }) // the event's id
      }),
      feed: rpc.procedure.subscription(({ lastEventId, signal }) => room.subscribe({ lastEventId, signal })),
    })
    const { url } = await startServer({ router: appRouter })
    const api = connectClient<typeof appRouter>(url)
    const seen: RoomEvent[] = []
    let started = false
    const sub = api.feed.subscribe(undefined, { onStarted: () => (started = true), onData: (event) => void seen.push(event) })
    await waitUntil(() => started, 'the feed to start')
    const id = await api.say.mutate({ user: 'ada', text: 'hi' })
    await api.typing.mutate({ user: 'bob' })
    expect(room.publish({ kind: 'typing', user: 'carol' }, { volatile: true })).toBeUndefined()
    await waitUntil(() => seen.length === 3, 'the three events')
    expect(seen).toEqual([
      { kind: 'message', user: 'ada', text: 'hi' },
      { kind: 'typing', user: 'bob' },
      { kind: 'typing', user: 'carol' },
    ])
    // The typing event came last, yet the position is the message's.
    expect(sub.lastEventId).toBe(id)
    expect(room.lastEventId).toBe(id)
  })

  it('in process, isVolatile tells volatile events from tracked ones', async () => {
    const prices = createChannel<{ symbol: string; price: number }>({ history: 10 })
    const logged: unknown[][] = []
    const console = { log: (...args: unknown[]) => logged.push(args) }
    const reloadPrices = () => logged.push(['reload'])
    const controller = new AbortController()
    const signal = controller.signal
    const loop = (async () => {
      for await (const event of prices.subscribe({ signal })) {
        if (isResync(event)) reloadPrices()
        else if (isVolatile(event)) console.log('now', event.data.price)
        else console.log(event.id, event.data.price)
      }
    })()
    const id = prices.publish({ symbol: 'ACME', price: 12.5 })
    prices.publish({ symbol: 'ACME', price: 12.6 }, { volatile: true })
    await waitUntil(() => logged.length === 2, 'both events')
    controller.abort()
    await within(loop, 'the loop to end on abort')
    expect(logged).toEqual([
      [id, 12.5],
      ['now', 12.6],
    ])
  })

  it('members() lists each live subscriber of a room once, and forgets one whose connection closed', async () => {
    const rpc = initRpc.context<{ user: string }>().create()
    /** The second type parameter is the members' type. */
    const rooms = createChannel<{ text: string }, string>({ history: 100 })

    const appRouter = rpc.router({
      join: rpc.procedure
        .input(z.object({ room: z.string() }))
        .subscription(({ ctx, input, lastEventId, signal }) => rooms.topic(input.room).subscribe({ lastEventId, signal, member: ctx.user })),
      whoIsHere: rpc.procedure.input(z.object({ room: z.string() })).query(({ input }) => rooms.topic(input.room).members()),
    })
    const { url } = await startServer({ router: appRouter, createContext: ({ connectionParams }) => ({ user: String((connectionParams as { user: string }).user) }) })
    const ada = connectClient<typeof appRouter>(url, { connectionParams: { user: 'ada' } })
    const bob = connectClient<typeof appRouter>(url, { connectionParams: { user: 'bob' } })
    let started = 0
    ada.join.subscribe({ room: 'kitchen' }, { onStarted: () => started++ })
    bob.join.subscribe({ room: 'kitchen' }, { onStarted: () => started++ })
    bob.join.subscribe({ room: 'kitchen' }, { onStarted: () => started++ })
    await waitUntil(() => started === 3, 'three subscriptions')
    expect(await ada.whoIsHere.query({ room: 'kitchen' })).toEqual(['ada', 'bob'])
    expect(await ada.whoIsHere.query({ room: 'hall' })).toEqual([])
    await bob.$connection.close()
    await waitUntil(() => rooms.topic('kitchen').subscriberCount === 1, "bob's connection to close")
    expect(await ada.whoIsHere.query({ room: 'kitchen' })).toEqual(['ada'])
  })
})
