import { z } from 'zod'
import { createChannel, initRpc, RpcError, tracked, type Channel } from '@wirecall/core'
import { sleep, startServer, untilAborted } from '../../helpers/harness'

/** An event of the fixture's channel. */
export interface FeedEvent {
  seq: number
  at: Date
}

/**
 * What the fixture server lets a test see from the inside: the mutations
 * that ran, the generators alive and ended, the calls cancelled.
 */
export interface ServerSide {
  /** Titles of every `post.add` that ran. */
  readonly added: string[]
  /** `ticks` generators started, and those whose `finally` ran. */
  readonly ticks: { started: number; ended: number }
  /** `slow` calls whose signal aborted (cancelled by the client). */
  readonly slowCancelled: { count: number }
  /** Runs of `flaky` (the first one hangs until its connection goes) and of `post.hang` (each hangs). */
  readonly runs: { flaky: number; hang: number }
  /** The `connectionParams` of every connection, as `createContext` got them. */
  readonly params: unknown[]
  /** Why each subscription ended, by path (`unsubscribed`: the client said so; `closed`: its connection went). */
  readonly subscriptionEnds: { path: string; reason: string }[]
}

/** The fixture's router, on a fresh channel and record of what ran. */
function fixtureRouter(channel: Channel<FeedEvent>, side: ServerSide) {
  const rpc = initRpc.context<{ user: string | undefined }>().create()
  return rpc.router({
    greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) => `hello ${input.name}`),
    rich: rpc.procedure.query(() => ({
      at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      tags: new Map([['a', 1]]),
      big: 12345678901234567890n,
      seen: new Set([1, 2]),
      home: new URL('https://example.com/x'),
      none: undefined,
    })),
    whoami: rpc.procedure.query(({ ctx }) => ctx.user ?? 'anonymous'),
    fail: rpc.procedure.query(() => {
      throw new RpcError('CONFLICT', 'already there', { data: { id: 7 } })
    }),
    slow: rpc.procedure.query(async ({ signal }) => {
      await untilAborted(signal)
      side.slowCancelled.count++
      return 'late'
    }),
    flaky: rpc.procedure.query(async ({ signal }) => {
      if (++side.runs.flaky === 1) await untilAborted(signal)
      return `answered on try ${side.runs.flaky}`
    }),
    post: {
      hang: rpc.procedure.mutation(async ({ signal }) => {
        side.runs.hang++
        await untilAborted(signal)
      }),
      add: rpc.procedure.input(z.object({ title: z.string() })).mutation(({ input }) => {
        side.added.push(input.title)
        return { id: side.added.length, title: input.title }
      }),
    },
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => channel.subscribe({ lastEventId, signal })),
    three: rpc.procedure.subscription(async function* () {
      for (let n = 1; n <= 3; n++) yield tracked(String(n), { n })
    }),
    ticks: rpc.procedure.input(z.object({ everyMs: z.number() })).subscription(async function* ({ input, signal }) {
      side.ticks.started++
      try {
        for (let n = 1; !signal.aborted; n++) {
          yield { n }
          await sleep(input.everyMs, signal)
        }
      } finally {
        side.ticks.ended++
      }
    }),
  })
}

/**
 * A wirecall server on 127.0.0.1 (port 0) serving the fixture router, closed
 * after the test. `createContext` refuses the token `bad` (4401).
 */
export async function startFixtureServer(options: { history?: number } = {}) {
  const channel = createChannel<FeedEvent>({ history: options.history ?? 5 })
  const side: ServerSide = { added: [], ticks: { started: 0, ended: 0 }, slowCancelled: { count: 0 }, runs: { flaky: 0, hang: 0 }, params: [], subscriptionEnds: [] }
  const router = fixtureRouter(channel, side)
  const { url, port, server } = await startServer({
    router,
    instrumentation: [
      {
        onSubscription: (event) => {
          if (event.phase === 'end') side.subscriptionEnds.push({ path: event.path, reason: event.reason })
        },
      },
    ],
    createContext: ({ connectionParams }) => {
      side.params.push(connectionParams)
      const token = (connectionParams as { token?: unknown } | undefined)?.token
      if (token === 'bad') throw new RpcError('UNAUTHORIZED', 'sign in first')
      return { user: typeof token === 'string' ? `user-${token}` : undefined }
    },
  })
  /** Publishes events `from..to` (inclusive); returns their ids indexed by seq. */
  const publish = (from: number, to: number, ids: string[] = []): string[] => {
    for (let seq = from; seq <= to; seq++) ids[seq] = channel.publish({ seq, at: new Date(Date.UTC(2024, 0, 1) + seq * 1000) })
    return ids
  }
  return { url, port, server, channel, side, publish }
}
