import { createChannel, initRpc, RpcError, tracked, withPosition } from '@wirecall/core'
import { z } from 'zod'
import { untilAborted } from '../../helpers/async'

/**
 * The router the TanStack Query tests run against, with counters that show
 * what the server saw: calls that started and were aborted, subscriptions
 * opened and still open, mutations run. Each test makes its own, so nothing
 * leaks between tests.
 */

export interface Tick {
  n: number
}

export interface Post {
  id: string
  title: string
  at: Date
}

const Rich = z.union([z.bigint(), z.map(z.string(), z.number()), z.set(z.number()), z.object({ id: z.string() })])

export function createTestRouter(options: { history?: number } = {}) {
  const rpc = initRpc.create()
  const seen = {
    /** Inputs of `slow` calls that started, and of those whose signal aborted. */
    slowStarted: [] as string[],
    slowAborted: [] as string[],
    /** Inputs each `describe` call got, in order. */
    described: [] as unknown[],
    /** Subscriptions of `feed` and `ticks` opened, and those still running. */
    opened: 0,
    open: 0,
    /** Mutations that ran, by title. */
    added: [] as string[],
  }
  /** While set, `post.add` waits for it before it answers: a mutation the test holds in flight. */
  const control: { hold: Promise<void> | undefined } = { hold: undefined }
  const feed = createChannel<Tick>({ history: options.history ?? 100, epoch: 'feed' })
  const posts: Post[] = []

  /** Counts a subscription while its generator runs. */
  async function* counted<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    seen.opened++
    seen.open++
    try {
      yield* source
    } finally {
      seen.open--
    }
  }

  const router = rpc.router({
    slow: rpc.procedure.input(z.object({ id: z.string() })).query(async ({ input, signal }) => {
      seen.slowStarted.push(input.id)
      await untilAborted(signal)
      seen.slowAborted.push(input.id)
      throw new RpcError('CANCELLED', 'aborted')
    }),
    describe: rpc.procedure.input(Rich).query(({ input }) => {
      seen.described.push(input)
      return { kind: typeof input === 'object' ? input.constructor.name : typeof input, calls: seen.described.length }
    }),
    post: {
      list: rpc.procedure.query(() => [...posts]),
      add: rpc.procedure.input(z.object({ title: z.string() })).mutation(async ({ input }) => {
        seen.added.push(input.title)
        await control.hold
        const post = { id: String(posts.length + 1), title: input.title, at: new Date() }
        posts.push(post)
        return post
      }),
      fail: rpc.procedure.input(z.object({ title: z.string() })).mutation(() => {
        throw new RpcError('CONFLICT', 'taken')
      }),
    },
    /** Ticks published by the test through `feed.publish`, resumable within `history`. */
    feed: rpc.procedure.subscription(({ lastEventId, signal }) => {
      const events = feed.subscribe({ lastEventId, signal })
      return counted(events)
    }),
    /** Completes after `count` events. */
    finite: rpc.procedure.input(z.object({ count: z.number() })).subscription(async function* ({ input }) {
      for (let n = 1; n <= input.count; n++) yield tracked(String(n), { n })
    }),
    /** Fails at once. */
    denied: rpc.procedure.subscription(async function* () {
      yield* []
      throw new RpcError('FORBIDDEN', 'not for you')
    }),
    /** Starts (with a position) and then waits: a subscription that is live with no event yet. */
    quiet: rpc.procedure.subscription(({ signal }) => {
      const quiet = counted(
        (async function* () {
          await untilAborted(signal)
        })(),
      )
      withPosition(quiet, () => '0') // marks the generator itself, which is also its iterator
      return quiet
    }),
  })
  return { router, seen, feed, posts, control }
}

export type TestRouter = ReturnType<typeof createTestRouter>['router']
