import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createChannel, fromEmitter, initRpc, RpcError } from '@wirecall/core'
import { connectClient, readyPeer, sleep, startServer, waitUntil, within, type RawPeer } from '../../helpers/harness'

/**
 * The server never leaks a subscription: whatever ends it (unsubscribe, an
 * abrupt disconnect, server.close(), the generator throwing, an event
 * failing output validation), the generator's `finally` runs with its
 * signal aborted, push sources remove their listeners, channels forget the
 * subscriber, and the subscription's id is free again on a connection that
 * lives on.
 */

const rpc = initRpc.create()

/** Generators alive on the server right now: +1 when one starts, -1 in its `finally`. */
let live = 0

/** One generator run, found by the `tag` of its input. */
interface Run {
  signal: AbortSignal
  finished: boolean
  /** `signal.aborted` as seen inside `finally`. */
  abortedInFinally: boolean | undefined
  /** Values yielded after the signal was aborted. */
  yieldsAfterAbort: number
}
const runs = new Map<string, Run>()
let tagCounter = 0
const newTag = (name: string) => `${name}-${++tagCounter}`

function enter(tag: string, signal: AbortSignal): Run {
  live++
  const run: Run = { signal, finished: false, abortedInFinally: undefined, yieldsAfterAbort: 0 }
  runs.set(tag, run)
  return run
}
function leave(run: Run): void {
  run.abortedInFinally = run.signal.aborted
  run.finished = true
  live--
}
async function runOf(tag: string): Promise<Run> {
  await waitUntil(() => runs.has(tag), `the server to start generator "${tag}"`)
  return runs.get(tag)!
}

const emitter = new EventEmitter()
const channel = createChannel<{ n: number }>({ history: 10 })

const Tag = z.object({ tag: z.string() })
const router = rpc.router({
  echo: rpc.procedure.input(z.string()).query(({ input }) => input),
  /** 0, 1, 2... every 5 ms; honours its signal. */
  ticks: rpc.procedure.input(Tag).subscription(async function* ({ input, signal }) {
    const run = enter(input.tag, signal)
    try {
      for (let n = 0; !signal.aborted; n++) {
        yield n
        await sleep(5, signal)
      }
    } finally {
      leave(run)
    }
  }),
  /** Ignores its signal entirely: only a `return()` at its next yield can stop it. */
  stubborn: rpc.procedure.input(Tag).subscription(async function* ({ input, signal }) {
    const run = enter(input.tag, signal)
    try {
      let n = 0
      while (true) {
        await sleep(20)
        if (signal.aborted) run.yieldsAfterAbort++
        yield n++
      }
    } finally {
      leave(run)
    }
  }),
  /** Two events, then throws. */
  boom: rpc.procedure.input(Tag).subscription(async function* ({ input, signal }) {
    const run = enter(input.tag, signal)
    try {
      yield 1
      yield 2
      throw new Error('generator failed')
    } finally {
      leave(run)
    }
  }),
  /** One good event, then one that fails the output schema, then (never reached) more. */
  badOutput: rpc.procedure
    .input(Tag)
    .output(z.object({ n: z.number() }))
    .subscription(async function* ({ input, signal }) {
      const run = enter(input.tag, signal)
      try {
        yield { n: 1 }
        yield { n: 'two' } as unknown as { n: number }
        for (let n = 3; !signal.aborted; n++) {
          yield { n }
          await sleep(5, signal)
        }
      } finally {
        leave(run)
      }
    }),
  /** An EventEmitter's 'tick' events, ended by the signal. */
  emitted: rpc.procedure.subscription(({ signal }) => fromEmitter<number>(emitter, 'tick', { signal })),
  /** The same without the signal: only the server's `return()` removes the listener. */
  emittedNoSignal: rpc.procedure.subscription(() => fromEmitter<number>(emitter, 'tick')),
  /** A channel, ended by the signal. */
  feed: rpc.procedure.subscription(({ signal, lastEventId }) => channel.subscribe({ signal, lastEventId })),
  /** A channel without the signal: only the server's `return()` ends it. */
  feedNoSignal: rpc.procedure.subscription(({ lastEventId }) => channel.subscribe({ lastEventId })),
})
type R = typeof router

async function setup() {
  const started = await startServer({ router })
  // Lazy: it connects on first use, so tests that only use raw peers count their connections alone.
  // No reconnect: these tests look at what ends a subscription, not at how one is restored.
  const api = connectClient<R>(started.url, { lazy: true, reconnect: false })
  return { ...started, api }
}

/** Resolves with the first message matching `predicate` received after index `from`. */
async function nextAfter(peer: RawPeer, from: number, predicate: (m: Record<string, unknown>) => boolean, what: string) {
  let found: Record<string, unknown> | undefined
  await waitUntil(() => (found = peer.messages.slice(from).find(predicate)) !== undefined, what)
  return found!
}

/**
 * Sends `ping` and waits for its `pong`: every message the server handled
 * before the ping has been handled. Returns the index of the pong.
 */
async function roundTrip(peer: RawPeer): Promise<number> {
  const from = peer.messages.length
  peer.send({ type: 'ping' })
  await nextAfter(peer, from, (m) => m.type === 'pong', 'a pong')
  return peer.messages.findIndex((m, i) => i >= from && m.type === 'pong')
}

/** Fails if the server sent anything for `id` after message index `after`, within `ms`. */
async function expectSilence(peer: RawPeer, id: number, after: number, ms = 60): Promise<void> {
  await sleep(ms)
  await roundTrip(peer)
  expect(peer.messages.slice(after + 1).filter((m) => m.id === id)).toEqual([])
}

/** The connection accepts a new subscription with `id`: it is not "already in use". */
async function expectIdFree(peer: RawPeer, id: number): Promise<void> {
  const tag = newTag('reuse')
  const from = peer.messages.length
  peer.send({ type: 'subscribe', id, path: 'ticks', input: { tag } })
  const reply = await nextAfter(peer, from, (m) => m.id === id && (m.type === 'started' || m.type === 'error'), `an answer to subscribe ${id}`)
  expect(reply).toEqual({ type: 'started', id })
  await nextAfter(peer, from, (m) => m.id === id && m.type === 'data', `an event on the reused id ${id}`)
  peer.send({ type: 'unsubscribe', id })
  await waitUntil(() => runs.get(tag)?.finished === true, 'the reused subscription to end')
}

async function expectNoLiveGenerators(): Promise<void> {
  await waitUntil(() => live === 0, `every generator to finish (${live} still live)`)
}

describe('cleanup on unsubscribe', () => {
  it('handler form unsubscribe(): the generator finally runs with its signal aborted', async () => {
    const { api } = await setup()
    const tag = newTag('ticks')
    const got: number[] = []
    const sub = api.ticks.subscribe({ tag }, { onData: (n) => got.push(n) })
    await waitUntil(() => got.length >= 2, 'two events')
    const run = await runOf(tag)
    expect(live).toBe(1)
    sub.unsubscribe()
    await expectNoLiveGenerators()
    expect(run.finished).toBe(true)
    expect(run.abortedInFinally).toBe(true)
    expect(await api.echo.query('alive')).toBe('alive')
  })

  it('raw unsubscribe: the generator finally runs, nothing more is sent for the id, and the id is free again', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    const tag = newTag('ticks')
    peer.send({ type: 'subscribe', id: 1, path: 'ticks', input: { tag } })
    await peer.next((m) => m.id === 1 && m.type === 'data')
    peer.send({ type: 'unsubscribe', id: 1 })
    const pong = await roundTrip(peer)
    const run = await runOf(tag)
    await expectNoLiveGenerators()
    expect(run.abortedInFinally).toBe(true)
    await expectSilence(peer, 1, pong)
    expect(peer.messages.filter((m) => m.id === 1).map((m) => m.type)).not.toContain('complete')
    await expectIdFree(peer, 1)
    await expectNoLiveGenerators()
  })
})

describe('cleanup on disconnect', () => {
  it('a socket destroyed abruptly (terminate, no close frame): every generator on it finishes with its signal aborted', async () => {
    const { url, server } = await setup()
    const peer = await readyPeer(url)
    const tags = [newTag('ticks'), newTag('ticks'), newTag('stubborn')]
    peer.send({ type: 'subscribe', id: 1, path: 'ticks', input: { tag: tags[0] } })
    peer.send({ type: 'subscribe', id: 2, path: 'ticks', input: { tag: tags[1] } })
    peer.send({ type: 'subscribe', id: 3, path: 'stubborn', input: { tag: tags[2] } })
    for (const id of [1, 2, 3]) await peer.next((m) => m.id === id && m.type === 'data')
    expect(live).toBe(3)
    peer.ws.terminate()
    await expectNoLiveGenerators()
    for (const tag of tags) expect(runs.get(tag)!.abortedInFinally).toBe(true)
    await waitUntil(() => server.connectionCount === 0, 'the server to drop the connection')
  })

  it('a client that closes its connection: the generators finish with their signal aborted', async () => {
    const { api, server } = await setup()
    const tag = newTag('ticks')
    const errors: RpcError[] = []
    const got: number[] = []
    api.ticks.subscribe({ tag }, { onData: (n) => got.push(n), onError: (e) => errors.push(e) })
    await waitUntil(() => got.length >= 1, 'an event')
    await api.$connection.close()
    await expectNoLiveGenerators()
    expect(runs.get(tag)!.abortedInFinally).toBe(true)
    await waitUntil(() => server.connectionCount === 0, 'the server to drop the connection')
  })
})

describe('cleanup on server.close()', () => {
  it('every generator finishes with its signal aborted, and a client that does not reconnect sees each subscription end with CONNECTION_LOST', async () => {
    const { api, server } = await setup()
    const tags = [newTag('ticks'), newTag('stubborn')]
    const errors: RpcError[][] = [[], []]
    const got: number[][] = [[], []]
    api.ticks.subscribe({ tag: tags[0]! }, { onData: (n) => got[0]!.push(n), onError: (e) => errors[0]!.push(e) })
    api.stubborn.subscribe({ tag: tags[1]! }, { onData: (n) => got[1]!.push(n), onError: (e) => errors[1]!.push(e) })
    const iterable = api.ticks.subscribe({ tag: newTag('ticks') })
    const loop = (async () => {
      try {
        for await (const _ of iterable) {
          // keep pulling
        }
        return undefined
      } catch (error) {
        return error
      }
    })()
    await waitUntil(() => got[0]!.length >= 1 && got[1]!.length >= 1, 'events on both subscriptions')
    expect(live).toBe(3)

    await within(server.close(), 'server.close()')
    // close() resolves only once the generators have unwound: no waiting needed.
    expect(live).toBe(0)
    await expectNoLiveGenerators()
    for (const tag of tags) expect(runs.get(tag)!.abortedInFinally).toBe(true)
    expect(server.connectionCount).toBe(0)

    await waitUntil(() => errors.every((e) => e.length === 1), 'both subscriptions to end with an error')
    for (const [error] of errors) {
      expect(error).toBeInstanceOf(RpcError)
      expect(error!.code).toBe('CONNECTION_LOST')
      expect(error!.data).toMatchObject({ closeCode: 1001 })
    }
    const loopError = await within(loop, 'the iterator loop to end')
    expect(loopError).toBeInstanceOf(RpcError)
    expect((loopError as RpcError).code).toBe('CONNECTION_LOST')
  })
})

describe('cleanup when the generator throws', () => {
  it('the generator has finished and its signal is aborted once the client gets the error', async () => {
    const { api } = await setup()
    const tag = newTag('boom')
    const got: number[] = []
    const ended = new Promise<RpcError>((resolve) => {
      api.boom.subscribe({ tag }, { onData: (n) => got.push(n), onError: resolve })
    })
    const error = await within(ended, 'the subscription to fail')
    expect(error.code).toBe('INTERNAL')
    expect(got).toEqual([1, 2])
    await expectNoLiveGenerators()
    const run = runs.get(tag)!
    expect(run.finished).toBe(true)
    // The generator's own throw ran its finally before the server saw the error, so
    // `abortedInFinally` is necessarily false here; the server still aborts the signal.
    expect(run.signal.aborted).toBe(true)
  })

  it('raw: after the error the id is free again on the same connection', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 4, path: 'boom', input: { tag: newTag('boom') } })
    const error = await peer.next((m) => m.id === 4 && m.type === 'error')
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'Internal server error' })
    await expectNoLiveGenerators()
    await expectIdFree(peer, 4)
  })
})

describe('cleanup of a generator that ignores its signal', () => {
  it('after unsubscribe it still gets return() at its next yield: finally runs with the signal aborted', async () => {
    const { api } = await setup()
    const tag = newTag('stubborn')
    const got: number[] = []
    const sub = api.stubborn.subscribe({ tag }, { onData: (n) => got.push(n) })
    await waitUntil(() => got.length >= 2, 'two events')
    const run = await runOf(tag)
    sub.unsubscribe()
    await expectNoLiveGenerators()
    expect(run.abortedInFinally).toBe(true)
    // It ran on to its next yield and no further.
    expect(run.yieldsAfterAbort).toBeLessThanOrEqual(1)
  })

  it('raw: nothing more is sent for the id after unsubscribe, and the id is free again', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    const tag = newTag('stubborn')
    peer.send({ type: 'subscribe', id: 9, path: 'stubborn', input: { tag } })
    await peer.next((m) => m.id === 9 && m.type === 'data')
    peer.send({ type: 'unsubscribe', id: 9 })
    const pong = await roundTrip(peer)
    await expectNoLiveGenerators()
    expect(runs.get(tag)!.abortedInFinally).toBe(true)
    // Its last yield, produced after the unsubscribe, was not sent.
    await expectSilence(peer, 9, pong)
    await expectIdFree(peer, 9)
  })
})

describe('cleanup after an output validation failure', () => {
  it('the client gets INTERNAL and the generator finally runs with its signal aborted', async () => {
    const { api } = await setup()
    const tag = newTag('bad')
    const got: { n: number }[] = []
    const ended = new Promise<RpcError>((resolve) => {
      api.badOutput.subscribe({ tag }, { onData: (e) => got.push(e), onError: resolve })
    })
    const error = await within(ended, 'the subscription to fail')
    expect(error.code).toBe('INTERNAL')
    expect(got).toEqual([{ n: 1 }])
    await expectNoLiveGenerators()
    expect(runs.get(tag)!.abortedInFinally).toBe(true)
  })

  it('raw: after the error nothing more is sent for the id, and the id is free again', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    const tag = newTag('bad')
    peer.send({ type: 'subscribe', id: 12, path: 'badOutput', input: { tag } })
    await peer.next((m) => m.id === 12 && m.type === 'error')
    const errorAt = peer.messages.findIndex((m) => m.id === 12 && m.type === 'error')
    expect(peer.messages.filter((m) => m.id === 12).map((m) => m.type)).toEqual(['started', 'data', 'error'])
    await expectNoLiveGenerators()
    await expectSilence(peer, 12, errorAt)
    await expectIdFree(peer, 12)
  })
})

describe('cleanup of fromEmitter() subscriptions', () => {
  it.each(['emitted', 'emittedNoSignal'] as const)('%s: after unsubscribe the emitter has no listener left, and the id is free', async (path) => {
    const { api, url } = await setup()
    expect(emitter.listenerCount('tick')).toBe(0)
    const got: number[] = []
    const sub = api[path].subscribe(undefined, { onData: (n) => got.push(n) })
    await waitUntil(() => sub.state === 'started', 'the subscription to start')
    expect(emitter.listenerCount('tick')).toBe(1)
    emitter.emit('tick', 1)
    emitter.emit('tick', 2)
    await waitUntil(() => got.length === 2, 'two events')
    expect(got).toEqual([1, 2])
    sub.unsubscribe()
    await waitUntil(() => emitter.listenerCount('tick') === 0, 'the listener to be removed')

    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 3, path, input: undefined })
    await peer.next((m) => m.id === 3 && m.type === 'started')
    expect(emitter.listenerCount('tick')).toBe(1)
    peer.send({ type: 'unsubscribe', id: 3 })
    await roundTrip(peer)
    await waitUntil(() => emitter.listenerCount('tick') === 0, 'the raw subscription listener to be removed')
    await expectIdFree(peer, 3)
  })

  it.each(['emitted', 'emittedNoSignal'] as const)('%s: after a disconnect the emitter has no listener left', async (path) => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path })
    peer.send({ type: 'subscribe', id: 2, path })
    await peer.next((m) => m.id === 1 && m.type === 'started')
    await peer.next((m) => m.id === 2 && m.type === 'started')
    expect(emitter.listenerCount('tick')).toBe(2)
    emitter.emit('tick', 7)
    await peer.next((m) => m.id === 2 && m.type === 'data')
    peer.ws.terminate()
    await waitUntil(() => emitter.listenerCount('tick') === 0, 'the listeners to be removed')
  })
})

describe('cleanup of channel subscriptions', () => {
  it.each(['feed', 'feedNoSignal'] as const)('%s: after unsubscribe the channel has no subscriber left, and the id is free', async (path) => {
    const { api, url } = await setup()
    expect(channel.subscriberCount).toBe(0)
    const got: number[] = []
    const sub = api[path].subscribe(undefined, { onData: (e) => got.push(e.n) })
    await waitUntil(() => sub.state === 'started', 'the subscription to start')
    expect(channel.subscriberCount).toBe(1)
    channel.publish({ n: 1 })
    await waitUntil(() => got.length === 1, 'an event')
    sub.unsubscribe()
    await waitUntil(() => channel.subscriberCount === 0, 'the channel to forget the subscriber')

    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 5, path })
    await peer.next((m) => m.id === 5 && m.type === 'started')
    expect(channel.subscriberCount).toBe(1)
    peer.send({ type: 'unsubscribe', id: 5 })
    await roundTrip(peer)
    await waitUntil(() => channel.subscriberCount === 0, 'the channel to forget the raw subscriber')
    await expectIdFree(peer, 5)
  })

  it.each(['feed', 'feedNoSignal'] as const)('%s: after a disconnect the channel has no subscriber left', async (path) => {
    const { url, api } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'subscribe', id: 1, path })
    peer.send({ type: 'subscribe', id: 2, path })
    await peer.next((m) => m.id === 1 && m.type === 'started')
    await peer.next((m) => m.id === 2 && m.type === 'started')
    const sub = api[path].subscribe(undefined, { onData: () => {} })
    await waitUntil(() => sub.state === 'started', 'the client subscription to start')
    expect(channel.subscriberCount).toBe(3)
    channel.publish({ n: 2 })
    await peer.next((m) => m.id === 2 && m.type === 'data')
    peer.ws.terminate()
    await waitUntil(() => channel.subscriberCount === 1, 'the channel to forget the disconnected subscribers')
    await api.$connection.close()
    await waitUntil(() => channel.subscriberCount === 0, 'the channel to forget the closed client')
  })
})
