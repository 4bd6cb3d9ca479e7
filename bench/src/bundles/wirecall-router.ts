import { initRpc } from '@wirecall/core'
import { z } from 'zod'

/**
 * The router the wirecall bundle entry is typed against. The entry imports
 * only its type, so none of this (nor zod) is bundled: bundle-size.ts
 * checks that this file is not an input of the bundle.
 */

const rpc = initRpc.create()

const appRouter = rpc.router({
  echo: rpc.procedure
    .input(z.object({ id: z.number(), name: z.string(), active: z.boolean(), score: z.number(), tags: z.array(z.string()) }))
    .query(({ input }) => input),
  publish: rpc.procedure.input(z.object({ count: z.number(), burst: z.number() })).mutation(({ input }) => ({ published: input.count })),
  feed: rpc.procedure.subscription(async function* () {
    yield { seq: 0, value: 'event-0' }
  }),
})

/** What the bundle entry's client is typed with. */
export type WirecallBundleRouter = typeof appRouter
