import { z } from 'zod'
import { createChannel, initRpc, RpcError, type RpcErrorCode } from '@wirecall/core'
import type { CreateContextOptions, RpcServerOptions } from '@wirecall/server'

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

const rpc = initRpc.context<ConformanceContext>().create()

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
    createContext,
    ...rest,
    ...(rateLimit === undefined ? {} : { rateLimit: { messagesPerSecond: rateLimit.messagesPerSecond, burst: rateLimit.burst } }),
  }
}
