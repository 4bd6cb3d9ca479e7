import { describe, expect, expectTypeOf, it, onTestFinished } from 'vitest'
import { z } from 'zod'
import { createChannel, initRpc, isResync, resync, RpcError, tracked, type ResyncSignal } from '@wirecall/core'
import type { Subscription, SubscriptionIterable, SubscriptionState } from '@wirecall/client'
import { connectClient, readyPeer, sleep, startServer, untilAborted, waitUntil, within, type RawPeer } from '../../helpers/harness'

/**
 * Subscriptions end to end, over real sockets: event order and inferred
 * types in both client forms, what the resolver receives, many
 * subscriptions on one connection, the ways a client stops one, output and
 * input validation, errors, routing over the raw protocol, resync, and a
 * throwing `onData` handler. Last, a smoke test on a router of its own: both
 * client forms and a channel resume in a few lines.
 */

interface Ctx {
  user: string
}
const rpc = initRpc.context<Ctx>().create()

/** One server-side run of a generator, found by the `tag` its input carried. */
interface Run {
  tag: string
  signal: AbortSignal
  /** The generator's `finally` has run. */
  finished: boolean
  /** `signal.aborted` as seen inside `finally`. */
  abortedInFinally: boolean | undefined
}
const runs = new Map<string, Run>()
let tagCounter = 0
/** A tag unique to this file's runs, so concurrent subscriptions never mix. */
const newTag = (name: string) => `${name}-${++tagCounter}`

function enter(tag: string, signal: AbortSignal): Run {
  const run: Run = { tag, signal, finished: false, abortedInFinally: undefined }
  runs.set(tag, run)
  return run
}
function leave(run: Run): void {
  run.abortedInFinally = run.signal.aborted
  run.finished = true
}
async function runOf(tag: string): Promise<Run> {
  await waitUntil(() => runs.has(tag), `the server to start the generator "${tag}"`)
  return runs.get(tag)!
}

/** What `nested.probe` resolvers received, by tag. */
const probed = new Map<string, { input: unknown; ctx: unknown; signal: AbortSignal; lastEventId: string | undefined; path: string }>()
/** Live `keyed` generators. */
let keyedLive = 0
let strictRuns = 0

const day = (n: number) => new Date(Date.UTC(2024, 0, n))

const router = rpc.router({
  greet: rpc.procedure.input(z.string()).query(({ input }) => `hello ${input}`),
  /** Counts 1..to as tracked events carrying a Date, then returns. */
  count: rpc.procedure.input(z.object({ to: z.number(), tag: z.string() })).subscription(async function* ({ input, signal }) {
    const run = enter(input.tag, signal)
    try {
      for (let n = 1; n <= input.to; n++) yield tracked(String(n), { n, at: day(n) })
    } finally {
      leave(run)
    }
  }),
  nested: {
    /** Records what the resolver received, yields once, then waits to be stopped. */
    probe: rpc.procedure
      .input(z.object({ tag: z.string(), x: z.number().transform((x) => x * 2) }))
      .subscription(async function* ({ input, ctx, signal, lastEventId, path }) {
        probed.set(input.tag, { input, ctx, signal, lastEventId, path })
        const run = enter(input.tag, signal)
        try {
          yield tracked('e1', 'first')
          await untilAborted(signal)
        } finally {
          leave(run)
        }
      }),
  },
  /** `n` events of its own for key `k`. */
  keyed: rpc.procedure.input(z.object({ k: z.number(), n: z.number() })).subscription(async function* ({ input }) {
    keyedLive++
    try {
      for (let i = 0; i < input.n; i++) {
        // Let the other subscriptions' generators run in between.
        await new Promise((resolve) => setImmediate(resolve))
        yield tracked(`${input.k}:${i}`, { k: input.k, i })
      }
    } finally {
      keyedLive--
    }
  }),
  /** 0, 1, 2, ... every 5 ms, until stopped. */
  ticks: rpc.procedure.input(z.object({ tag: z.string() })).subscription(async function* ({ input, signal }) {
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
  /** Never yields; waits to be stopped. */
  silent: rpc.procedure.input(z.object({ tag: z.string() })).subscription(async function* ({ input, signal }) {
    const run = enter(input.tag, signal)
    try {
      await untilAborted(signal)
      yield 'never'
    } finally {
      leave(run)
    }
  }),
  /** Two good events, then one that fails the output schema. */
  checked: rpc.procedure
    .input(z.object({ tag: z.string() }))
    .output(z.object({ n: z.number() }))
    .subscription(async function* ({ input, signal }) {
      const run = enter(input.tag, signal)
      try {
        yield { n: 1 }
        yield tracked('2', { n: 2 })
        yield { n: 'three with a secret' } as unknown as { n: number }
        yield { n: 4 }
        await untilAborted(signal)
      } finally {
        leave(run)
      }
    }),
  /** Input must be an integer. */
  strict: rpc.procedure.input(z.object({ n: z.number().int() })).subscription(async function* ({ input }) {
    strictRuns++
    yield input.n
  }),
  /** Yields once, then throws an RpcError or a plain Error. */
  fails: rpc.procedure
    .input(z.object({ tag: z.string(), kind: z.enum(['rpc', 'plain']) }))
    .subscription(async function* ({ input, signal }) {
      const run = enter(input.tag, signal)
      try {
        yield 'before'
        if (input.kind === 'rpc') throw new RpcError('FORBIDDEN', 'not your feed')
        throw new Error('db password is hunter2')
      } finally {
        leave(run)
      }
    }),
  /** a, resync, b, then returns. */
  resyncing: rpc.procedure.subscription(async function* () {
    yield tracked('1', 'a')
    yield resync()
    yield tracked('2', 'b')
  }),
  /** a, resync, b, then waits to be stopped: the subscription outlives the resync. */
  resyncThenLive: rpc.procedure.input(z.object({ tag: z.string() })).subscription(async function* ({ input, signal }) {
    const run = enter(input.tag, signal)
    try {
      yield 'a'
      yield resync()
      yield 'b'
      await untilAborted(signal)
    } finally {
      leave(run)
    }
  }),
})
type R = typeof router

async function setup() {
  const { url, server } = await startServer({
    router,
    createContext: ({ connectionParams }) => ({ user: (connectionParams as { user?: string } | undefined)?.user ?? 'anonymous' }),
  })
  const api = connectClient<R>(url, { connectionParams: { user: 'ada' } })
  return { url, server, api }
}

/** Collects a subscription's callbacks in order, as strings, and resolves when it ends. */
function record<T>(format: (value: T) => string = (v) => JSON.stringify(v)) {
  const log: string[] = []
  const errors: RpcError[] = []
  let resolveEnd!: (how: 'complete' | 'error') => void
  const ended = new Promise<'complete' | 'error'>((resolve) => (resolveEnd = resolve))
  return {
    log,
    errors,
    ended,
    handlers: {
      onStarted: () => log.push('started'),
      onData: (value: T) => log.push(`data:${format(value)}`),
      onResync: () => log.push('resync'),
      onError: (error: RpcError) => {
        log.push(`error:${error.code}`)
        errors.push(error)
        resolveEnd('error')
      },
      onComplete: () => {
        log.push('complete')
        resolveEnd('complete')
      },
    },
  }
}

/** Iterates at most `max` values, within `timeoutMs`; returns them and how the loop ended. */
async function drain<T>(iterable: AsyncIterable<T>, max = 100, timeoutMs = 3_000): Promise<{ values: T[]; error: unknown }> {
  const values: T[] = []
  let error: unknown
  await within(
    (async () => {
      try {
        for await (const value of iterable) {
          values.push(value)
          if (values.length >= max) break
        }
      } catch (e) {
        error = e
      }
    })(),
    'the subscription loop to end',
    timeoutMs,
  )
  return { values, error }
}

/** The messages for subscription `id` a raw peer received, in order, as `type` or `type:code`. */
function typesFor(peer: RawPeer, id: number): string[] {
  return peer.messages.filter((m) => m.id === id).map((m) => (m.type === 'error' ? `error:${String(m.code)}` : String(m.type)))
}

describe('events and types', () => {
  it('handler form: onStarted, then every event in order with its inferred type, then onComplete; state and lastEventId follow', async () => {
    const { api } = await setup()
    const tag = newTag('count')
    const seen: { n: number; at: Date }[] = []
    const states: SubscriptionState[] = []
    const ids: (string | undefined)[] = []
    const rec = record<{ n: number; at: Date }>((e) => String(e.n))
    const sub: Subscription = api.count.subscribe(
      { to: 5, tag },
      {
        ...rec.handlers,
        onStarted: () => {
          rec.handlers.onStarted()
          states.push(sub.state)
          ids.push(sub.lastEventId)
        },
        onData: (event) => {
          // The data inside tracked(...), not the envelope; the Date survives superjson.
          expectTypeOf(event).toEqualTypeOf<{ n: number; at: Date }>()
          rec.handlers.onData(event)
          seen.push(event)
          states.push(sub.state)
          ids.push(sub.lastEventId)
        },
        onComplete: () => {
          rec.handlers.onComplete()
          states.push(sub.state)
        },
      },
    )
    expectTypeOf(sub).toEqualTypeOf<Subscription>()
    expect(sub.state).toBe('pending')
    expect(sub.lastEventId).toBeUndefined()

    expect(await within(rec.ended, 'the subscription to complete')).toBe('complete')
    expect(rec.log).toEqual(['started', 'data:1', 'data:2', 'data:3', 'data:4', 'data:5', 'complete'])
    for (const [i, event] of seen.entries()) {
      expect(event.at).toBeInstanceOf(Date)
      expect(event.at.getTime()).toBe(day(i + 1).getTime())
      expect(event).not.toHaveProperty('id')
      expect(event).not.toHaveProperty('data')
    }
    expect(states).toEqual(['started', 'started', 'started', 'started', 'started', 'started', 'ended'])
    // lastEventId is the id of the event being delivered, from the first onData on.
    expect(ids).toEqual([undefined, '1', '2', '3', '4', '5'])
    expect(sub.state).toBe('ended')
    expect(sub.lastEventId).toBe('5')
    await waitUntil(() => runs.get(tag)?.finished === true, 'the generator to finish')
  })

  it('iterator form: every event in order with its inferred type, then the loop ends; state and lastEventId follow', async () => {
    const { api } = await setup()
    const tag = newTag('count')
    const iterable = api.count.subscribe({ to: 4, tag })
    expectTypeOf(iterable).toEqualTypeOf<SubscriptionIterable<{ n: number; at: Date }>>()
    expect(iterable.state).toBe('pending')
    const states: SubscriptionState[] = []
    const ids: (string | undefined)[] = []
    const got: number[] = []
    await within(
      (async () => {
        for await (const event of iterable) {
          expectTypeOf(event).toEqualTypeOf<{ n: number; at: Date }>()
          expect(event.at).toBeInstanceOf(Date)
          expect(event.at.getTime()).toBe(day(event.n).getTime())
          got.push(event.n)
          states.push(iterable.state)
          ids.push(iterable.lastEventId)
        }
      })(),
      'the loop to end',
    )
    expect(got).toEqual([1, 2, 3, 4])
    // Events are delivered as they arrive; by the time the loop runs, later ones may be queued already.
    expect(states.every((s) => s === 'started' || s === 'ended')).toBe(true)
    // lastEventId is at least the id of the event in hand (queued later ones may have moved it on).
    for (const [i, n] of got.entries()) expect(Number(ids[i])).toBeGreaterThanOrEqual(n)
    expect(iterable.state).toBe('ended')
    expect(iterable.lastEventId).toBe('4')
    await waitUntil(() => runs.get(tag)?.finished === true, 'the generator to finish')
  })
})

describe('what the resolver receives', () => {
  it('gets the validated input, the context from createContext, a live signal, lastEventId from the subscribe option, and its dotted path', async () => {
    const { api } = await setup()
    const tag = newTag('probe')
    const first = new Promise<string>((resolve) => {
      const sub = api.nested.probe.subscribe({ tag, x: 21 }, { lastEventId: 'resume-from-7', onData: (v) => resolve(v) })
      onTestFinished(() => sub.unsubscribe())
    })
    expect(await within(first, 'the first event')).toBe('first')
    const got = probed.get(tag)!
    expect(got.input).toEqual({ tag, x: 42 })
    expect(got.ctx).toEqual({ user: 'ada' })
    expect(got.signal).toBeInstanceOf(AbortSignal)
    expect(got.signal.aborted).toBe(false)
    expect(got.lastEventId).toBe('resume-from-7')
    expect(got.path).toBe('nested.probe')
  })

  it('gets lastEventId undefined when the client does not resume, and its signal aborts on unsubscribe', async () => {
    const { api } = await setup()
    const tag = newTag('probe')
    let sub!: Subscription
    const first = new Promise<void>((resolve) => {
      sub = api.nested.probe.subscribe({ tag, x: 1 }, { onData: () => resolve() })
    })
    await within(first, 'the first event')
    const got = probed.get(tag)!
    expect(got.lastEventId).toBeUndefined()
    expect(sub.lastEventId).toBe('e1')
    sub.unsubscribe()
    await waitUntil(() => got.signal.aborted, 'the resolver signal to abort')
    await waitUntil(() => runs.get(tag)?.finished === true, 'the generator to finish')
  })
})

describe('many subscriptions on one connection', () => {
  it('1,000 subscriptions on one client each get exactly their own events in order, all complete, and nothing stays live on the server', async () => {
    const { api, server } = await setup()
    const N = 1_000
    const PER = 3
    const received = Array.from({ length: N }, () => [] as string[])
    const lastIds: (string | undefined)[] = []
    const errors: RpcError[] = []
    const subs: Subscription[] = []
    const completions = Array.from(
      { length: N },
      (_, k) =>
        new Promise<void>((resolve) => {
          subs[k] = api.keyed.subscribe(
            { k, n: PER },
            {
              onData: (e) => {
                expectTypeOf(e).toEqualTypeOf<{ k: number; i: number }>()
                received[k]!.push(`${e.k}:${e.i}`)
              },
              onError: (e) => {
                errors.push(e)
                resolve()
              },
              onComplete: () => {
                lastIds[k] = subs[k]!.lastEventId
                resolve()
              },
            },
          )
        }),
    )
    await within(Promise.all(completions), 'all 1,000 subscriptions to complete', 10_000)
    expect(errors).toEqual([])
    for (let k = 0; k < N; k++) {
      expect(received[k]).toEqual(Array.from({ length: PER }, (_, i) => `${k}:${i}`))
      expect(lastIds[k]).toBe(`${k}:${PER - 1}`)
      expect(subs[k]!.state).toBe('ended')
    }
    await waitUntil(() => keyedLive === 0, 'every keyed generator to finish')
    // One connection carried them all, and it is still usable.
    expect(server.connectionCount).toBe(1)
    expect(await api.greet.query('still here')).toBe('hello still here')
  })
})

describe('stopping from the client', () => {
  it('break in a for await loop unsubscribes: the generator finally runs with its signal aborted', async () => {
    const { api } = await setup()
    const tag = newTag('ticks')
    const { values } = await drain(api.ticks.subscribe({ tag }), 3)
    expect(values).toEqual([0, 1, 2])
    const run = await runOf(tag)
    await waitUntil(() => run.finished, 'the generator finally to run')
    expect(run.abortedInFinally).toBe(true)
    expect(await api.greet.query('x')).toBe('hello x')
  })

  it('return() on the iterator unsubscribes, and the iterator is done afterwards', async () => {
    const { api } = await setup()
    const tag = newTag('ticks')
    const iterable = api.ticks.subscribe({ tag })
    const iterator = iterable[Symbol.asyncIterator]()
    expect(await within(iterator.next(), 'event 0')).toEqual({ done: false, value: 0 })
    expect(await within(iterator.next(), 'event 1')).toEqual({ done: false, value: 1 })
    expect(await within(iterator.return!(), 'return()')).toEqual({ done: true, value: undefined })
    expect(iterable.state).toBe('ended')
    expect(await within(iterator.next(), 'next() after return()')).toEqual({ done: true, value: undefined })
    const run = await runOf(tag)
    await waitUntil(() => run.finished, 'the generator finally to run')
    expect(run.abortedInFinally).toBe(true)
  })

  it('return() while a next() is pending settles that next() as done and unsubscribes', async () => {
    const { api } = await setup()
    const tag = newTag('silent')
    const iterable = api.silent.subscribe({ tag })
    const iterator = iterable[Symbol.asyncIterator]()
    const pending = iterator.next()
    const run = await runOf(tag)
    await waitUntil(() => iterable.state === 'started', 'the subscription to start')
    expect(await within(iterator.return!(), 'return()')).toEqual({ done: true, value: undefined })
    expect(await within(pending, 'the pending next() to settle')).toEqual({ done: true, value: undefined })
    await waitUntil(() => run.finished, 'the generator finally to run')
    expect(run.abortedInFinally).toBe(true)
  })

  it('an AbortSignal passed as { signal } to the iterator form unsubscribes and ends the loop', async () => {
    const { api } = await setup()
    const tag = newTag('ticks')
    const controller = new AbortController()
    const iterable = api.ticks.subscribe({ tag }, { signal: controller.signal })
    const got: number[] = []
    const outcome = await within(
      (async () => {
        try {
          for await (const n of iterable) {
            got.push(n)
            if (got.length === 3) controller.abort()
          }
          return 'done'
        } catch (error) {
          return error
        }
      })(),
      'the loop to end after the signal aborted',
      1_000,
    )
    // The loop ends, cleanly or with CANCELLED; never with anything else, and never hangs.
    if (outcome !== 'done') {
      expect(outcome).toBeInstanceOf(RpcError)
      expect((outcome as RpcError).code).toBe('CANCELLED')
    }
    expect(got).toEqual([0, 1, 2])
    expect(iterable.state).toBe('ended')
    const run = await runOf(tag)
    await waitUntil(() => run.finished, 'the generator finally to run')
    expect(run.abortedInFinally).toBe(true)
  })

  it('unsubscribe() on the iterable ends a loop waiting in next() and stops the generator', async () => {
    const { api } = await setup()
    const tag = newTag('silent')
    const iterable = api.silent.subscribe({ tag })
    const iterator = iterable[Symbol.asyncIterator]()
    const pending = iterator.next()
    const run = await runOf(tag)
    await waitUntil(() => iterable.state === 'started', 'the subscription to start')
    iterable.unsubscribe()
    expect(iterable.state).toBe('ended')
    await waitUntil(() => run.finished, 'the generator finally to run')
    expect(run.abortedInFinally).toBe(true)
    const outcome = await within(
      pending.then(
        (result) => result,
        (error: unknown) => error,
      ),
      'the pending next() to settle after unsubscribe()',
      1_000,
    )
    // Done, or CANCELLED; never left hanging.
    if (outcome instanceof RpcError) expect(outcome.code).toBe('CANCELLED')
    else expect(outcome).toEqual({ done: true, value: undefined })
  })

  it('an AbortSignal passed to the handler form unsubscribes: no callback runs afterwards', async () => {
    const { api } = await setup()
    const tag = newTag('ticks')
    const controller = new AbortController()
    const rec = record<number>()
    const sub = api.ticks.subscribe({ tag }, { ...rec.handlers, signal: controller.signal })
    await waitUntil(() => rec.log.length >= 3, 'two events')
    controller.abort()
    const logAtAbort = [...rec.log]
    expect(sub.state).toBe('ended')
    const run = await runOf(tag)
    await waitUntil(() => run.finished, 'the generator finally to run')
    expect(run.abortedInFinally).toBe(true)
    // A round trip later, nothing more has been delivered.
    expect(await api.greet.query('later')).toBe('hello later')
    expect(rec.log).toEqual(logAtAbort)
  })

  it('an already-aborted signal never reaches the server, and the iterator form ends at once', async () => {
    const { api } = await setup()
    const tag = newTag('ticks')
    const iterable = api.ticks.subscribe({ tag }, { signal: AbortSignal.abort() })
    const outcome = await within(
      (async () => {
        try {
          for await (const _ of iterable) return 'got an event'
          return 'done'
        } catch (error) {
          return error
        }
      })(),
      'the loop over an aborted subscription to end',
      1_000,
    )
    if (outcome !== 'done') {
      expect(outcome).toBeInstanceOf(RpcError)
      expect((outcome as RpcError).code).toBe('CANCELLED')
    }
    expect(iterable.state).toBe('ended')
    expect(await api.greet.query('after')).toBe('hello after')
    expect(runs.has(tag)).toBe(false)
  })
})

describe('output validation', () => {
  it('an event that fails the output schema ends the subscription with a masked INTERNAL error, and the generator finally runs', async () => {
    const { api } = await setup()
    const tag = newTag('checked')
    const rec = record<{ n: number }>((e) => String(e.n))
    api.checked.subscribe({ tag }, rec.handlers)
    expect(await within(rec.ended, 'the subscription to end')).toBe('error')
    expect(rec.log).toEqual(['started', 'data:1', 'data:2', 'error:INTERNAL'])
    const error = rec.errors[0]!
    expect(error).toBeInstanceOf(RpcError)
    expect(error.code).toBe('INTERNAL')
    // The issues stay on the server.
    expect(error.data).toBeUndefined()
    expect(error.message).not.toMatch(/secret|three|expected|Expected/)
    const run = await runOf(tag)
    await waitUntil(() => run.finished, 'the generator finally to run')
    expect(run.abortedInFinally).toBe(true)
    expect(await api.greet.query('alive')).toBe('hello alive')
  })

  it('iterator form: the loop rejects with INTERNAL after the valid events', async () => {
    const { api } = await setup()
    const tag = newTag('checked')
    const { values, error } = await drain(api.checked.subscribe({ tag }))
    expect(values).toEqual([{ n: 1 }, { n: 2 }])
    expect(error).toBeInstanceOf(RpcError)
    expect((error as RpcError).code).toBe('INTERNAL')
    await waitUntil(() => runs.get(tag)?.finished === true, 'the generator finally to run')
  })
})

describe('errors', () => {
  it('an input that fails validation is onError BAD_REQUEST with the issues, with no onStarted, and the resolver never runs', async () => {
    const { api } = await setup()
    const before = strictRuns
    const rec = record<number>()
    const sub = api.strict.subscribe({ n: 1.5 }, rec.handlers)
    expect(await within(rec.ended, 'the subscription to fail')).toBe('error')
    expect(rec.log).toEqual(['error:BAD_REQUEST'])
    const error = rec.errors[0]!
    expect(error).toBeInstanceOf(RpcError)
    expect((error.data as { issues: { path: unknown[] }[] }).issues[0]!.path).toEqual(['n'])
    expect(sub.state).toBe('ended')
    expect(strictRuns).toBe(before)
  })

  it('an RpcError thrown inside the generator reaches onError with its code, after the events before it', async () => {
    const { api } = await setup()
    const tag = newTag('fails')
    const rec = record<string>((s) => s)
    api.fails.subscribe({ tag, kind: 'rpc' }, rec.handlers)
    expect(await within(rec.ended, 'the subscription to fail')).toBe('error')
    expect(rec.log).toEqual(['started', 'data:before', 'error:FORBIDDEN'])
    expect(rec.errors[0]!.message).toBe('not your feed')
    await waitUntil(() => runs.get(tag)?.finished === true, 'the generator finally to run')
    expect(runs.get(tag)!.signal.aborted).toBe(true)
  })

  it('a plain Error thrown inside the generator reaches onError as a masked INTERNAL', async () => {
    const { api } = await setup()
    const tag = newTag('fails')
    const rec = record<string>((s) => s)
    api.fails.subscribe({ tag, kind: 'plain' }, rec.handlers)
    expect(await within(rec.ended, 'the subscription to fail')).toBe('error')
    expect(rec.log).toEqual(['started', 'data:before', 'error:INTERNAL'])
    const error = rec.errors[0]!
    expect(error.message).toBe('Internal server error')
    expect(error.message).not.toContain('hunter2')
    expect(error.data).toBeUndefined()
  })

  it('iterator form: a thrown RpcError rejects the loop with that code', async () => {
    const { api } = await setup()
    const { values, error } = await drain(api.fails.subscribe({ tag: newTag('fails'), kind: 'rpc' }))
    expect(values).toEqual(['before'])
    expect(error).toBeInstanceOf(RpcError)
    expect((error as RpcError).code).toBe('FORBIDDEN')
  })
})

describe('routing over the raw protocol', () => {
  it('subscribe on a query path is METHOD_NOT_SUPPORTED; on an unknown path NOT_FOUND; the connection lives', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url, { user: 'raw' })
    peer.send({ type: 'subscribe', id: 1, path: 'greet', input: 'x' })
    peer.send({ type: 'subscribe', id: 2, path: 'nope.nothing' })
    peer.send({ type: 'subscribe', id: 3, path: 'nested' })
    const e1 = await peer.next((m) => m.id === 1)
    const e2 = await peer.next((m) => m.id === 2)
    const e3 = await peer.next((m) => m.id === 3)
    expect(e1).toMatchObject({ type: 'error', id: 1, code: 'METHOD_NOT_SUPPORTED' })
    expect(e2).toMatchObject({ type: 'error', id: 2, code: 'NOT_FOUND' })
    expect(e3).toMatchObject({ type: 'error', id: 3, code: 'NOT_FOUND' })
    // Still usable, ids included (a refused subscribe does not hold its id).
    peer.send({ type: 'call', id: 1, method: 'query', path: 'greet', input: 'again' })
    expect(await peer.next((m) => m.type === 'result' && m.id === 1)).toEqual({ type: 'result', id: 1, data: 'hello again' })
  })

  it('a call to a subscription path is METHOD_NOT_SUPPORTED, as a query and as a mutation', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'call', id: 10, method: 'query', path: 'count', input: { to: 1, tag: 'x' } })
    peer.send({ type: 'call', id: 11, method: 'mutation', path: 'count', input: { to: 1, tag: 'x' } })
    expect(await peer.next((m) => m.id === 10)).toMatchObject({ type: 'error', code: 'METHOD_NOT_SUPPORTED' })
    expect(await peer.next((m) => m.id === 11)).toMatchObject({ type: 'error', code: 'METHOD_NOT_SUPPORTED' })
  })

  it('unsubscribe of an unknown id, or of a call id, is ignored and the connection stays usable', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    peer.send({ type: 'unsubscribe', id: 999 })
    peer.send({ type: 'call', id: 5, method: 'query', path: 'greet', input: 'a' })
    peer.send({ type: 'unsubscribe', id: 5 })
    peer.send({ type: 'ping' })
    await peer.next((m) => m.type === 'pong')
    expect(await peer.next((m) => m.id === 5)).toEqual({ type: 'result', id: 5, data: 'hello a' })
    const tag = newTag('count')
    peer.send({ type: 'subscribe', id: 6, path: 'count', input: { to: 2, tag } })
    await peer.next((m) => m.id === 6 && m.type === 'complete')
    expect(typesFor(peer, 6)).toEqual(['started', 'data', 'data', 'complete'])
    expect(peer.messages.filter((m) => m.type === 'error')).toEqual([])
    expect(peer.ws.readyState).toBe(peer.ws.OPEN)
  })

  it('a subscription speaks started, data with eventId (and meta for rich types), complete', async () => {
    const { url } = await setup()
    const peer = await readyPeer(url)
    const tag = newTag('count')
    peer.send({ type: 'subscribe', id: 7, path: 'count', input: { to: 2, tag } })
    await peer.next((m) => m.id === 7 && m.type === 'complete')
    const frames = peer.messages.filter((m) => m.id === 7)
    expect(frames.map((m) => m.type)).toEqual(['started', 'data', 'data', 'complete'])
    expect(frames[1]).toMatchObject({ eventId: '1', data: { n: 1, at: day(1).toISOString() } })
    expect(frames[1]!.meta).toBeDefined()
    expect(frames[2]).toMatchObject({ eventId: '2', data: { n: 2 } })
  })
})

describe('resync', () => {
  it('handler form: onResync between the events, never onError or onData, and the subscription carries on to complete', async () => {
    const { api } = await setup()
    const rec = record<string>((s) => s)
    api.resyncing.subscribe(undefined, rec.handlers)
    expect(await within(rec.ended, 'the subscription to complete')).toBe('complete')
    expect(rec.log).toEqual(['started', 'data:a', 'resync', 'data:b', 'complete'])
  })

  it('handler form: the subscription stays live after a resync', async () => {
    const { api } = await setup()
    const tag = newTag('resync-live')
    const rec = record<string>((s) => s)
    const sub = api.resyncThenLive.subscribe({ tag }, rec.handlers)
    await waitUntil(() => rec.log.length === 4, 'a, resync, b')
    expect(rec.log).toEqual(['started', 'data:a', 'resync', 'data:b'])
    expect(sub.state).toBe('started')
    expect(runs.get(tag)!.finished).toBe(false)
    sub.unsubscribe()
    await waitUntil(() => runs.get(tag)!.finished, 'the generator to finish')
  })

  it('iterator form: a value for which isResync() is true, between the events', async () => {
    const { api } = await setup()
    const iterable = api.resyncing.subscribe()
    expectTypeOf(iterable).toEqualTypeOf<SubscriptionIterable<string | ResyncSignal>>()
    const { values, error } = await drain(iterable)
    expect(error).toBeUndefined()
    expect(values.map((v) => (isResync(v) ? 'resync' : v))).toEqual(['a', 'resync', 'b'])
    expect(iterable.lastEventId).toBe('2')
  })
})

describe('a throwing onData handler', () => {
  /**
   * Routes uncaught exceptions to this test for its duration (vitest's own
   * listeners would report them as unhandled errors of the run).
   */
  function captureUncaught(): unknown[] {
    const caught: unknown[] = []
    const previous = process.listeners('uncaughtException')
    process.removeAllListeners('uncaughtException')
    const listener = (error: unknown) => caught.push(error)
    process.on('uncaughtException', listener)
    onTestFinished(() => {
      process.off('uncaughtException', listener)
      for (const l of previous) process.on('uncaughtException', l)
    })
    return caught
  }

  it('is rethrown as an uncaught exception, and other subscriptions and calls on the client keep working', async () => {
    const caught = captureUncaught()
    const { api } = await setup()
    const boom = new Error('handler bug')
    const throwingTag = newTag('ticks')
    const otherTag = newTag('ticks')
    let throwingCalls = 0
    const throwing = api.ticks.subscribe(
      { tag: throwingTag },
      {
        onData: () => {
          throwingCalls++
          throw boom
        },
      },
    )
    onTestFinished(() => throwing.unsubscribe())
    const other: number[] = []
    const otherSub = api.ticks.subscribe({ tag: otherTag }, { onData: (n) => other.push(n) })
    onTestFinished(() => otherSub.unsubscribe())

    await waitUntil(() => throwingCalls >= 1, 'the throwing handler to run')
    await waitUntil(() => caught.includes(boom), 'the handler error to surface as an uncaught exception')
    // The other subscription goes on receiving, in order, and calls still work.
    const seenBefore = other.length
    await waitUntil(() => other.length >= seenBefore + 3, 'more events on the other subscription')
    expect(other).toEqual(other.map((_, i) => i))
    expect(await within(api.greet.query('ok'), 'a call after the handler threw')).toBe('hello ok')
    // A new subscription works too.
    const { values } = await drain(api.count.subscribe({ to: 3, tag: newTag('count') }))
    expect(values.map((e) => e.n)).toEqual([1, 2, 3])
    expect(api.$connection.state).toBe('open')
    expect(caught.every((e) => e === boom)).toBe(true)
  })

  it('does not end its own subscription: later events still reach the handler, like a DOM event listener', async () => {
    const caught = captureUncaught()
    const { api } = await setup()
    const boom = new Error('only the first time')
    const seen: number[] = []
    const sub = api.ticks.subscribe(
      { tag: newTag('ticks') },
      {
        onData: (n) => {
          seen.push(n)
          if (seen.length === 1) throw boom
        },
      },
    )
    onTestFinished(() => sub.unsubscribe())
    await waitUntil(() => seen.length >= 4, 'events after the throwing one')
    expect(seen.slice(0, 4)).toEqual([0, 1, 2, 3])
    expect(sub.state).toBe('started')
    await waitUntil(() => caught.includes(boom), 'the handler error to surface as an uncaught exception')
  })
})

// ---------------------------------------------------------------------------
// The smoke test: the two client forms and a channel resume in a few lines,
// on a router of its own.

const smokeRpc = initRpc.create()
const smokeChannel = createChannel<{ text: string }>({ history: 10 })
let smokeLive = 0
const smokeRouter = smokeRpc.router({
  count: smokeRpc.procedure.input(z.object({ to: z.number() })).subscription(async function* ({ input, lastEventId }) {
    smokeLive++
    try {
      for (let n = Number(lastEventId ?? 0) + 1; n <= input.to; n++) yield tracked(String(n), { n, at: new Date(n) })
    } finally {
      smokeLive--
    }
  }),
  feed: smokeRpc.procedure.subscription(({ lastEventId, signal }) => smokeChannel.subscribe({ lastEventId, signal })),
})

describe('subscriptions smoke', () => {
  it('streams, completes and unsubscribes', async () => {
    const { url } = await startServer({ router: smokeRouter })
    const api = connectClient<typeof smokeRouter>(url)
    const got: number[] = []
    for await (const ev of api.count.subscribe({ to: 5 })) {
      expectTypeOf(ev).toEqualTypeOf<{ n: number; at: Date }>()
      expect(ev.at).toBeInstanceOf(Date)
      got.push(ev.n)
    }
    expect(got).toEqual([1, 2, 3, 4, 5])
    const done = new Promise<number[]>((resolve) => {
      const seen: number[] = []
      api.count.subscribe({ to: 3 }, { onData: (e) => seen.push(e.n), onComplete: () => resolve(seen) })
    })
    expect(await done).toEqual([1, 2, 3])
    expect(smokeLive).toBe(0)
  })

  it('channel resume and resync', async () => {
    const { url } = await startServer({ router: smokeRouter })
    const api = connectClient<typeof smokeRouter>(url)
    const first = smokeChannel.publish({ text: 'a' })
    smokeChannel.publish({ text: 'b' })
    const events: unknown[] = []
    const it = api.feed.subscribe(undefined, { lastEventId: first })
    for await (const ev of it) {
      expectTypeOf(ev).toEqualTypeOf<{ text: string } | ResyncSignal>()
      events.push(isResync(ev) ? 'resync' : ev.text)
      if (events.length === 1) smokeChannel.publish({ text: 'c' })
      if (events.length === 2) break
    }
    expect(events).toEqual(['b', 'c'])
    const resyncs: string[] = []
    await new Promise<void>((resolve) => {
      const sub = api.feed.subscribe(undefined, { lastEventId: 'nope.1', onResync: () => { resyncs.push('r'); sub.unsubscribe(); resolve() } })
    })
    expect(resyncs).toEqual(['r'])
  })
})
