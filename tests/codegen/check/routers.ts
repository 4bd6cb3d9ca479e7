/**
 * The router every `api check` case starts from: zod validators on most
 * sides, and a query and a subscription without any (their schemas come
 * from the TypeScript types). Each case edits one thing.
 */
export const BASE_ROUTER = `import { initRpc, tracked } from '@wirecall/core'
import { z } from 'zod'

const rpc = initRpc.create()

export const appRouter = rpc.router({
  greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input }) => \`hello \${input.name}\`),
  post: {
    add: rpc.procedure
      .input(z.object({ title: z.string().min(1), status: z.enum(['draft', 'published']) }))
      .output(z.object({ id: z.string(), title: z.string(), state: z.enum(['open', 'closed']) }))
      .mutation(({ input }) => ({ id: '1', title: input.title, state: 'open' as const })),
    list: rpc.procedure
      .input(z.object({ limit: z.number().int().min(1).max(100), tag: z.string().nullable(), slug: z.string().regex(/^[a-z]+$/) }))
      .query(() => [] as string[]),
    strict: rpc.procedure.input(z.strictObject({ id: z.string(), note: z.string().optional() })).mutation(() => true),
    remove: rpc.procedure.idempotent().input(z.object({ id: z.string() })).mutation(() => true),
    result: rpc.procedure
      .output(z.discriminatedUnion('kind', [z.object({ kind: z.literal('ok'), value: z.number() }), z.object({ kind: z.literal('error'), message: z.string() })]))
      .query(() => ({ kind: 'ok' as const, value: 1 })),
  },
  plain: rpc.procedure.query(() => ({ ok: true, count: 1 })),
  ticks: rpc.procedure.subscription(async function* () {
    yield tracked('1', { n: 1 })
  }),
})
`
