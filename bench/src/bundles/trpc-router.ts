import { initTRPC } from '@trpc/server'
import superjson from 'superjson'
import { z } from 'zod'

/**
 * The router the tRPC bundle entry is typed against (tRPC v11, superjson
 * transformer, as the wsLink needs). The entry imports only its type, so
 * none of this (nor @trpc/server's router code, nor zod) is bundled:
 * bundle-size.ts checks that this file is not an input of the bundle.
 */

const t = initTRPC.create({ transformer: superjson })

const appRouter = t.router({
  echo: t.procedure
    .input(z.object({ id: z.number(), name: z.string(), active: z.boolean(), score: z.number(), tags: z.array(z.string()) }))
    .query(({ input }) => input),
  publish: t.procedure.input(z.object({ count: z.number(), burst: z.number() })).mutation(({ input }) => ({ published: input.count })),
  feed: t.procedure.subscription(async function* () {
    yield { seq: 0, value: 'event-0' }
  }),
})

/** What the bundle entry's client is typed with. */
export type TrpcBundleRouter = typeof appRouter
