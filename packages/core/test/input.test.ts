import { describe, expect, expectTypeOf, it } from 'vitest'
import * as v from 'valibot'
import { z } from 'zod'
import { createCaller, initRpc, type inferProcedureInput } from '@wirecall/core'

const rpc = initRpc.create()
const inOrg = rpc.procedure.input(z.object({ orgId: z.string() }))

describe('several .input() steps', () => {
  it('validate the raw input each and merge the results', async () => {
    let saw: unknown
    const rename = inOrg.input(v.object({ name: v.pipe(v.string(), v.trim()) })).mutation(({ input }) => {
      expectTypeOf(input).toEqualTypeOf<{ orgId: string; name: string }>()
      saw = input
      return input.name
    })
    expectTypeOf<inferProcedureInput<typeof rename>>().toEqualTypeOf<{ orgId: string; name: string }>()
    const caller = createCaller(rpc.router({ rename }), {})
    expect(await caller.rename({ orgId: 'o1', name: '  Ada ' })).toBe('Ada')
    expect(saw).toEqual({ orgId: 'o1', name: 'Ada' })
  })

  it('fail with the first schema that rejects, and never run the resolver', async () => {
    let runs = 0
    const both = inOrg.input(z.object({ n: z.number() })).query(() => ++runs)
    const caller = createCaller(rpc.router({ both }), {})
    await expect(caller.both({ orgId: 1, n: 1 } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST', data: { issues: [{ path: ['orgId'] }] } })
    await expect(caller.both({ orgId: 'o', n: 'x' } as never)).rejects.toMatchObject({ code: 'BAD_REQUEST', data: { issues: [{ path: ['n'] }] } })
    expect(runs).toBe(0)
  })

  it('let middleware between them see the inputs validated so far', async () => {
    const seen: unknown[] = []
    const p = inOrg
      .use(({ input, next }) => {
        seen.push(input)
        return next()
      })
      .input(z.object({ extra: z.boolean() }))
      .query(({ input }) => input)
    const caller = createCaller(rpc.router({ p }), {})
    expect(await caller.p({ orgId: 'o', extra: true })).toEqual({ orgId: 'o', extra: true })
    expect(seen).toEqual([{ orgId: 'o' }])
  })

  it('refuse to merge inputs that are not objects', async () => {
    const bad = rpc.procedure.input(z.string()).input(z.string()).query(() => 1)
    const caller = createCaller(rpc.router({ bad }), {})
    await expect(caller.bad('x' as never)).rejects.toMatchObject({ code: 'INTERNAL' })
  })
})
