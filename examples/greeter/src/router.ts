import { initRpc, RpcError } from '@wirecall/core'
import { z } from 'zod'

/** What every call can see: who is calling, from `connectionParams`. */
export interface Context {
  name?: string
}

const rpc = initRpc.context<Context>().create()

/** Procedures after this middleware can rely on `ctx.name`. */
const named = rpc.procedure.use(({ ctx, next }) => {
  if (ctx.name === undefined) throw new RpcError('UNAUTHORIZED', 'say who you are in connectionParams')
  return next({ ctx: { name: ctx.name } })
})

let visits = 0

export const appRouter = rpc.router({
  greet: rpc.procedure
    .input(z.object({ name: z.string().trim().min(1).max(40) }))
    .query(({ input }) => ({ text: `Hello, ${input.name}!`, at: new Date() })),
  whoami: named.query(({ ctx }) => ctx.name),
  visit: rpc.procedure.mutation(() => ++visits),
  slowEcho: rpc.procedure
    .input(z.object({ text: z.string(), delayMs: z.number().int().min(0).max(10_000) }))
    .query(async ({ input, signal }) => {
      // The signal aborts when the caller cancels or disconnects: stop the work too.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(resolve, input.delayMs)
        signal.addEventListener('abort', () => {
          clearTimeout(timer)
          reject(signal.reason)
        })
      })
      return input.text
    }),
})

/** The type a client imports: `import type { AppRouter } from './router'`. */
export type AppRouter = typeof appRouter
