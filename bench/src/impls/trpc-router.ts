/**
 * The tRPC v11 router of the benchmark, written the way tRPC's docs show for
 * WebSockets: superjson transformer, zod inputs, async-generator
 * subscriptions, and an EventEmitter read with `on(ee, 'event', { signal })`
 * for the shared feed.
 */
import { EventEmitter, on } from 'node:events'
import { initTRPC } from '@trpc/server'
import superjson from 'superjson'
import { burstPacer, publishedEvent } from './publish-events'
import { echoInputSchema, echoTextInputSchema, nextMacrotask, publishInputSchema, streamInputSchema } from './schemas'
import { pushEvent, type PushEvent } from '../contract'

const t = initTRPC.create({ transformer: superjson })


/**
 * Makes the router with its own feed emitter, so each server the benchmark
 * starts has its own subscribers.
 */
export function createTrpcRouter() {
  const feed = new EventEmitter()
  // Every `feed` subscriber adds a listener; the fan-out case has 200 of them,
  // and Node warns past 10. Lifting the limit is what a user does on seeing
  // that warning; it changes nothing else.
  feed.setMaxListeners(0)

  return t.router({
    echo: t.procedure.input(echoInputSchema).query(({ input }) => input),

    echoText: t.procedure.input(echoTextInputSchema).query(({ input }) => input),

    stream: t.procedure.input(streamInputSchema).subscription(async function* ({ input }) {
      for (let seq = 0; seq < input.count; seq++) yield pushEvent(seq)
    }),

    feed: t.procedure.subscription(async function* ({ signal }) {
      // `on` registers its listener when the generator first runs, which the
      // ws adapter does in the same tick as it sends `started`: an event
      // published after the client sees `started` reaches this subscriber.
      // `signal` is optional in tRPC's types; it is always set by the ws adapter.
      const options = signal === undefined ? {} : { signal }
      for await (const args of on(feed, 'event', options)) {
        // node:events types `on`'s values as `any[]`; `publish` emits one PushEvent.
        const [event] = args as [PushEvent]
        yield event
      }
    }),

    publish: t.procedure.input(publishInputSchema).mutation(async ({ input }) => {
      const paced = burstPacer(input)
      for (let seq = 0; seq < input.count; ) {
        const end = Math.min(input.count, seq + input.burst)
        for (; seq < end; seq++) feed.emit('event', publishedEvent(seq, input))
        if (seq < input.count) await (paced?.(seq) ?? nextMacrotask())
      }
      return { published: input.count }
    }),
  })
}

/** The router's type, for the typed client. */
export type TrpcRouter = ReturnType<typeof createTrpcRouter>
