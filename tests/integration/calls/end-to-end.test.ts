import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { initRpc, RpcError } from '@wirecall/core'
import { connectClient, startServer } from '../../helpers/harness'

const rpc = initRpc.context<{ user?: string }>().create()
const router = rpc.router({
  greet: rpc.procedure.input(z.object({ name: z.string() })).query(({ input, ctx }) => `hello ${input.name} from ${ctx.user ?? 'nobody'}`),
  when: rpc.procedure.query(() => new Date(0)),
  boom: rpc.procedure.mutation(() => {
    throw new Error('secret')
  }),
})
type R = typeof router

describe('smoke', () => {
  it('calls a query end to end', async () => {
    const { url } = await startServer({ router, createContext: ({ connectionParams }) => ({ user: (connectionParams as { user?: string } | undefined)?.user ?? 'anon' }) })
    const api = connectClient<R>(url, { connectionParams: { user: 'ada' } })
    expect(await api.greet.query({ name: 'Bob' })).toBe('hello Bob from ada')
    const d = await api.when.query()
    expect(d).toBeInstanceOf(Date)
    const err = await api.boom.mutate().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RpcError)
    expect((err as RpcError).code).toBe('INTERNAL')
    expect((err as RpcError).message).toBe('Internal server error')
    const bad = await api.greet.query({ name: 1 as never }).catch((e: unknown) => e)
    expect((bad as RpcError).code).toBe('BAD_REQUEST')
  })
})
