import { createChannel, initRpc, tracked } from '@wirecall/core'
import { z } from 'zod'

/**
 * A router with one procedure of each kind and rich types in and out, for
 * the type tests of the binding (and the unit tests that need a client's
 * shape). Nothing here runs a server.
 */

const rpc = initRpc.create()

export interface Post {
  id: string
  title: string
  at: Date
}

export interface Price {
  symbol: string
  price: number
  at: Date
}

export interface Message {
  id: number
  text: string
}

const prices = createChannel<Price>({ history: 10 })

export const appRouter = rpc.router({
  health: rpc.procedure.query(() => 'ok' as const),
  post: {
    byId: rpc.procedure.input(z.object({ id: z.string() })).query(({ input }): Post => ({ id: input.id, title: 't', at: new Date() })),
    add: rpc.procedure.input(z.object({ title: z.string() })).mutation(({ input }): Post => ({ id: '1', title: input.title, at: new Date() })),
    totals: rpc.procedure.input(z.object({ ids: z.set(z.bigint()) })).query(() => new Map<bigint, number>()),
  },
  prices: rpc.procedure
    .input(z.object({ symbol: z.string() }))
    .subscription(({ lastEventId, signal }) => prices.subscribe({ lastEventId, signal })),
  messages: rpc.procedure.input(z.object({ room: z.string() })).subscription(async function* () {
    yield tracked('1', { id: 1, text: 'hi' } satisfies Message)
  }),
  ticks: rpc.procedure.subscription(async function* () {
    yield 1
  }),
})

export type AppRouter = typeof appRouter
