import { describe, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { clientProcedure, defineClientRouter, initRpc, type RpcError } from '@wirecall/core'
import { implementClient, type ClientHandlers } from '@wirecall/client'
import { callEach, createRpcServer, type CallEachOutcome, type ServerConnection } from '@wirecall/server'

/*
 * The types of both directions: a peer call's input and output come from
 * the client router (the schemas' input on the calling side, their output
 * on the answering side), an undeclared path does not compile, and
 * `implementClient` wants every handler with the right types.
 */

const clientRouter = defineClientRouter({
  ui: {
    confirm: clientProcedure.input(z.object({ text: z.string() })).output(z.boolean()),
    ping: clientProcedure,
  },
  /** The server sends a string, the handler gets its length; the handler returns a number, the server gets a Date. */
  measure: clientProcedure.input(z.string().transform((s) => s.length)).output(z.number().transform((n) => new Date(n))),
})

const rpc = initRpc.context<{ user: string }>().peer<typeof clientRouter>().create()

describe('peer calls on the server', () => {
  it('infer input and output from the client router in resolvers', () => {
    rpc.procedure.mutation(async ({ peer, signal }) => {
      expectTypeOf(peer.ui.confirm.call).parameter(0).toEqualTypeOf<{ text: string }>()
      const answer = await peer.ui.confirm.call({ text: 'Delete?' }, { timeoutMs: 10_000, signal })
      expectTypeOf(answer).toEqualTypeOf<boolean>()
      expectTypeOf(answer).not.toBeAny()
      const when = await peer.measure.call('abc')
      expectTypeOf(when).toEqualTypeOf<Date>()
      // No input declared: it may be left out.
      expectTypeOf(await peer.ui.ping.call()).toEqualTypeOf<unknown>()
      return answer
    })
  })

  it('refuses undeclared paths, wrong input and wrong options', () => {
    rpc.procedure.mutation(async ({ peer }) => {
      // @ts-expect-error not declared by the client router
      await peer.ui.alert.call({ text: 'hi' })
      // @ts-expect-error the input is { text: string }
      await peer.ui.confirm.call({ text: 1 })
      // @ts-expect-error the input is required
      await peer.ui.confirm.call()
      // @ts-expect-error timeoutMs is a number of milliseconds
      await peer.ui.confirm.call({ text: '?' }, { timeoutMs: '10s' })
      // @ts-expect-error a namespace is not callable
      await peer.ui.call()
    })
  })

  it('a server without .peer() gives resolvers a peer with nothing to call', () => {
    const plain = initRpc.create()
    plain.procedure.query(({ peer }) => {
      expectTypeOf(peer).toEqualTypeOf<{}>()
      // @ts-expect-error no client router declared
      void peer.ui
    })
  })

  it('server.connections() is typed by the clientRouter option and the router context', () => {
    const router = rpc.router({ noop: rpc.procedure.query(() => null) })
    const server = createRpcServer({ router, clientRouter, createContext: () => ({ user: 'ada' }) })
    const [first] = server.connections()
    expectTypeOf(first!.ctx).toEqualTypeOf<{ user: string }>()
    expectTypeOf(first!.peer.ui.confirm.call({ text: '?' })).toEqualTypeOf<Promise<boolean>>()
    // @ts-expect-error not declared by the client router
    void first!.peer.ui.alert

    const untyped = createRpcServer({ router, createContext: () => ({ user: 'ada' }) })
    expectTypeOf(untyped.connections()).toEqualTypeOf<ServerConnection<{ user: string }, {}>[]>()
  })

  it('callEach yields typed outcomes', async () => {
    const router = rpc.router({ noop: rpc.procedure.query(() => null) })
    const server = createRpcServer({ router, clientRouter, createContext: () => ({ user: 'ada' }) })
    for await (const outcome of callEach(server.connections(), ({ peer }, signal) => peer.ui.confirm.call({ text: '?' }, { signal }))) {
      expectTypeOf(outcome).toEqualTypeOf<CallEachOutcome<(typeof server.connections extends () => (infer C)[] ? C : never), boolean>>()
      if (outcome.ok) expectTypeOf(outcome.value).toEqualTypeOf<boolean>()
      else expectTypeOf(outcome.error).toEqualTypeOf<RpcError>()
      expectTypeOf(outcome.target.ctx.user).toEqualTypeOf<string>()
    }
  })
})

describe('implementClient', () => {
  it('types each handler from the client router', () => {
    const handlers = implementClient(clientRouter, {
      ui: {
        confirm: ({ text }, { signal, path }) => {
          expectTypeOf(text).toEqualTypeOf<string>()
          expectTypeOf(signal).toEqualTypeOf<AbortSignal>()
          expectTypeOf(path).toEqualTypeOf<string>()
          return text.endsWith('?')
        },
        ping: () => undefined,
      },
      measure: async (length) => {
        expectTypeOf(length).toEqualTypeOf<number>()
        return length * 1_000
      },
    })
    expectTypeOf(handlers).toEqualTypeOf<ClientHandlers>()
  })

  it('requires every handler, with the right output', () => {
    // @ts-expect-error `measure` is missing
    implementClient(clientRouter, { ui: { confirm: () => true, ping: () => undefined } })
    // @ts-expect-error `ui.ping` is missing
    implementClient(clientRouter, { ui: { confirm: () => true }, measure: (n) => n })
    implementClient(clientRouter, {
      // @ts-expect-error confirm answers a boolean
      ui: { confirm: () => 'yes', ping: () => undefined },
      measure: (n) => n,
    })
    implementClient(clientRouter, {
      ui: { confirm: () => true, ping: () => undefined },
      // @ts-expect-error measure answers a number (the output schema's input)
      measure: () => new Date(),
    })
  })
})
