import type { MiddlewareFunction } from '@wirecall/core'
import { RpcError } from '@wirecall/core'
import { z } from 'zod'
import { rpc, type User } from '../common'

export * from '../common'

/** The page's `src/rpc.ts` context. */
type Context = { user?: User }

/** The schema of "Validate input with .input()". */
export const PostInput = z.object({ title: z.string().trim().min(1).max(120), body: z.string().max(10_000) })

/** The builders of "Require a signed-in user". */
export const publicProcedure = rpc.procedure
export const authed = rpc.procedure.use(({ ctx, next }) => {
  if (ctx.user === undefined) throw new RpcError('UNAUTHORIZED', 'sign in first')
  return next({ ctx: { user: ctx.user } })
})

/** The parts that "Define a router" and mergeRouters() put together. */
export const health = rpc.procedure.query(() => 'ok' as const)
export const postRouter = rpc.router({ post: { list: health } })
export const userRouter = rpc.router({ user: { me: health } })

/** The payment service of "Declare a mutation idempotent". */
export declare const payments: { charge(orderId: string, idempotencyKey: string | undefined): Promise<{ receipt: string }> }

/** The outline of "Procedures": one middleware, one schema, one resolver. */
export declare const middleware: MiddlewareFunction<Context, {}, object>
export declare const audit: MiddlewareFunction<Context, {}, object>
export declare const schema: z.ZodObject<{ id: z.ZodString }>
export declare const resolver: (opts: { input: { id: string } }) => { id: string }

/** What "Context across routers" has in its context. */
export interface Database {
  count(): Promise<number>
}

/** What a database driver throws for a duplicate key. */
export declare class UniqueViolationError extends Error {}
