import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ClientProcedure, RpcError, clientProcedure, createCaller, defineClientRouter, initRpc, isClientRouter, peerProxy } from '@wirecall/core'

describe('defineClientRouter', () => {
  it('lists every procedure by dotted path, and keeps each builder step apart', () => {
    const confirm = clientProcedure.input(z.object({ text: z.string() })).output(z.boolean())
    const router = defineClientRouter({ ui: { confirm, toast: clientProcedure.input(z.string()) }, ping: clientProcedure })
    expect(isClientRouter(router)).toBe(true)
    expect([...router._def.procedures.keys()]).toEqual(['ui.confirm', 'ui.toast', 'ping'])
    expect(router._def.procedures.get('ui.confirm')).toBe(confirm)
    expect(confirm._def.input).toBeDefined()
    expect(confirm._def.output).toBeDefined()
    // Immutable: the base builder has neither.
    expect(clientProcedure._def).toEqual({ input: undefined, output: undefined })
    expect(confirm).toBeInstanceOf(ClientProcedure)
  })

  it('refuses names a peer path cannot carry, and entries that are not procedures', () => {
    for (const key of ['', 'a.b', '$x', 'call', 'then']) {
      expect(() => defineClientRouter({ ui: { [key]: clientProcedure } }), key).toThrow(TypeError)
    }
    expect(() => defineClientRouter({ ui: 5 as never })).toThrow(/neither a client procedure nor a namespace/)
    expect(() => clientProcedure.input({} as never)).toThrow(/Standard Schema/)
  })
})

describe('peerProxy', () => {
  it('turns peer.<path>.call(input, options) into one call with the dotted path', async () => {
    const seen: unknown[] = []
    const peer = peerProxy(async (path, input, options) => {
      seen.push([path, input, options])
      return 'ok'
    }) as { ui: { confirm: { call(input: unknown, options?: unknown): Promise<unknown> } } }
    await expect(peer.ui.confirm.call({ text: 'x' }, { timeoutMs: 5 })).resolves.toBe('ok')
    expect(seen).toEqual([['ui.confirm', { text: 'x' }, { timeoutMs: 5 }]])
    // Not a thenable: `await peer` must not hang or call anything.
    expect(await Promise.resolve(peer)).toBe(peer)
  })

  it('a resolver run without a connection (createCaller) gets a peer that answers NOT_IMPLEMENTED', async () => {
    const clientRouter = defineClientRouter({ ui: { confirm: clientProcedure.input(z.object({ text: z.string() })).output(z.boolean()) } })
    const rpc = initRpc.peer<typeof clientRouter>().create()
    const router = rpc.router({ ask: rpc.procedure.mutation(({ peer }) => peer.ui.confirm.call({ text: 'sure?' })) })
    const error = await createCaller(router, {}).ask().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RpcError)
    expect((error as RpcError).code).toBe('NOT_IMPLEMENTED')
  })
})
