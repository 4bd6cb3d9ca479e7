import { initRpc } from '@wirecall/core'
import { z } from 'zod'

/** The longest message `echo` accepts, in characters (after trimming). */
export const MAX_TEXT = 280

const rpc = initRpc.create()

export const appRouter = rpc.router({
  /**
   * Sends the text back with the server's clock. A query, not a mutation:
   * it changes nothing, so the client may safely send it again after a
   * dropped connection.
   */
  echo: rpc.procedure
    .input(z.object({ text: z.string().trim().min(1).max(MAX_TEXT) }))
    .query(({ input }) => ({ text: input.text, at: new Date() })),
})

/** The type a client imports: `import type { AppRouter } from './router'`. */
export type AppRouter = typeof appRouter
