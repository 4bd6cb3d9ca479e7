import { describe, expect, it, onTestFinished } from 'vitest'
import { createRpcServer } from '@wirecall/server'
import { connectClient, sleep, startServer, waitUntil, within } from '../../helpers/harness'
import { streamProbe, streamRouter, type StreamProbe, type StreamRouter } from './router'

/**
 * Duplex subscriptions over real sockets: typed messages in (a client
 * stream), tracked events out. Across a server restart the subscription
 * resumes with its `lastEventId` and goes on pulling from the same
 * producer; the chunks the old server had not credited back are lost (at
 * most once), unless the subscription is `idempotent`: then they are sent
 * again first.
 */

/**
 * A producer the test feeds by hand: `push` a message, `end` it. Written
 * as an iterator rather than an async generator so that its `return()`
 * takes effect while a `next()` waits (a generator's would wait for that
 * `next()`), and is recorded.
 */
function inbox<T>() {
  const queue: T[] = []
  let waiting: ((result: IteratorResult<T>) => void) | undefined
  const state = { returned: false, ended: false }
  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (queue.length > 0) return Promise.resolve({ done: false, value: queue.shift()! })
      if (state.ended || state.returned) return Promise.resolve({ done: true, value: undefined })
      return new Promise((resolve) => (waiting = resolve))
    },
    return() {
      state.returned = true
      waiting?.({ done: true, value: undefined })
      return Promise.resolve({ done: true, value: undefined })
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  const deliver = () => {
    const resolve = waiting
    if (resolve === undefined) return
    waiting = undefined
    if (queue.length > 0) resolve({ done: false, value: queue.shift()! })
    else if (state.ended) resolve({ done: true, value: undefined })
  }
  return {
    state,
    source: iterator,
    push(item: T) {
      queue.push(item)
      deliver()
    },
    end() {
      state.ended = true
      deliver()
    },
  }
}

interface Echo {
  n: number
  echo: string
}

function watch(api: ReturnType<typeof connectClient<StreamRouter>>, options: { idempotent?: boolean } = {}) {
  const box = inbox<{ text: string }>()
  const events: Echo[] = []
  const errors: string[] = []
  let completed = false
  const sub = api.chat.subscribe(box.source, {
    ...options,
    onData: (event) => events.push(event),
    onError: (error) => errors.push(error.code),
    onComplete: () => (completed = true),
  })
  return { box, events, errors, sub, completed: () => completed }
}

/** A new server on the port the old one closed, for the clients to reconnect to; closed after the test. */
async function restartOn(port: number, probe: StreamProbe): Promise<void> {
  const server = createRpcServer({ router: streamRouter(probe) })
  onTestFinished(() => server.close())
  const deadline = Date.now() + 2_000
  for (;;) {
    try {
      await server.listen({ port, host: '127.0.0.1', path: '/rpc' })
      return
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || Date.now() > deadline) throw error
      await sleep(10)
    }
  }
}

describe('duplex subscriptions', () => {
  it('messages in, tracked events out; unsubscribe returns the producer and ends the server side', async () => {
    const probe = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe) })
    const api = connectClient<StreamRouter>(url)
    const chat = watch(api)
    for (const text of ['hi', 'there', 'you']) chat.box.push({ text })
    await waitUntil(() => chat.events.length === 3, 'three echoes')
    expect(chat.events).toEqual([
      { n: 1, echo: 'HI' },
      { n: 2, echo: 'THERE' },
      { n: 3, echo: 'YOU' },
    ])
    expect(chat.sub.lastEventId).toBe('3')
    chat.sub.unsubscribe()
    await waitUntil(() => chat.box.state.returned, "the producer's return()")
    await waitUntil(() => probe.signal?.aborted === true, "the server generator's signal")
  })

  it('the client ending its stream completes a generator that reads to the end; the producer is not returned early', async () => {
    const probe = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe) })
    const api = connectClient<StreamRouter>(url)
    const chat = watch(api)
    chat.box.push({ text: 'last' })
    chat.box.end()
    await waitUntil(() => chat.completed(), 'the subscription to complete')
    expect(chat.events).toEqual([{ n: 1, echo: 'LAST' }])
    expect(chat.errors).toEqual([])
  })

  it('an invalid message ends the subscription with BAD_REQUEST and returns the producer', async () => {
    const probe = streamProbe()
    const { url } = await startServer({ router: streamRouter(probe) })
    const api = connectClient<StreamRouter>(url)
    const chat = watch(api)
    chat.box.push({ text: 'ok' })
    chat.box.push({ text: 42 } as unknown as { text: string })
    await waitUntil(() => chat.errors.length > 0, 'the subscription to fail')
    expect(chat.errors).toEqual(['BAD_REQUEST'])
    expect(chat.events).toEqual([{ n: 1, echo: 'OK' }])
    await waitUntil(() => chat.box.state.returned, "the producer's return()")
  })

  for (const idempotent of [false, true]) {
    it(`resumes after a server restart with lastEventId, pulling on from the same producer (idempotent: ${idempotent})`, async () => {
      const probeA = streamProbe()
      const { server: serverA, port, url } = await startServer({ router: streamRouter(probeA) })
      const api = connectClient<StreamRouter>(url, { reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
      const chat = watch(api, { idempotent })
      chat.box.push({ text: 'a' })
      chat.box.push({ text: 'b' })
      await waitUntil(() => chat.events.length === 2, 'two echoes from the first server')
      expect(probeA.taken).toEqual(['a', 'b'])

      await serverA.close()
      const probeB: StreamProbe = streamProbe()
      await restartOn(port, probeB)
      const resumed = new Promise<string | undefined>((resolve) => api.$connection.on('resubscribe', (info) => resolve(info.lastEventId)))
      expect(await within(resumed, 'the resubscribe', 5_000)).toBe('2')

      chat.box.push({ text: 'c' })
      await waitUntil(() => probeB.taken.includes('c'), 'the new server to read "c"')
      // Window 16, credit back per 8 read: "a" and "b" were never credited back by the first server.
      expect(probeB.taken).toEqual(idempotent ? ['a', 'b', 'c'] : ['c'])
      // Events resume numbered after lastEventId 2.
      await waitUntil(() => chat.events.length === (idempotent ? 5 : 3), 'the echoes from the new server')
      expect(chat.events.slice(2)).toEqual(
        idempotent
          ? [
              { n: 3, echo: 'A' },
              { n: 4, echo: 'B' },
              { n: 5, echo: 'C' },
            ]
          : [{ n: 3, echo: 'C' }],
      )
      expect(chat.errors).toEqual([])
      expect(chat.box.state.returned).toBe(false)
      chat.sub.unsubscribe()
      await waitUntil(() => chat.box.state.returned, "the producer's return()")
    })
  }

  it('a producer that ended before a reconnect: the new server hears `end` too, and the subscription completes', async () => {
    const { server: serverA, port, url } = await startServer({ router: streamRouter(streamProbe()) })
    const api = connectClient<StreamRouter>(url, { reconnect: { minDelayMs: 10, maxDelayMs: 50 } })
    const totals: number[] = []
    const errors: string[] = []
    let completed = false
    async function* numbers() {
      yield* [1, 2, 3]
    }
    api.tally.subscribe(numbers(), { idempotent: true, onData: (total) => totals.push(total), onError: (e) => errors.push(e.code), onComplete: () => (completed = true) })
    // The three numbers and `end` are read within the first server's 300 ms wait; it closes before it yields.
    await sleep(100)
    await serverA.close()
    await restartOn(port, streamProbe())
    // Not credited back (window 16), the numbers are sent again (idempotent), then `end`; without it the new resolver would wait for maxDurationMs.
    await waitUntil(() => completed, 'the subscription to complete on the new server', 5_000)
    expect(totals).toEqual([6])
    expect(errors).toEqual([])
  })
})
