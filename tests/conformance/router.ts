import { z } from 'zod'
import { clientProcedure, createChannel, defineClientRouter, initRpc, RpcError, stream, type inferPeer, type RpcErrorCode } from '@wirecall/core'
import type { CreateContextOptions, RpcServerOptions } from '@wirecall/server'
import { untilAborted } from '../helpers/async'

/**
 * The conformance server: the fixed router every transcript in
 * docs/protocol/conformance/ talks to, and the server options a transcript
 * may set. docs/protocol/conformance/README.md describes each procedure,
 * so that an implementer can build the same server in another language;
 * keep the two in step.
 *
 * Every server gets its own state (counters, the channel), so a transcript
 * always starts from the same place: no event published, counter at 0.
 */

/** The context: who `createContext` says the connection is. */
export interface ConformanceContext {
  user: string
}

/** Events of `feed.events`. */
export interface FeedEvent {
  text: string
}

/** How many events `feed.events` can replay to a resuming subscriber. */
export const FEED_HISTORY = 3

/**
 * The client procedures the conformance server knows (its `clientRouter`):
 * what a transcript's client may name in `handlers`, and the server may call.
 */
export const conformanceClientRouter = defineClientRouter({
  ui: {
    /** `{ text }` in, a boolean out: an answer of another type is `INTERNAL` on the server. */
    confirm: clientProcedure.input(z.object({ text: z.string() })).output(z.boolean()),
    /** `{ text }` in; any answer. */
    notify: clientProcedure.input(z.object({ text: z.string() })),
  },
})

/** A path the conformance client router does not declare: called to show that advertising it is not enough. */
const undeclaredClientRouter = defineClientRouter({ ui: { share: clientProcedure } })

const rpc = initRpc.context<ConformanceContext>().peer<typeof conformanceClientRouter>().create()

/** Waits `ms`, or rejects as soon as `signal` is aborted, calling `onAbort` first (synchronously, as the abort happens). */
function delay(ms: number, signal: AbortSignal, aborted: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      aborted()
      return reject(signal.reason as Error)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      aborted()
      reject(signal.reason as Error)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A fresh router with its own state. */
export function createConformanceRouter() {
  const feed = createChannel<FeedEvent>({ history: FEED_HISTORY, epoch: 'conf' })
  let counter = 0
  let cancelledCalls = 0

  const router = rpc.router({
    /** Returns its input, as is. (A schema that accepts anything: a procedure with no input schema gets `undefined`.) */
    echo: rpc.procedure.input(z.unknown()).query(({ input }) => input),
    /** The same, as a mutation. */
    echoMutation: rpc.procedure.input(z.unknown()).mutation(({ input }) => input),
    /** `a + b`; the schema refuses anything else with BAD_REQUEST and `data.issues`. */
    add: rpc.procedure.input(z.object({ a: z.number(), b: z.number() })).query(({ input }) => input.a + input.b),
    /** Throws the error it is given. A code outside the protocol's list is masked as INTERNAL. */
    fail: rpc.procedure
      .input(z.object({ code: z.string(), message: z.string(), data: z.unknown().optional() }))
      .query(({ input }) => {
        throw new RpcError(input.code as RpcErrorCode, input.message, input.data === undefined ? {} : { data: input.data })
      }),
    /** Throws something that is not an RpcError: the caller sees INTERNAL, the message withheld. */
    crash: rpc.procedure.query(() => {
      throw new Error('a secret the caller must not see')
    }),
    /** Answers `{ waitedMs }` after `ms`; a call stopped before that (cancel, connection closed) is counted in `stats`. */
    slow: rpc.procedure.input(z.object({ ms: z.number().int().min(0) })).query(async ({ input, signal }) => {
      // Counted as the abort happens, so a call in the next message already sees it in `stats`.
      await delay(input.ms, signal, () => cancelledCalls++)
      return { waitedMs: input.ms }
    }),
    /** What this server has seen: slow calls stopped early, live subscribers of `feed.events`. */
    stats: rpc.procedure.query(() => ({ cancelledCalls, feedSubscribers: feed.subscriberCount })),
    /** The `user` of the connection's context (see createContext). */
    whoami: rpc.procedure.query(({ ctx }) => ctx.user),
    counter: {
      /** Adds `by` to the server's counter and returns the new value. Call it with an idempotencyKey. */
      increment: rpc.procedure.input(z.object({ by: z.number().int() })).mutation(({ input }) => {
        counter += input.by
        return { value: counter }
      }),
      /** The counter's value. */
      get: rpc.procedure.query(() => ({ value: counter })),
    },
    /** Yields the numbers 0 to count - 1 (untracked), then completes, or, with `fail`, ends with that error. */
    ticks: rpc.procedure
      .input(z.object({ count: z.number().int().min(0).max(100), fail: z.object({ code: z.string(), message: z.string() }).optional() }))
      .subscription(async function* ({ input }) {
        for (let i = 0; i < input.count; i++) yield i
        if (input.fail !== undefined) throw new RpcError(input.fail.code as RpcErrorCode, input.fail.message)
      }),
    feed: {
      /** Publishes `{ text }` to the feed; returns the event's id. */
      publish: rpc.procedure.input(z.object({ text: z.string() })).mutation(({ input }) => feed.publish({ text: input.text })),
      /** The feed's events (tracked), resumable from `lastEventId` while the last FEED_HISTORY events cover it. */
      events: rpc.procedure.subscription(({ lastEventId, signal }) => feed.subscribe({ lastEventId, signal })),
    },
    peer: {
      /**
       * Calls the client's `ui.confirm` with `{ text }` (waiting `timeoutMs`, or the server's default of 10 000) and returns its answer;
       * fails with the peer call's error. Passes its own signal: cancelling this call cancels the server's.
       */
      confirm: rpc.procedure
        .input(z.object({ text: z.string(), timeoutMs: z.number().int().min(1).optional() }))
        .mutation(({ input, peer, signal }) => peer.ui.confirm.call({ text: input.text }, { timeoutMs: input.timeoutMs, signal })),
      /** Calls the client's `ui.notify` with `{ text }` and returns what it answered, as it came. */
      notify: rpc.procedure.input(z.object({ text: z.string() })).mutation(({ input, peer }) => peer.ui.notify.call({ text: input.text })),
      /** Calls `ui.share`, which the client router does not declare: `NOT_IMPLEMENTED` even from a client that advertises it. */
      undeclared: rpc.procedure.mutation(({ peer }) => (peer as unknown as inferPeer<typeof undeclaredClientRouter>).ui.share.call()),
    },
    streams: {
      /** Sums a stream of numbers. Window 2, so one credit goes back per chunk read; at most 5 chunks. */
      sum: rpc.procedure.input(stream(z.number(), { window: 2, maxChunks: 5 })).mutation(async ({ input }) => {
        let sum = 0
        for await (const n of input) sum += n
        return sum
      }),
      /** Joins a stream of strings. The default window (16: credit goes back 8 at a time); at most 100 bytes of chunk messages. */
      concat: rpc.procedure.input(stream(z.string(), { maxBytes: 100 })).mutation(async ({ input }) => {
        let text = ''
        for await (const s of input) text += s
        return text
      }),
      /** Counts the chunks of a stream that must end within 200 ms of its first credit. Window 2. */
      count: rpc.procedure.input(stream(z.unknown(), { window: 2, maxDurationMs: 200 })).mutation(async ({ input }) => {
        let count = 0
        for await (const _ of input) count++
        return count
      }),
      /** Returns the first chunk and stops reading (`undefined`, no `data`, for an empty stream). Window 2. */
      first: rpc.procedure.input(stream(z.unknown(), { window: 2 })).mutation(async ({ input }) => {
        for await (const chunk of input) return chunk
        return undefined
      }),
      /** Never reads its stream (window 2): it waits for the call to end some other way (cancel, the connection), and answers nothing itself. */
      stall: rpc.procedure.input(stream(z.unknown(), { window: 2 })).mutation(async ({ signal }) => {
        await untilAborted(signal)
        throw RpcError.from(signal.reason)
      }),
      /**
       * Duplex: each string chunk comes back as the event `{ echo: chunk }` (untracked); once the client's
       * stream has ended, one more event `{ received: count }`, then `complete`. Window 4: credit goes back 2 at a time.
       */
      echo: rpc.procedure.input(stream(z.string(), { window: 4 })).subscription(async function* ({ input }) {
        let received = 0
        for await (const s of input) {
          received++
          yield { echo: s }
        }
        yield { received }
      }),
    },
  })
  return router
}

export type ConformanceRouter = ReturnType<typeof createConformanceRouter>

/**
 * The connection parameters: `{ user?: string, token?: string }`, any other
 * value read as `{}`. Token "bad" is refused (4401 at init, UNAUTHORIZED at
 * reinit), "forbidden" too (4403, FORBIDDEN); the context's user is `user`,
 * or "anonymous".
 */
export function createContext({ connectionParams }: CreateContextOptions): ConformanceContext {
  const params = typeof connectionParams === 'object' && connectionParams !== null ? (connectionParams as Record<string, unknown>) : {}
  if (params.token === 'bad') throw new RpcError('UNAUTHORIZED', 'invalid token')
  if (params.token === 'forbidden') throw new RpcError('FORBIDDEN', 'forbidden')
  return { user: typeof params.user === 'string' ? params.user : 'anonymous' }
}

/** The server options a transcript may set (its `server` object); every other option keeps its default. */
export interface ConformanceServerConfig {
  initTimeoutMs?: number
  maxPayload?: number
  maxConnectionParamsBytes?: number
  rateLimit?: { messagesPerSecond: number; burst: number }
}

const configKeys = new Set(['initTimeoutMs', 'maxPayload', 'maxConnectionParamsBytes', 'rateLimit'])

/** The server options for a transcript's `server` object; throws on an option the README does not define. */
export function conformanceServerOptions(config: Record<string, unknown> = {}): RpcServerOptions<ConformanceRouter> {
  for (const key of Object.keys(config)) {
    if (!configKeys.has(key)) throw new Error(`unknown server option "${key}" (see docs/protocol/conformance/README.md)`)
  }
  const { rateLimit, ...rest } = config as ConformanceServerConfig
  return {
    router: createConformanceRouter(),
    clientRouter: conformanceClientRouter,
    createContext,
    ...rest,
    ...(rateLimit === undefined ? {} : { rateLimit: { messagesPerSecond: rateLimit.messagesPerSecond, burst: rateLimit.burst } }),
  }
}
