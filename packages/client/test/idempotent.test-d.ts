import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { initRpc, type inferRouterOutputs } from '@wirecall/core'
import type { IdempotentMutationOptions, MutationOptions, RpcClient } from '@wirecall/client'

const rpc = initRpc.create()

const appRouter = rpc.router({
  pay: rpc.procedure
    .input(z.object({ orderId: z.string() }))
    .idempotent({ requireKey: true })
    .mutation(({ input, idempotencyKey }) => ({ orderId: input.orderId, key: idempotencyKey })),
  tag: rpc.procedure.idempotent().input(z.string()).mutation(({ input }) => input),
  note: rpc.procedure.input(z.string()).mutation(({ input }) => input),
})

declare const api: RpcClient<typeof appRouter>

describe('a mutation declared .idempotent() on the server', () => {
  it('carries the declaration in its procedure type, wherever .idempotent() comes in the chain', () => {
    expectTypeOf<NonNullable<(typeof appRouter)['_def']['record']['pay']['~types']>['idempotent']>().toEqualTypeOf<true>()
    expectTypeOf<NonNullable<(typeof appRouter)['_def']['record']['tag']['~types']>['idempotent']>().toEqualTypeOf<true>()
    expectTypeOf<NonNullable<(typeof appRouter)['_def']['record']['note']['~types']>['idempotent']>().toEqualTypeOf<false>()
  })

  it('takes IdempotentMutationOptions on the client, and a plain mutation MutationOptions', () => {
    expectTypeOf(api.pay.mutate).parameter(1).toEqualTypeOf<IdempotentMutationOptions | undefined>()
    expectTypeOf(api.tag.mutate).parameter(1).toEqualTypeOf<IdempotentMutationOptions | undefined>()
    expectTypeOf(api.note.mutate).parameter(1).toEqualTypeOf<MutationOptions | undefined>()
  })

  it('still accepts the caller opting out, or passing its own key', () => {
    void api.pay.mutate({ orderId: 'o' }, { idempotent: false })
    void api.pay.mutate({ orderId: 'o' }, { idempotencyKey: 'form-1' })
    expectTypeOf(api.pay.mutate({ orderId: 'o' })).resolves.toEqualTypeOf<{ orderId: string; key: string | undefined }>()
  })

  it('changes nothing in the outputs', () => {
    expectTypeOf<inferRouterOutputs<typeof appRouter>['tag']>().toEqualTypeOf<string>()
  })
})
